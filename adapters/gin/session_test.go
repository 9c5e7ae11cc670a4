package ginsession_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/adapters/gin"
	"github.com/cookiesession/cookiesession/internal/adaptertest"
	"github.com/gin-gonic/gin"
)

// TestStatusThenChange: in gin, c.Status only records the status, so a
// change made after it and before the first byte is still saved, and the
// cookie goes out with that status.
func TestStatusThenChange(t *testing.T) {
	codec := adaptertest.NewCodec(t, cookiesession.Config{Name: "session"})
	r := gin.New()
	r.Use(ginsession.Middleware(codec))
	r.POST("/", func(c *gin.Context) {
		c.Status(http.StatusAccepted)
		ginsession.Session(c, codec).Set("after_status", true)
		_, _ = c.Writer.WriteString("queued")
	})
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	if rec.Code != http.StatusAccepted {
		t.Errorf("status %d, want 202", rec.Code)
	}
	resp := rec.Result()
	s, err := codec.DecodeCookies(resp.Cookies())
	if err != nil {
		t.Fatalf("Set-Cookie %q does not open: %v", resp.Header.Values("Set-Cookie"), err)
	}
	if !s.Has("after_status") {
		t.Error("the change made after c.Status was not saved")
	}
}

// TestTwoCodecs: two codecs' middleware in one chain; each handler call
// lands in its own codec's cookie.
func TestTwoCodecs(t *testing.T) {
	auth, prefs := adaptertest.NewCodec(t, cookiesession.Config{Name: "auth"}), adaptertest.NewCodec(t, cookiesession.Config{Name: "prefs"})
	r := gin.New()
	r.Use(ginsession.Middleware(auth), ginsession.Middleware(prefs))
	r.GET("/", func(c *gin.Context) {
		ginsession.Session(c, auth).Set("user", "ada")
		ginsession.Session(c, prefs).Set("theme", "dark")
		c.String(http.StatusOK, "ok")
	})
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	adaptertest.CheckTwoCodecs(t, rec.Result().Cookies(), auth, prefs)
}

// TestHijack: a handler that takes over the connection finds the session's
// Set-Cookie in the header map, to send on its own response.
func TestHijack(t *testing.T) {
	codec := adaptertest.NewCodec(t, cookiesession.Config{Name: "session"})
	r := gin.New()
	r.Use(ginsession.Middleware(codec))
	r.GET("/", func(c *gin.Context) {
		ginsession.Session(c, codec).Set("user", "ada")
		conn, rw, err := c.Writer.Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		fmt.Fprint(rw, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n")
		for _, line := range c.Writer.Header().Values("Set-Cookie") {
			fmt.Fprintf(rw, "Set-Cookie: %s\r\n", line)
		}
		fmt.Fprint(rw, "\r\n")
		rw.Flush()
	})
	srv := httptest.NewServer(r)
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
