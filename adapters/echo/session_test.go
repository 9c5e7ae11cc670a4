package echosession_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/adapters/echo"
	"github.com/cookiesession/cookiesession/internal/adaptertest"
	"github.com/labstack/echo/v4"
)

// TestTwoCodecs: two codecs' middleware in one chain; each handler call
// lands in its own codec's cookie.
func TestTwoCodecs(t *testing.T) {
	auth, prefs := adaptertest.NewCodec(t, cookiesession.Config{Name: "auth"}), adaptertest.NewCodec(t, cookiesession.Config{Name: "prefs"})
	e := echo.New()
	e.Use(echosession.Middleware(auth), echosession.Middleware(prefs))
	e.GET("/", func(c echo.Context) error {
		echosession.Session(c, auth).Set("user", "ada")
		echosession.Session(c, prefs).Set("theme", "dark")
		return c.String(http.StatusOK, "ok")
	})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	adaptertest.CheckTwoCodecs(t, rec.Result().Cookies(), auth, prefs)
}

// TestErrorReturnedOnce: the middleware hands a handler's error to echo's
// error handler, and echo does not answer it a second time.
func TestErrorReturnedOnce(t *testing.T) {
	codec := adaptertest.NewCodec(t, cookiesession.Config{Name: "session"})
	e := echo.New()
	calls := 0
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		calls++
		if c.Response().Committed {
			return
		}
		e.DefaultHTTPErrorHandler(err, c)
	}
	e.Use(echosession.Middleware(codec))
	e.GET("/", func(c echo.Context) error {
		echosession.Session(c, codec).Set("user", "eve")
		return echo.NewHTTPError(http.StatusTeapot)
	})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusTeapot {
		t.Errorf("status %d, want 418", rec.Code)
	}
	if calls != 2 { // once inside the middleware, once by echo, which sees a committed response
		t.Errorf("error handler called %d times, want 2", calls)
	}
	if len(rec.Result().Cookies()) != 1 {
		t.Errorf("a 4xx error page: Set-Cookie %q, want the change saved", rec.Result().Header.Values("Set-Cookie"))
	}
}

// TestHijack: a handler that takes over the connection finds the session's
// Set-Cookie in the header map, to send on its own response.
func TestHijack(t *testing.T) {
	codec := adaptertest.NewCodec(t, cookiesession.Config{Name: "session"})
	e := echo.New()
	e.Use(echosession.Middleware(codec))
	e.GET("/", func(c echo.Context) error {
		echosession.Session(c, codec).Set("user", "ada")
		conn, rw, err := c.Response().Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return nil
		}
		defer conn.Close()
		fmt.Fprint(rw, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n")
		for _, line := range c.Response().Header().Values("Set-Cookie") {
			fmt.Fprintf(rw, "Set-Cookie: %s\r\n", line)
		}
		fmt.Fprint(rw, "\r\n")
		return rw.Flush()
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s, err := codec.DecodeCookies(resp.Cookies())
	if err != nil || !s.Has("user") {
		t.Errorf("the hijacked response's cookie: %v (Set-Cookie %q)", err, resp.Header.Values("Set-Cookie"))
	}
}
