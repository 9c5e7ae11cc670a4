package echosession_test

import (
	"net/http"
	"testing"

	"github.com/cookiesession/cookiesession/adapters/echo"
	"github.com/cookiesession/cookiesession/internal/adaptertest"
	"github.com/labstack/echo/v4"
)

func ok(c echo.Context) error { return c.String(http.StatusOK, "ok") }

// BenchmarkBare is the echo handler with no session middleware.
func BenchmarkBare(b *testing.B) {
	_, cookie := adaptertest.Codec(b)
	e := echo.New()
	e.GET("/", ok)
	adaptertest.ServeHTTP(b, e, cookie, false)
}

// BenchmarkUntouched adds the session middleware; the handler never
// touches the session.
func BenchmarkUntouched(b *testing.B) {
	codec, cookie := adaptertest.Codec(b)
	e := echo.New()
	e.Use(echosession.Middleware(codec))
	e.GET("/", ok)
	adaptertest.ServeHTTP(b, e, cookie, false)
}

// BenchmarkRoundTrip: the handler reads the session and changes it; the
// middleware opens and reseals the cookie.
func BenchmarkRoundTrip(b *testing.B) {
	codec, cookie := adaptertest.Codec(b)
	e := echo.New()
	e.Use(echosession.Middleware(codec))
	e.GET("/", func(c echo.Context) error {
		if !adaptertest.RoundTrip(echosession.Session(c, codec)) {
			return echo.NewHTTPError(http.StatusInternalServerError)
		}
		return c.String(http.StatusOK, "ok")
	})
	adaptertest.ServeHTTP(b, e, cookie, true)
}
