package echosession_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/adapters/echo"
	"github.com/labstack/echo/v4"
)

func ok(c echo.Context) error { return c.String(http.StatusOK, "ok") }

// BenchmarkBare is the echo handler with no session middleware.
func BenchmarkBare(b *testing.B) {
	_, cookie := benchCodec(b)
	e := echo.New()
	e.GET("/", ok)
	benchHTTP(b, e, cookie, false)
}

// BenchmarkUntouched adds the session middleware; the handler never
// touches the session.
func BenchmarkUntouched(b *testing.B) {
	codec, cookie := benchCodec(b)
	e := echo.New()
	e.Use(echosession.Middleware(codec))
	e.GET("/", ok)
	benchHTTP(b, e, cookie, false)
}

// BenchmarkRoundTrip: the handler reads the session and changes it; the
// middleware opens and reseals the cookie.
func BenchmarkRoundTrip(b *testing.B) {
	codec, cookie := benchCodec(b)
	e := echo.New()
	e.Use(echosession.Middleware(codec))
	e.GET("/", func(c echo.Context) error {
		if !roundTrip(echosession.Session(c, codec)) {
			return echo.NewHTTPError(http.StatusInternalServerError)
		}
		return c.String(http.StatusOK, "ok")
	})
	benchHTTP(b, e, cookie, true)
}

// benchHTTP serves req with h over and over, a fresh recorder each time,
// then checks one response: 200 "ok", with a Set-Cookie iff wantCookie.
func benchHTTP(b *testing.B, h http.Handler, cookie string, wantCookie bool) {
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

// benchCodec returns a codec and the Cookie header of a SMALL session as in
// the benchmarks module: user_id, name, roles, a 64-digit csrf token and an
// SMS code.
func benchCodec(b *testing.B) (*cookiesession.Codec, string) {
	b.Helper()
	k, err := cookiesession.GenerateKey("k1")
	if err != nil {
		b.Fatal(err)
	}
	keys, err := cookiesession.NewKeyring(k)
	if err != nil {
		b.Fatal(err)
	}
	codec, err := cookiesession.NewCodec(cookiesession.Config{Keys: keys})
	if err != nil {
		b.Fatal(err)
	}
	s := codec.New()
	s.Set("user_id", int64(42))
	s.Set("name", "Alice")
	s.Set("roles", []string{"admin", "editor"})
	s.Set("csrf", strings.Repeat("0123456789abcdef", 4))
	s.Set("sms_code", "493817")
	v, err := codec.Encode(s)
	if err != nil {
		b.Fatal(err)
	}
	return codec, codec.Name() + "=" + v
}

// roundTrip is the session work of one request: open the cookie, read a
// key, set one (sealed when the response commits). It reports whether the
// read found the value the cookie carries.
func roundTrip(s *cookiesession.Session) bool {
	ok := cookiesession.GetOr(s, "user_id", int64(0)) == 42
	s.Set("visits", int64(1))
	return ok
}
