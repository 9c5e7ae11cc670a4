package e2e

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// smokeHandler serves a form page that sets two cookies, and a result page
// that echoes the submitted name and the cookies the server received.
func smokeHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "smoke", Value: "1", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.SetCookie(w, &http.Cookie{Name: "visible", Value: "2", Path: "/"})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>form</title>
<h1 id="title">Smoke form</h1>
<form method="post" action="/submit">
  <input id="name" name="name" type="text">
  <button id="go" type="submit">Send</button>
</form>`)
	})
	mux.HandleFunc("POST /submit", func(w http.ResponseWriter, r *http.Request) {
		smoke := "missing"
		if c, err := r.Cookie("smoke"); err == nil {
			smoke = c.Value
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>result</title><p id="result">hello %s; smoke cookie %s</p>`,
			html.EscapeString(r.PostFormValue("name")), html.EscapeString(smoke))
	})
	return mux
}

func TestBrowserSmoke(t *testing.T) {
	ctx := newBrowser(t)
	srv := httptest.NewServer(smokeHandler())
	t.Cleanup(srv.Close)

	if status := navigate(t, ctx, srv.URL+"/form"); status != http.StatusOK {
		t.Fatalf("GET /form: status %d", status)
	}
	if got := elementText(t, ctx, "#title"); got != "Smoke form" {
		t.Errorf("title text = %q, want %q", got, "Smoke form")
	}
	if got := pageText(t, ctx); !strings.Contains(got, "Smoke form") {
		t.Errorf("page text %q lacks %q", got, "Smoke form")
	}

	// JavaScript sees the plain cookie but not the HttpOnly one.
	dc := documentCookie(t, ctx)
	if !strings.Contains(dc, "visible=2") {
		t.Errorf("document.cookie = %q, want it to contain visible=2", dc)
	}
	if strings.Contains(dc, "smoke") {
		t.Errorf("document.cookie = %q exposes the HttpOnly cookie smoke", dc)
	}

	// The cookie store holds the HttpOnly cookie as a session cookie.
	c, ok := storeCookie(t, ctx, "smoke")
	if !ok {
		t.Fatalf("cookie store lacks smoke; has %+v", storeCookies(t, ctx))
	}
	if c.Value != "1" || !c.HTTPOnly || c.Secure || !c.Session || !c.Expires.IsZero() ||
		c.SameSite != "Lax" || c.Path != "/" || c.Domain != "127.0.0.1" {
		t.Errorf("smoke cookie = %+v, want value 1, HttpOnly, not Secure, session, SameSite Lax, path /, domain 127.0.0.1", c)
	}
	v, ok := storeCookie(t, ctx, "visible", srv.URL+"/")
	if !ok || v.Value != "2" || v.HTTPOnly || v.SameSite != "" {
		t.Errorf("visible cookie = %+v (found %v), want value 2, not HttpOnly, no SameSite", v, ok)
	}

	// Submit the form and read the resulting page.
	status := submitForm(t, ctx, map[string]string{"#name": "Ada <3"}, "#go")
	if status != http.StatusOK {
		t.Fatalf("POST /submit: status %d", status)
	}
	if got, want := elementText(t, ctx, "#result"), "hello Ada <3; smoke cookie 1"; got != want {
		t.Errorf("result text = %q, want %q", got, want)
	}
	if got := pageText(t, ctx); !strings.Contains(got, "hello Ada <3") {
		t.Errorf("page text after submit = %q", got)
	}

	// Clearing the store removes both cookies.
	clearCookies(t, ctx)
	if all := storeCookies(t, ctx, srv.URL+"/"); len(all) != 0 {
		t.Errorf("after clearCookies the store still has %+v", all)
	}
}
