package e2e

// Cross-site request forgery in a real Chromium: a form on another site
// posts to an app behind Codec.CSRF and must be refused with 403, while the
// app's own form works.

import (
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/cookiesession/cookiesession"
)

// csrfSeen is what the app saw of the last POST, before any middleware.
type csrfSeen struct {
	mu            sync.Mutex
	hadCookie     bool
	secFetchSite  string
	transfers     int
	lastTransfers string
}

func TestCSRFCrossSiteFormPost(t *testing.T) {
	ctx := isolatedTab(t)

	// SameSite=None, so that the browser does send the session cookie on
	// the cross-site POST: what refuses it below is the CSRF check, not
	// SameSite. (Chromium keeps Secure cookies on http://127.0.0.1.)
	key, err := cookiesession.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := cookiesession.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := cookiesession.NewCodec(cookiesession.Config{
		Keys:     keys,
		SameSite: http.SameSiteNoneMode,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	var seen csrfSeen
	mux := http.NewServeMux()
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		tok := cookiesession.FromContext(r.Context()).CSRFToken()
		fmt.Fprintf(w, `<!doctype html><title>bank</title>
<form id="transfer" method="post" action="/transfer">
<input type="hidden" name="%s" value="%s">
<input id="amount" name="amount"><button type="submit">Send</button>
</form>`, cookiesession.CSRFField, html.EscapeString(tok))
	})
	mux.HandleFunc("POST /transfer", func(w http.ResponseWriter, r *http.Request) {
		seen.mu.Lock()
		seen.transfers++
		seen.lastTransfers = r.PostFormValue("amount")
		seen.mu.Unlock()
		fmt.Fprintf(w, "transferred %s", html.EscapeString(r.PostFormValue("amount")))
	})
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			seen.mu.Lock()
			seen.hadCookie = strings.Contains(r.Header.Get("Cookie"), "session=")
			seen.secFetchSite = r.Header.Get("Sec-Fetch-Site")
			seen.mu.Unlock()
		}
		codec.Middleware(codec.CSRF(mux)).ServeHTTP(w, r)
	}))
	t.Cleanup(app.Close)

	// The attacker's site: another host name for the loopback address, so
	// another site to the browser. Its form posts to the app, with a token
	// if the test hands it one.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := ""
		if tok := r.URL.Query().Get("token"); tok != "" {
			token = fmt.Sprintf(`<input type="hidden" name="%s" value="%s">`, cookiesession.CSRFField, html.EscapeString(tok))
		}
		fmt.Fprintf(w, `<!doctype html><title>prize</title>
<form id="evil" method="post" action="%s/transfer">%s
<input type="hidden" name="amount" value="1000000"><button type="submit">Claim your prize</button>
</form>`, app.URL, token)
	}))
	t.Cleanup(evil.Close)
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)

	// The app's own form works, and gives the browser its session cookie.
	if status := navigate(t, ctx, app.URL+"/form"); status != http.StatusOK {
		t.Fatalf("GET /form: %d", status)
	}
	leaked := evalString(t, ctx, `document.querySelector('input[name="`+cookiesession.CSRFField+`"]').value`)
	if status := submitForm(t, ctx, map[string]string{"#amount": "10"}, `#transfer button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("the app's own form: status %d, want 200; page:\n%s", status, pageText(t, ctx))
	}
	if got := pageText(t, ctx); !strings.Contains(got, "transferred 10") {
		t.Errorf("the app's own form: page %q", got)
	}
	seen.mu.Lock()
	if seen.secFetchSite != "same-origin" || !seen.hadCookie {
		t.Errorf("same-origin POST: Sec-Fetch-Site %q, cookie %v", seen.secFetchSite, seen.hadCookie)
	}
	seen.mu.Unlock()

	for _, tc := range []struct{ name, query string }{
		{"without a token", ""},
		{"with a valid token of the victim's session", "?token=" + url.QueryEscape(leaked)},
	} {
		if status := navigate(t, ctx, evilURL+"/"+tc.query); status != http.StatusOK {
			t.Fatalf("%s: GET the attacker's page: %d", tc.name, status)
		}
		status := clickAndWait(t, ctx, `#evil button[type="submit"]`)
		if status != http.StatusForbidden {
			t.Errorf("%s: the cross-site post got %d, want 403", tc.name, status)
		}
		if got := pageText(t, ctx); !strings.Contains(got, "CSRF") {
			t.Errorf("%s: the 403 page says %q; want it to name the CSRF check", tc.name, got)
		}
		seen.mu.Lock()
		if !seen.hadCookie {
			t.Errorf("%s: the browser did not send the session cookie cross-site; the test proves nothing about the CSRF check", tc.name)
		}
		if seen.secFetchSite != "cross-site" {
			t.Errorf("%s: Sec-Fetch-Site %q, want cross-site", tc.name, seen.secFetchSite)
		}
		seen.mu.Unlock()
	}
	seen.mu.Lock()
	if seen.transfers != 1 || seen.lastTransfers != "10" {
		t.Errorf("the app handled %d transfers, the last of %q; want only the same-site one of 10", seen.transfers, seen.lastTransfers)
	}
	seen.mu.Unlock()

	// The app's form still works after the attacks.
	if status := navigate(t, ctx, app.URL+"/form"); status != http.StatusOK {
		t.Fatalf("GET /form: %d", status)
	}
	if status := submitForm(t, ctx, map[string]string{"#amount": "20"}, `#transfer button[type="submit"]`); status != http.StatusOK {
		t.Errorf("the app's own form after the attacks: status %d", status)
	}
}
