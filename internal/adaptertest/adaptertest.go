// Package adaptertest holds what the framework adapters' tests and
// benchmarks share, so that every stack is held to the same checks and
// measures the same work: codecs with a fresh key, the SMALL session of
// internal/benchdata sealed in a cookie, one request's session work, and
// the two-codecs check. It imports only the standard library and the root
// package.
package adaptertest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/internal/benchdata"
)

// NewCodec returns a codec made from cfg with a fresh key "k1" as its
// keyring.
func NewCodec(tb testing.TB, cfg cookiesession.Config) *cookiesession.Codec {
	tb.Helper()
	k, err := cookiesession.GenerateKey("k1")
	if err != nil {
		tb.Fatal(err)
	}
	if cfg.Keys, err = cookiesession.NewKeyring(k); err != nil {
		tb.Fatal(err)
	}
	codec, err := cookiesession.NewCodec(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return codec
}

// Codec returns a codec with a fresh key and the Cookie header of the SMALL
// session sealed by it.
func Codec(tb testing.TB) (*cookiesession.Codec, string) {
	tb.Helper()
	codec := NewCodec(tb, cookiesession.Config{})
	s := codec.New()
	for _, kv := range benchdata.Small() {
		s.Set(kv.Key, kv.Value)
	}
	v, err := codec.Encode(s)
	if err != nil {
		tb.Fatal(err)
	}
	return codec, codec.Name() + "=" + v
}

// CheckTwoCodecs checks the cookies a response set with two codecs'
// middleware in one chain, after a handler stored "user" in auth's session
// and "theme" in prefs's: each codec's cookie holds its own key and not
// the other's.
func CheckTwoCodecs(tb testing.TB, cookies []*http.Cookie, auth, prefs *cookiesession.Codec) {
	tb.Helper()
	for _, tc := range []struct {
		codec     *cookiesession.Codec
		has, lack string
	}{{auth, "user", "theme"}, {prefs, "theme", "user"}} {
		var mine []*http.Cookie
		for _, ck := range cookies {
			if ck.Name == tc.codec.Name() {
				mine = append(mine, ck)
			}
		}
		s, err := tc.codec.DecodeCookies(mine)
		if err != nil {
			tb.Fatalf("%s: %v (cookies %v)", tc.codec.Name(), err, cookies)
		}
		if !s.Has(tc.has) || s.Has(tc.lack) {
			tb.Errorf("%s cookie: has %s %v, has %s %v", tc.codec.Name(), tc.has, s.Has(tc.has), tc.lack, s.Has(tc.lack))
		}
	}
}

// RoundTrip is the session work of one request: open the cookie, read a
// key, set one (sealed when the response commits). It reports whether the
// read found the value the cookie carries.
func RoundTrip(s *cookiesession.Session) bool {
	ok := cookiesession.GetOr(s, "user_id", int64(0)) == 42
	s.Set("visits", int64(1))
	return ok
}

// ServeHTTP serves a GET / carrying cookie with h over and over, a fresh
// recorder each time, then checks one response: 200 "ok", with a
// Set-Cookie if and only if wantCookie.
func ServeHTTP(b *testing.B, h http.Handler, cookie string, wantCookie bool) {
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", cookie)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Body.String() != "ok" {
		b.Fatalf("%d %q", rec.Code, rec.Body)
	}
	if got := len(rec.Result().Header.Values("Set-Cookie")) > 0; got != wantCookie {
		b.Fatalf("Set-Cookie present: %v, want %v", got, wantCookie)
	}
}
