package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

// Replay attacks on the SMS login: a client that saves its cookie and sends
// the saved copy again, as issue 10 describes. The demo's guard must hold.

// replay posts form to path with the raw cookie value instead of the jar's
// and the CSRF token of the last page the browser fetched (a token of the
// saved cookie's session, since the secret it checks against travels in the
// session), and returns the status, where a 303 leads, and the session
// cookie value the response sets ("" for none or a deletion).
func (b *browser) replay(path, cookie string, form url.Values) (status int, location, setCookie string) {
	b.t.Helper()
	form.Set("csrf_token", b.csrf)
	req, err := http.NewRequest(http.MethodPost, b.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "session="+cookie)
	resp, err := b.srv.Client().Transport.RoundTrip(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == "session" {
			setCookie = ck.Value
		}
	}
	return resp.StatusCode, resp.Header.Get("Location"), setCookie
}

// pageWith fetches path with the raw cookie value.
func (b *browser) pageWith(path, cookie string) string {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", "session="+cookie)
	}
	resp, err := b.srv.Client().Transport.RoundTrip(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s: %s, %v", path, resp.Status, err)
	}
	return string(body)
}

// TestDemoSMSReplayLockedOut is issue 10's attack: save the cookie right
// after "Send code", replay it for 2,000 guesses, the last one right. Only
// smsMaxTries guesses are ever compared; none logs in.
func TestDemoSMSReplayLockedOut(t *testing.T) {
	b := newBrowser(t)
	_, page := b.post("/sms/send", url.Values{"phone": {"+1 555 0100"}})
	code := mustID(t, page, "sms-code")
	saved := b.cookie()

	const guesses = 2000
	wrongs := make([]string, 0, guesses-1)
	for i := 0; len(wrongs) < guesses-1; i++ {
		if g := fmt.Sprintf("%06d", i); g != code {
			wrongs = append(wrongs, g)
		}
	}
	for i, guess := range append(wrongs, code) {
		status, loc, set := b.replay("/sms/check", saved, url.Values{"code": {guess}})
		if status != http.StatusSeeOther || loc != "/" {
			t.Fatalf("guess %d (%s): %d to %q; want 303 to /", i+1, guess, status, loc)
		}
		want := "Wrong code"
		if i >= smsMaxTries {
			want = "Too many wrong codes: wait a few minutes, then ask for a new one"
		}
		if got := flashes(b.pageWith("/", set)); len(got) != 1 || got[0] != want {
			t.Fatalf("guess %d: flashes %q, want %q", i+1, got, want)
		}
	}
}

// TestDemoSMSReplayAfterLogin: the code logs in once. The cookie saved
// before login (which still carries the code) no longer opens, because
// login renews the session ID and the guard revokes the old one; and the
// logged-in cookie no longer opens after logout.
func TestDemoSMSReplayAfterLogin(t *testing.T) {
	b := newBrowser(t)
	_, page := b.post("/sms/send", url.Values{"phone": {"+1 555 0100"}})
	code := mustID(t, page, "sms-code")
	saved := b.cookie()
	_, page = b.post("/sms/check", url.Values{"code": {code}})
	wantFlash(t, page, "Logged in")
	loggedIn := b.cookie()

	// The pre-login session is revoked, so it opens empty: without the
	// CSRF secret it carried, the form is refused before it is read.
	if status, loc, _ := b.replay("/sms/check", saved, url.Values{"code": {code}}); status != http.StatusForbidden {
		t.Fatalf("the right code, replayed after login: %d to %q; want 403", status, loc)
	}
	if s, err := b.codec.Decode(saved); !errors.Is(err, cookiesession.ErrRevoked) {
		t.Errorf("the pre-login cookie after login: %v, %v; want ErrRevoked", s, err)
	}

	if got := mustID(t, b.pageWith("/session", loggedIn), "user"); got != "+1 555 0100" {
		t.Fatalf("logged-in cookie: user %q", got)
	}
	_, page = b.post("/session/flush", nil)
	wantFlash(t, page, "Logged out: session flushed")
	if _, ok := byID(b.pageWith("/session", loggedIn), "user"); ok {
		t.Error("the cookie from before logout still logs in")
	}
}

// failingGuard is a guard whose store is down.
type failingGuard struct{}

var errStoreDown = errors.New("connection refused")

func (failingGuard) Consume(context.Context, string, time.Duration) (bool, error) {
	return false, errStoreDown
}
func (failingGuard) Count(context.Context, string, time.Duration) (int64, error) {
	return 0, errStoreDown
}
func (failingGuard) Revoke(context.Context, string, time.Time, time.Duration) error {
	return errStoreDown
}
func (failingGuard) RevokedAt(context.Context, ...string) ([]time.Time, error) {
	return nil, errStoreDown
}

// TestDemoSMSGuardDown: with the guard's store down, no code is checked
// (fail closed) and nothing panics or errors; the session itself still
// works.
func TestDemoSMSGuardDown(t *testing.T) {
	b := newBrowserWith(t, failingGuard{})
	_, page := b.post("/sms/send", url.Values{"phone": {"+1 555 0100"}})
	code := mustID(t, page, "sms-code")
	_, page = b.post("/sms/check", url.Values{"code": {code}})
	wantFlash(t, page, "Codes cannot be checked right now: try again shortly")
	if _, ok := byID(page, "user"); ok {
		t.Fatal("logged in without the guard")
	}
	if got := mustID(t, page, "sms-code"); got != code {
		t.Errorf("the code after a failed check %q, want it kept", got)
	}
}
