package e2e

// End-to-end tests of the session middleware in a real Chromium: each test
// builds a small app around Codec.Middleware on an httptest server and drives
// it with plain page loads and HTML forms, observing what the pages print and
// what the browser's cookie store holds.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/cookiesession/cookiesession"
)

// Launching Chromium costs several seconds on a loaded machine, most of a
// test's time. The session tests therefore share one browser and give each
// test its own browser context (an incognito-like profile with its own,
// empty cookie jar), disposed when the test ends. Only the browser-close
// test, which restarts the browser on its profile, launches its own.
var shared struct {
	once sync.Once
	ctx  context.Context // the browser's first tab; parent of every test's context
	stop func()
	dir  string
	err  error
}

// TestMain closes the shared browser, if one was started, after all tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if shared.stop != nil {
		shared.stop()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// isolatedTab returns the context of a new tab, in a new browser context of
// the shared browser, limited to browserTimeout. The browser context and its
// cookies are disposed when the test ends.
func isolatedTab(t *testing.T) context.Context {
	t.Helper()
	execPath := requireChromium(t)
	shared.once.Do(func() {
		if shared.dir, shared.err = os.MkdirTemp("", "cookiesession-e2e-"); shared.err != nil {
			return
		}
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocatorOptions(execPath, shared.dir)...)
		ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(log.Printf))
		shared.ctx = ctx
		shared.stop = func() {
			_ = chromedp.Cancel(ctx)
			cancel()
			cancelAlloc()
		}
		shared.err = chromedp.Run(ctx)
	})
	if shared.err != nil {
		t.Fatalf("starting the shared Chromium %s: %v", execPath, shared.err)
	}
	// chromedp.WithNewBrowserContext cannot be used: this Chromium refuses
	// to open a tab in a new browser context unless it gets its own window
	// ("Failed to open new tab - no browser is open"), so the context and
	// its window are made here.
	var bcID cdp.BrowserContextID
	var tabID target.ID
	err := chromedp.Run(shared.ctx, chromedp.ActionFunc(func(ctx context.Context) error {
		ex := cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser)
		var err error
		if bcID, err = target.CreateBrowserContext().Do(ex); err != nil {
			return err
		}
		tabID, err = target.CreateTarget("about:blank").WithBrowserContextID(bcID).WithNewWindow(true).Do(ex)
		return err
	}))
	if err != nil {
		t.Fatalf("opening a tab in a new browser context: %v", err)
	}
	tabCtx, cancelTab := chromedp.NewContext(shared.ctx, chromedp.WithTargetID(tabID))
	ctx, cancel := context.WithTimeout(tabCtx, browserTimeout)
	t.Cleanup(func() {
		cancel()
		cancelTab()
		// Disposing the browser context closes its window and drops its
		// cookies.
		_ = chromedp.Run(shared.ctx, chromedp.ActionFunc(func(ctx context.Context) error {
			return target.DisposeBrowserContext(bcID).Do(cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser))
		}))
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("attaching to the new tab: %v", err)
	}
	return ctx
}

// fakeClock is the app's Config.Now: it starts at the real time (so that the
// cookie's Max-Age, which the browser counts on its own clock, is realistic)
// and moves only when the test advances it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// logBuffer collects the codec's log records so each test can check that the
// library reported no rejected cookie and no lost or unsaved session.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testApp is one app under test: the server, its clock, keyring and codec.
type testApp struct {
	srv   *httptest.Server
	clock *fakeClock
	keys  *cookiesession.Keyring
	codec *cookiesession.Codec
	logs  *logBuffer
}

// bigValue is the 10 KB string /big stores: hex digits from a fixed
// pseudo-random sequence; sealed, the session spans five cookies with
// MaxCookies 6.
var bigValue = func() string {
	var b strings.Builder
	seed := uint32(2463534242)
	for b.Len() < 10240 {
		seed ^= seed << 13
		seed ^= seed >> 17
		seed ^= seed << 5
		b.WriteByte("0123456789abcdef"[seed&15])
	}
	return b.String()
}()

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// page writes a minimal HTML page whose body is the given HTML.
func page(w http.ResponseWriter, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><html><head><title>%s</title></head><body>%s</body></html>", title, body)
}

// newApp starts the test app with key "k1" as primary. tweak, if not nil,
// adjusts the Config before the codec is built.
func newApp(t *testing.T, tweak func(*cookiesession.Config)) *testApp {
	t.Helper()
	k1, err := cookiesession.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := cookiesession.NewKeyring(k1)
	if err != nil {
		t.Fatal(err)
	}
	a := &testApp{
		clock: &fakeClock{now: time.Now()},
		keys:  keys,
		logs:  &logBuffer{},
	}
	cfg := cookiesession.Config{
		Keys:   keys,
		Now:    a.clock.Now,
		Logger: slog.New(slog.NewTextHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	if a.codec, err = cookiesession.NewCodec(cfg); err != nil {
		t.Fatalf("NewCodec: %v", err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		page(w, "login", `<h1 id="title">Log in</h1>
<form method="post" action="/login">
  <input id="name" name="name" type="text">
  <button id="go" type="submit">Log in</button>
</form>`)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.Renew()
		s.Set("user", r.PostFormValue("name"))
		http.Redirect(w, r, "/me", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		user, ok := cookiesession.Get[string](s, "user")
		if !ok {
			user = "anonymous"
		}
		keyID := s.KeyID()
		if keyID == "" {
			keyID = "none"
		}
		page(w, "me", fmt.Sprintf(`<p id="user">%s</p><p id="key">key: %s</p><a id="logout" href="/logout">Log out</a>`,
			html.EscapeString(user), html.EscapeString(keyID)))
	})
	mux.HandleFunc("GET /code", func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).SetWithTTL("sms_code", "493817", 5*time.Minute)
		page(w, "code", `<p id="status">code sent</p>`)
	})
	mux.HandleFunc("GET /check", func(w http.ResponseWriter, r *http.Request) {
		code, ok := cookiesession.Get[string](cookiesession.FromContext(r.Context()), "sms_code")
		if !ok {
			code = "none"
		}
		page(w, "check", fmt.Sprintf(`<p id="code">code: %s</p>`, html.EscapeString(code)))
	})
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Flush()
		page(w, "logout", `<p id="status">logged out</p>`)
	})
	mux.HandleFunc("GET /browser-close", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.SetExpiry(0)
		s.Set("user", "bob")
		page(w, "browser-close", `<p id="status">until the browser closes</p>`)
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Set("big", bigValue)
		page(w, "big", `<p id="status">big stored</p>`)
	})
	mux.HandleFunc("GET /shrink", func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Set("big", "small")
		page(w, "shrink", `<p id="status">big shrunk</p>`)
	})
	mux.HandleFunc("GET /big-len", func(w http.ResponseWriter, r *http.Request) {
		big, ok := cookiesession.Get[string](cookiesession.FromContext(r.Context()), "big")
		intact := ok && big == bigValue
		page(w, "big-len", fmt.Sprintf(`<p id="big">big: %d found=%v intact=%v sha=%s</p>`, len(big), ok, intact, sha(big)))
	})

	a.srv = httptest.NewServer(a.codec.Middleware(mux))
	t.Cleanup(a.srv.Close)
	t.Cleanup(func() {
		// Any rejected cookie, unsaved or lost session is a failure here: the
		// browser only ever sends back what the server set.
		for _, line := range strings.Split(strings.TrimSpace(a.logs.String()), "\n") {
			if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
				t.Errorf("library log: %s", line)
			} else if line != "" {
				t.Logf("library log: %s", line)
			}
		}
	})
	return a
}

func (a *testApp) url(path string) string { return a.srv.URL + path }

// load navigates to path and fails the test unless the status is 200.
func (a *testApp) load(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	if status := navigate(t, ctx, a.url(path)); status != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200", path, status)
	}
}

// login submits the login form as name and checks the page it lands on.
func (a *testApp) login(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	a.load(t, ctx, "/login")
	if status := submitForm(t, ctx, map[string]string{"#name": name}, "#go"); status != http.StatusOK {
		t.Fatalf("POST /login: status %d, want 200 (after the 303 to /me)", status)
	}
	if got := elementText(t, ctx, "#user"); got != name {
		t.Fatalf("after login the page shows user %q, want %q", got, name)
	}
}

// userOn loads /me and returns the user it prints.
func (a *testApp) userOn(t *testing.T, ctx context.Context) string {
	t.Helper()
	a.load(t, ctx, "/me")
	return elementText(t, ctx, "#user")
}

// sessionCookies returns the session's cookies (NAME and NAME.i) in the
// browser's store for the app's URL, by name.
func (a *testApp) sessionCookies(t *testing.T, ctx context.Context) map[string]browserCookie {
	t.Helper()
	name := a.codec.Name()
	out := map[string]browserCookie{}
	for _, c := range storeCookies(t, ctx, a.url("/")) {
		if c.Name == name || strings.HasPrefix(c.Name, name+".") {
			out[c.Name] = c
		}
	}
	return out
}

// hostName is the session cookie's name: the library's default for a
// Secure cookie with Path / and no Domain.
const hostName = cookiesession.DefaultHostName

// chunkNames lists the names of a session spread over n cookies.
func chunkNames(n int) string {
	names := []string{hostName}
	for i := 1; i < n; i++ {
		names = append(names, fmt.Sprintf("%s.%d", hostName, i))
	}
	return strings.Join(names, ",")
}

func cookieNames(m map[string]browserCookie) string {
	var names []string
	for _, n := range strings.Split(chunkNames(5), ",") {
		if _, ok := m[n]; ok {
			names = append(names, n)
		}
	}
	if len(names) != len(m) {
		return fmt.Sprintf("%v (all: %d)", names, len(m))
	}
	return strings.Join(names, ",")
}

func TestLogin(t *testing.T) {
	a := newApp(t, nil)
	ctx := isolatedTab(t)

	if got := a.userOn(t, ctx); got != "anonymous" {
		t.Fatalf("before login /me shows %q, want anonymous", got)
	}
	if got := a.sessionCookies(t, ctx); len(got) != 0 {
		t.Fatalf("an untouched session set cookies: %+v", got)
	}

	a.login(t, ctx, "alice")
	c, ok := storeCookie(t, ctx, hostName, a.url("/"))
	if !ok {
		t.Fatalf("after login the store has no session cookie: %+v", storeCookies(t, ctx))
	}
	if !strings.HasPrefix(c.Value, "k1.") {
		t.Errorf("session cookie value %.20q..., want it sealed by k1", c.Value)
	}

	// A later, separate page load sees the user from the cookie alone.
	a.load(t, ctx, "/login")
	if got := a.userOn(t, ctx); got != "alice" {
		t.Errorf("later /me shows %q, want alice", got)
	}
	if got := elementText(t, ctx, "#key"); got != "key: k1" {
		t.Errorf("later /me shows %q, want the session opened with k1", got)
	}
}

func TestCookieAttributes(t *testing.T) {
	a := newApp(t, nil)
	ctx := isolatedTab(t)
	a.login(t, ctx, "alice")
	loggedInAt := time.Now()

	// HttpOnly: the page's JavaScript sees no cookie at all.
	if dc := documentCookie(t, ctx); dc != "" {
		t.Errorf("document.cookie = %q, want empty (the session cookie is HttpOnly)", dc)
	}

	got := a.sessionCookies(t, ctx)
	if names := cookieNames(got); names != hostName {
		t.Fatalf("store holds %s, want exactly session", names)
	}
	c := got[hostName]
	if c.Path != "/" || c.Domain != "127.0.0.1" || !c.HTTPOnly || !c.Secure || c.SameSite != "Lax" || c.Session {
		t.Errorf("session cookie = {Path:%q Domain:%q HttpOnly:%v Secure:%v SameSite:%q Session:%v}, want Path /, Domain 127.0.0.1, HttpOnly, Secure, SameSite Lax, persistent",
			c.Path, c.Domain, c.HTTPOnly, c.Secure, c.SameSite, c.Session)
	}
	want := loggedInAt.Add(cookiesession.DefaultMaxAge)
	if d := c.Expires.Sub(want); d < -time.Minute || d > time.Minute {
		t.Errorf("session cookie expires %v, want about %v (14 days after login; off by %v)", c.Expires, want, d)
	}
}

func TestBrowserCloseSession(t *testing.T) {
	a := newApp(t, nil)
	dir := t.TempDir()
	ctx, stop := startBrowser(t, dir)

	a.load(t, ctx, "/browser-close")
	got := a.sessionCookies(t, ctx)
	c, ok := got[hostName]
	if !ok || len(got) != 1 {
		t.Fatalf("after /browser-close the store holds %s, want exactly session", cookieNames(got))
	}
	if !c.Session || !c.Expires.IsZero() {
		t.Errorf("session cookie = {Session:%v Expires:%v}, want a session cookie with no expiry", c.Session, c.Expires)
	}
	if !c.HTTPOnly || !c.Secure || c.SameSite != "Lax" || c.Path != "/" {
		t.Errorf("session cookie attributes = %+v", c)
	}
	if got := a.userOn(t, ctx); got != "bob" {
		t.Fatalf("before the restart /me shows %q, want bob", got)
	}
	// Reading the session must not turn it into a persistent cookie.
	if c, ok := storeCookie(t, ctx, hostName, a.url("/")); !ok || !c.Session {
		t.Errorf("after /me the session cookie is %+v (found %v), want still a session cookie", c, ok)
	}

	ctx, _ = restartBrowser(t, dir, stop)
	if got := a.sessionCookies(t, ctx); len(got) != 0 {
		t.Errorf("after the restart the store still holds %s", cookieNames(got))
	}
	if got := a.userOn(t, ctx); got != "anonymous" {
		t.Errorf("after the restart /me shows %q, want anonymous", got)
	}
}

func TestPerKeyTTL(t *testing.T) {
	a := newApp(t, nil)
	ctx := isolatedTab(t)
	a.login(t, ctx, "alice")

	a.load(t, ctx, "/code")
	if got := elementText(t, ctx, "#status"); got != "code sent" {
		t.Fatalf("/code shows %q", got)
	}
	a.load(t, ctx, "/check")
	if got := elementText(t, ctx, "#code"); got != "code: 493817" {
		t.Fatalf("right after /code, /check shows %q, want code: 493817", got)
	}

	// One second before the TTL ends the code is still there.
	a.clock.Advance(5*time.Minute - time.Second)
	a.load(t, ctx, "/check")
	if got := elementText(t, ctx, "#code"); got != "code: 493817" {
		t.Errorf("4m59s after /code, /check shows %q, want code: 493817", got)
	}

	// At five minutes it is gone, and the session it lived in is not.
	a.clock.Advance(time.Second)
	a.load(t, ctx, "/check")
	if got := elementText(t, ctx, "#code"); got != "code: none" {
		t.Errorf("5m after /code, /check shows %q, want code: none", got)
	}
	if got := a.userOn(t, ctx); got != "alice" {
		t.Errorf("5m after /code, /me shows %q, want alice", got)
	}
	a.load(t, ctx, "/check")
	if got := elementText(t, ctx, "#code"); got != "code: none" {
		t.Errorf("on a later load /check shows %q, want code: none", got)
	}
}

func TestFlushRemovesCookie(t *testing.T) {
	a := newApp(t, nil)
	ctx := isolatedTab(t)
	a.login(t, ctx, "alice")
	if got := cookieNames(a.sessionCookies(t, ctx)); got != hostName {
		t.Fatalf("after login the store holds %s, want session", got)
	}

	// Log out by following the page's link.
	if status := clickAndWait(t, ctx, "#logout"); status != http.StatusOK {
		t.Fatalf("GET /logout: status %d", status)
	}
	if got := elementText(t, ctx, "#status"); got != "logged out" {
		t.Fatalf("/logout shows %q", got)
	}
	if got := a.sessionCookies(t, ctx); len(got) != 0 {
		t.Errorf("after /logout the store still holds %s", cookieNames(got))
	}
	if got := a.userOn(t, ctx); got != "anonymous" {
		t.Errorf("after /logout /me shows %q, want anonymous", got)
	}
	if got := a.sessionCookies(t, ctx); len(got) != 0 {
		t.Errorf("an anonymous /me set cookies again: %s", cookieNames(got))
	}
}

func TestKeyRotation(t *testing.T) {
	a := newApp(t, nil)
	ctx := isolatedTab(t)
	a.login(t, ctx, "alice")

	c, ok := storeCookie(t, ctx, hostName, a.url("/"))
	if !ok || !strings.HasPrefix(c.Value, "k1.") {
		t.Fatalf("after login the session cookie is %.20q... (found %v), want it sealed by k1", c.Value, ok)
	}
	if got := a.userOn(t, ctx); got != "alice" {
		t.Fatalf("before rotation /me shows %q, want alice", got)
	}
	if c2, _ := storeCookie(t, ctx, hostName, a.url("/")); c2.Value != c.Value {
		t.Errorf("an unchanged session read under its primary key was resealed")
	}

	k2, err := cookiesession.GenerateKey("k2")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.keys.Rotate(k2); err != nil {
		t.Fatalf("Rotate(k2): %v", err)
	}

	// The next page still opens the k1 cookie, and reseals it under k2.
	if got := a.userOn(t, ctx); got != "alice" {
		t.Fatalf("after rotation /me shows %q, want alice", got)
	}
	if got := elementText(t, ctx, "#key"); got != "key: k1" {
		t.Errorf("after rotation /me shows %q, want the session opened with k1", got)
	}
	c, ok = storeCookie(t, ctx, hostName, a.url("/"))
	if !ok || !strings.HasPrefix(c.Value, "k2.") {
		t.Fatalf("after rotation the session cookie is %.20q... (found %v), want it resealed by k2", c.Value, ok)
	}
	if c.Session || !c.HTTPOnly || !c.Secure {
		t.Errorf("resealed cookie lost attributes: %+v", c)
	}
	if got := a.userOn(t, ctx); got != "alice" {
		t.Errorf("on the page after that /me shows %q, want alice", got)
	}
	if got := elementText(t, ctx, "#key"); got != "key: k2" {
		t.Errorf("on the page after that /me shows %q, want the session opened with k2", got)
	}
}
