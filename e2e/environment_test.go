package e2e

// These tests pin down how this Chromium treats the setups the library's
// browser tests rely on: Secure cookies on plain-HTTP loopback, httptest's
// self-signed TLS, and session cookies across a browser restart.

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// secureCookieHandler sets a Secure cookie and reports the Cookie header it
// received.
func secureCookieHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sec", Value: "s", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		fmt.Fprintf(w, "<p id=seen>cookie header: %s</p>", r.Header.Get("Cookie"))
	})
}

// assertSecureCookieRoundTrip loads url twice and checks the Secure cookie
// was stored after the first load and sent back on the second.
func assertSecureCookieRoundTrip(t *testing.T, url string, extra ...chromedp.ExecAllocatorOption) {
	t.Helper()
	ctx := newBrowser(t, extra...)
	navigate(t, ctx, url)
	c, ok := storeCookie(t, ctx, "sec")
	if !ok {
		t.Fatalf("%s: Secure cookie not stored; store has %+v", url, storeCookies(t, ctx))
	}
	if !c.Secure || !c.HTTPOnly || !c.Session || c.SameSite != "Lax" {
		t.Errorf("%s: sec cookie = %+v", url, c)
	}
	navigate(t, ctx, url)
	if got := elementText(t, ctx, "#seen"); got != "cookie header: sec=s" {
		t.Errorf("%s: server saw %q, want the Secure cookie sent back", url, got)
	}
}

// Chromium treats http://127.0.0.1 and http://localhost as potentially
// trustworthy: Secure cookies set over plain HTTP there are stored and sent.
func TestSecureCookieOverHTTPLoopback(t *testing.T) {
	srv := httptest.NewServer(secureCookieHandler())
	t.Cleanup(srv.Close)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	for _, host := range []string{"127.0.0.1", "localhost"} {
		t.Run(host, func(t *testing.T) {
			assertSecureCookieRoundTrip(t, "http://"+host+":"+port+"/")
		})
	}
}

// httptest.NewTLSServer works once certificate errors are ignored, and is
// refused otherwise.
func TestTLSServer(t *testing.T) {
	srv := httptest.NewUnstartedServer(secureCookieHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // rejected handshakes are expected below
	srv.StartTLS()
	t.Cleanup(srv.Close)

	t.Run("ignore-certificate-errors", func(t *testing.T) {
		assertSecureCookieRoundTrip(t, srv.URL+"/", ignoreCertErrors)
	})
	t.Run("default", func(t *testing.T) {
		ctx := newBrowser(t)
		_, err := chromedp.RunResponse(ctx, chromedp.Navigate(srv.URL+"/"))
		if err == nil || !strings.Contains(err.Error(), "ERR_CERT_AUTHORITY_INVALID") {
			t.Errorf("navigate without ignoring certificate errors: err = %v, want ERR_CERT_AUTHORITY_INVALID", err)
		}
	})
}

// Reopening the browser on the same profile drops session cookies and keeps
// persistent ones.
func TestRestartDropsSessionCookies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sess", Value: "1", Path: "/"})
		http.SetCookie(w, &http.Cookie{Name: "keep", Value: "2", Path: "/", MaxAge: 3600})
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	ctx, stop := startBrowser(t, dir)
	navigate(t, ctx, srv.URL+"/")
	if c, ok := storeCookie(t, ctx, "sess"); !ok || !c.Session || !c.Expires.IsZero() {
		t.Fatalf("sess = %+v (found %v), want a session cookie", c, ok)
	}
	if c, ok := storeCookie(t, ctx, "keep"); !ok || c.Session || c.Expires.IsZero() {
		t.Fatalf("keep = %+v (found %v), want a persistent cookie", c, ok)
	}

	ctx, _ = restartBrowser(t, dir, stop)
	if c, ok := storeCookie(t, ctx, "sess", srv.URL+"/"); ok {
		t.Errorf("session cookie survived the restart: %+v", c)
	}
	if c, ok := storeCookie(t, ctx, "keep", srv.URL+"/"); !ok || c.Value != "2" {
		t.Errorf("persistent cookie lost in the restart: %+v (found %v)", c, ok)
	}
}
