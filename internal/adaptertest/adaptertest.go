// Package adaptertest holds what the framework adapters' benchmarks share,
// so that every stack measures the same work: a codec with the SMALL
// session of internal/benchdata sealed in a cookie, and one request's
// session work. It imports only the standard library and the root package.
package adaptertest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/internal/benchdata"
)

// Codec returns a codec with a fresh key and the Cookie header of the SMALL
// session sealed by it.
func Codec(tb testing.TB) (*cookiesession.Codec, string) {
	tb.Helper()
	k, err := cookiesession.GenerateKey("k1")
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := cookiesession.NewKeyring(k)
	if err != nil {
		tb.Fatal(err)
	}
	codec, err := cookiesession.NewCodec(cookiesession.Config{Keys: keys})
	if err != nil {
		tb.Fatal(err)
	}
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
