package e2e

// End-to-end tests of the `cookiesession demo` command itself: the test
// builds the real binary from ../cmd/cookiesession (this module cannot
// import package main), runs it on a free loopback port and drives its
// pages in headless Chromium.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/cookiesession/cookiesession"
)

// demoStartTimeout bounds how long the demo may take to answer once started.
const demoStartTimeout = 10 * time.Second

// demoLog collects the demo's stdout and stderr, for failure messages. exec
// copies into it from its own goroutines.
type demoLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *demoLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *demoLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// buildDemo builds the cookiesession command into a temporary directory and
// returns its path. It builds in the repository root, so the root module
// (not this one, through its replace directive) is the main module.
func buildDemo(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cookiesession")
	build := exec.Command("go", "build", "-o", bin, "./cmd/cookiesession")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/cookiesession: %v\n%s", err, out)
	}
	return bin
}

// freeLoopbackPort returns a TCP port on 127.0.0.1 that was free a moment
// ago. Another process may take it before the demo listens; the demo then
// exits and startDemo reports it.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// startDemo builds and runs `cookiesession demo` on a free loopback port,
// with the extra flags given, waits until it serves its index page and
// returns its base URL ("http://127.0.0.1:PORT"). The process is killed
// when the test ends.
func startDemo(t *testing.T, extra ...string) string {
	t.Helper()
	start := time.Now()
	bin := buildDemo(t)
	built := time.Since(start)
	addr := fmt.Sprintf("127.0.0.1:%d", freeLoopbackPort(t))
	base := "http://" + addr

	var logs demoLog
	cmd := exec.Command(bin, append([]string{"demo", "-addr", addr}, extra...)...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s demo: %v", bin, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // fails only if it has already exited
		<-exited
		if t.Failed() {
			t.Logf("demo output:\n%s", logs.String())
		}
	})

	client := &http.Client{
		Timeout:       time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	deadline := time.Now().Add(demoStartTimeout)
	for {
		select {
		case <-exited:
			t.Fatalf("the demo exited before answering: %v\n%s", waitErr, logs.String())
		default:
		}
		resp, err := client.Get(base + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Logf("demo on %s: built in %v, answering %v later", base, built.Round(time.Millisecond), (time.Since(start) - built).Round(time.Millisecond))
				return base
			}
			err = fmt.Errorf("GET /: %s", resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo did not answer on %s within %v: %v\n%s", base, demoStartTimeout, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// demoFlashes returns the text of the page's .flash messages.
func demoFlashes(t *testing.T, ctx context.Context) []string {
	t.Helper()
	var out []string
	run(t, ctx, "read .flash", chromedp.Evaluate(`Array.from(document.querySelectorAll(".flash"), e => e.textContent)`, &out))
	return out
}

// demoHas reports whether the page has an element matching the selector,
// without waiting for one.
func demoHas(t *testing.T, ctx context.Context, selector string) bool {
	t.Helper()
	var ok bool
	run(t, ctx, "query "+selector, chromedp.Evaluate(fmt.Sprintf("document.querySelector(%q) !== null", selector), &ok))
	return ok
}

// demoPath returns the path of the page the tab shows.
func demoPath(t *testing.T, ctx context.Context) string {
	t.Helper()
	return evalString(t, ctx, "location.pathname")
}

// demoSubmit clicks the submit button of the form with the given id and
// fails unless the page it lands on (after the demo's 303) loads with 200.
func demoSubmit(t *testing.T, ctx context.Context, formID string) {
	t.Helper()
	if status := clickAndWait(t, ctx, "#"+formID+` button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("submitting #%s: status %d, want 200", formID, status)
	}
}

var sixDigits = regexp.MustCompile(`^[0-9]{6}$`)

// demoSendCode asks for a code for phone on the index page and returns the
// code the demo's stand-in SMS gateway shows.
func demoSendCode(t *testing.T, ctx context.Context, base, phone string) string {
	t.Helper()
	if status := navigate(t, ctx, base+"/"); status != http.StatusOK {
		t.Fatalf("GET /: status %d", status)
	}
	fillInput(t, ctx, "#phone", phone)
	demoSubmit(t, ctx, "send-form")
	if f := demoFlashes(t, ctx); !slices.Contains(f, "Code sent to "+phone) {
		t.Errorf("flashes after sending %q, want %q", f, "Code sent to "+phone)
	}
	if !demoHas(t, ctx, "#sms-code") {
		t.Fatalf("no #sms-code after sending a code; page:\n%s", pageText(t, ctx))
	}
	code := elementText(t, ctx, "#sms-code")
	if !sixDigits.MatchString(code) {
		t.Fatalf("#sms-code %q is not six digits", code)
	}
	return code
}

// demoLogin logs in as phone with the right code and checks that the page
// shows the user.
func demoLogin(t *testing.T, ctx context.Context, base, phone string) {
	t.Helper()
	code := demoSendCode(t, ctx, base, phone)
	fillInput(t, ctx, "#code", code)
	demoSubmit(t, ctx, "check-form")
	if !demoHas(t, ctx, "#user") {
		t.Fatalf("not logged in after the right code; page:\n%s", pageText(t, ctx))
	}
	if got := elementText(t, ctx, "#user"); got != phone {
		t.Fatalf("#user %q after login, want %q", got, phone)
	}
}

func TestDemoSMSLogin(t *testing.T) {
	base := startDemo(t)
	ctx := newBrowser(t)
	const phone = "+1 555 0100"

	if status := navigate(t, ctx, base+"/"); status != http.StatusOK {
		t.Fatalf("GET /: status %d", status)
	}
	if demoHas(t, ctx, "#user") || !strings.Contains(pageText(t, ctx), "Not logged in") {
		t.Fatalf("a first visit is logged in; page:\n%s", pageText(t, ctx))
	}
	// The page's forms carry CSRF tokens, so a first visit gets a session
	// cookie holding the CSRF secret (and no user).
	if _, ok := storeCookie(t, ctx, "session", base+"/"); !ok {
		t.Error("a first visit got no session cookie for its CSRF secret")
	}

	code := demoSendCode(t, ctx, base, phone)

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	fillInput(t, ctx, "#code", wrong)
	demoSubmit(t, ctx, "check-form")
	if f := demoFlashes(t, ctx); !slices.Contains(f, "Wrong code") {
		t.Errorf("flashes after a wrong code %q, want %q", f, "Wrong code")
	}
	if demoHas(t, ctx, "#user") {
		t.Fatal("a wrong code logged in")
	}
	if got := elementText(t, ctx, "#sms-code"); got != code {
		t.Errorf("#sms-code %q after a wrong try, want %q still", got, code)
	}

	fillInput(t, ctx, "#code", code)
	demoSubmit(t, ctx, "check-form")
	if got := demoPath(t, ctx); got != "/session" {
		t.Errorf("login landed on %s, want /session", got)
	}
	if f := demoFlashes(t, ctx); !slices.Contains(f, "Logged in") {
		t.Errorf("flashes after the right code %q, want %q", f, "Logged in")
	}
	if !demoHas(t, ctx, "#user") {
		t.Fatalf("not logged in after the right code; page:\n%s", pageText(t, ctx))
	}
	if got := elementText(t, ctx, "#user"); got != phone {
		t.Errorf("#user %q, want %q", got, phone)
	}
	if got := elementText(t, ctx, `#session-data tr[data-key="user"] td.value`); got != phone {
		t.Errorf("session data user = %q, want %q", got, phone)
	}
	if demoHas(t, ctx, `#session-data tr[data-key="sms_code"]`) {
		t.Error("the SMS code is still in the session after login")
	}

	loggedInAt := time.Now()
	c, ok := storeCookie(t, ctx, "session", base+"/")
	if !ok {
		t.Fatalf("after login the browser's store has no session cookie: %+v", storeCookies(t, ctx, base+"/"))
	}
	if !c.HTTPOnly || c.SameSite != "Lax" {
		t.Errorf("session cookie HttpOnly=%v SameSite=%q, want HttpOnly and Lax", c.HTTPOnly, c.SameSite)
	}
	// The demo serves plain HTTP on loopback: no Secure, by design.
	if c.Secure || c.Path != "/" || c.Domain != "127.0.0.1" || c.Session {
		t.Errorf("session cookie = {Secure:%v Path:%q Domain:%q Session:%v}, want not Secure, Path /, Domain 127.0.0.1, persistent",
			c.Secure, c.Path, c.Domain, c.Session)
	}
	if d := c.Expires.Sub(loggedInAt.Add(cookiesession.DefaultMaxAge)); d < -time.Minute || d > time.Minute {
		t.Errorf("session cookie expires %v, want about 14 days after login (off by %v)", c.Expires, d)
	}
	// The page names the key that sealed the cookie the browser sent.
	if keyID := elementText(t, ctx, "#key-id"); keyID == "" || !strings.HasPrefix(c.Value, keyID+".") {
		t.Errorf("session cookie %.24q... is not sealed by the key the page shows, %q", c.Value, keyID)
	}
	if dc := documentCookie(t, ctx); strings.Contains(dc, "session") {
		t.Errorf("document.cookie = %q exposes the HttpOnly session cookie", dc)
	}

	// A fresh load of the index page still knows the user from the cookie.
	if status := navigate(t, ctx, base+"/"); status != http.StatusOK {
		t.Fatalf("GET /: status %d", status)
	}
	if !demoHas(t, ctx, "#user") || elementText(t, ctx, "#user") != phone {
		t.Errorf("a later page load is not logged in as %q; page:\n%s", phone, pageText(t, ctx))
	}
}

func TestDemoFlush(t *testing.T) {
	base := startDemo(t)
	ctx := newBrowser(t)
	const phone = "+44 20 7946 0000"

	demoLogin(t, ctx, base, phone)
	loggedIn, ok := storeCookie(t, ctx, "session", base+"/")
	if !ok {
		t.Fatalf("no session cookie after login: %+v", storeCookies(t, ctx, base+"/"))
	}
	if demoPath(t, ctx) != "/session" {
		if status := navigate(t, ctx, base+"/session"); status != http.StatusOK {
			t.Fatalf("GET /session: status %d", status)
		}
	}
	idBefore := elementText(t, ctx, "#session-id")

	demoSubmit(t, ctx, "flush-form")
	if got := demoPath(t, ctx); got != "/" {
		t.Errorf("flush landed on %s, want /", got)
	}
	if f := demoFlashes(t, ctx); !slices.Contains(f, "Logged out: session flushed") {
		t.Errorf("flashes after flush %q, want %q", f, "Logged out: session flushed")
	}
	if demoHas(t, ctx, "#user") || !strings.Contains(pageText(t, ctx), "Not logged in") {
		t.Errorf("still logged in after flush; page:\n%s", pageText(t, ctx))
	}
	// The logged-in cookie is gone; the page showing the flash sealed a new
	// session that holds only its forms' CSRF secret.
	if c, ok := storeCookie(t, ctx, "session", base+"/"); ok && c.Value == loggedIn.Value {
		t.Errorf("the browser's store still has the logged-in session cookie after flush: %.24q...", c.Value)
	}

	// Nothing comes back on later pages either.
	if status := navigate(t, ctx, base+"/session"); status != http.StatusOK {
		t.Fatalf("GET /session: status %d", status)
	}
	if demoHas(t, ctx, "#user") {
		t.Errorf("/session shows user %q after flush", elementText(t, ctx, "#user"))
	}
	if demoHas(t, ctx, "#session-data tr[data-key]") {
		t.Errorf("/session shows data after flush; page:\n%s", pageText(t, ctx))
	}
	if got := elementText(t, ctx, "#session-id"); got == idBefore {
		t.Errorf("/session shows the logged-in session ID %q after flush", got)
	}
	if c, ok := storeCookie(t, ctx, "session", base+"/"); ok && c.Value == loggedIn.Value {
		t.Errorf("the logged-in session cookie came back after flush: %.24q...", c.Value)
	}
}

// TestDemoCrossSitePost: a page on another site posts the demo's logout
// form. The demo refuses it with 403 and the user stays logged in.
func TestDemoCrossSitePost(t *testing.T) {
	base := startDemo(t)
	ctx := newBrowser(t)
	const phone = "+1 555 0199"
	demoLogin(t, ctx, base, phone)

	// Another host name for the loopback address: another site.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>prize</title>
<form id="evil" method="post" action="%s/session/flush"><button type="submit">Claim your prize</button></form>`, base)
	}))
	t.Cleanup(evil.Close)
	if status := navigate(t, ctx, strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)+"/"); status != http.StatusOK {
		t.Fatalf("GET the attacker's page: %d", status)
	}
	if status := clickAndWait(t, ctx, `#evil button[type="submit"]`); status != http.StatusForbidden {
		t.Errorf("the cross-site post got %d, want 403; page:\n%s", status, pageText(t, ctx))
	}
	if status := navigate(t, ctx, base+"/"); status != http.StatusOK {
		t.Fatalf("GET /: status %d", status)
	}
	if !demoHas(t, ctx, "#user") || elementText(t, ctx, "#user") != phone {
		t.Errorf("the cross-site post logged the user out; page:\n%s", pageText(t, ctx))
	}
	// The demo's own logout form still works.
	if status := navigate(t, ctx, base+"/session"); status != http.StatusOK {
		t.Fatalf("GET /session: status %d", status)
	}
	demoSubmit(t, ctx, "flush-form")
	if demoHas(t, ctx, "#user") {
		t.Error("the demo's own logout form did not log out")
	}
}
