package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// browserTimeout bounds one browser launch: every chromedp action of a test
// runs under a context that expires this long after the browser started.
const browserTimeout = 60 * time.Second

// findChromium returns the Chromium executable to use: $CHROMIUM_PATH, then
// /usr/bin/chromium, then chromium, chromium-browser or google-chrome on PATH.
func findChromium() (string, bool) {
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, true
		}
		if p2, err := exec.LookPath(p); err == nil {
			return p2, true
		}
	}
	if st, err := os.Stat("/usr/bin/chromium"); err == nil && !st.IsDir() {
		return "/usr/bin/chromium", true
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// requireChromium returns the Chromium path, or skips the test (fails it when
// E2E_REQUIRED=1) if no Chromium is installed.
func requireChromium(t *testing.T) string {
	t.Helper()
	p, ok := findChromium()
	if ok {
		return p
	}
	const msg = "Chromium not found (looked at $CHROMIUM_PATH, /usr/bin/chromium, and chromium, chromium-browser, google-chrome on PATH); install it with `apt-get install -y chromium`"
	if os.Getenv("E2E_REQUIRED") == "1" {
		t.Fatal(msg + " (E2E_REQUIRED=1)")
	}
	t.Skip(msg + "; set E2E_REQUIRED=1 to make this a failure")
	return ""
}

// allocatorOptions is the full, hand-built flag list. chromedp's
// DefaultExecAllocatorOptions is not used: it lacks
// --disable-component-update and carries flags this harness does not need.
// chromedp itself adds --remote-debugging-port=0 and the start URL.
func allocatorOptions(execPath, userDataDir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(userDataDir),
		chromedp.Headless, // --headless (plus --hide-scrollbars, --mute-audio)
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
}

// startBrowser launches Chromium with the profile in userDataDir and returns
// the context of its first tab, limited to browserTimeout. stop closes the
// browser gracefully (so the profile is flushed to disk) and waits for the
// process to exit; it is safe to call more than once and is also registered
// with t.Cleanup. extra options are appended after the defaults, e.g.
// chromedp.Flag("ignore-certificate-errors", true).
func startBrowser(t *testing.T, userDataDir string, extra ...chromedp.ExecAllocatorOption) (ctx context.Context, stop func()) {
	t.Helper()
	execPath := requireChromium(t)

	// chromedp may log from its own goroutines; never call t.Logf after the
	// test has finished.
	var done atomic.Bool
	logf := func(format string, args ...any) {
		if !done.Load() {
			t.Logf("chromedp: "+format, args...)
		}
	}

	root, cancelRoot := context.WithTimeout(context.Background(), browserTimeout)
	opts := append(allocatorOptions(execPath, userDataDir), extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(root, opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf))

	var once sync.Once
	stop = func() {
		once.Do(func() {
			// Cancel closes the browser through CDP and waits for it.
			if err := chromedp.Cancel(tabCtx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				logf("closing browser: %v", err)
			}
			cancelTab()
			cancelAlloc() // kills the process if still alive and waits for it
			cancelRoot()
			done.Store(true)
		})
	}
	t.Cleanup(stop)

	// Start the browser now so a launch failure is reported here.
	if err := chromedp.Run(tabCtx); err != nil {
		t.Fatalf("starting Chromium %s: %v", execPath, err)
	}
	return tabCtx, stop
}

// ignoreCertErrors makes Chromium accept the self-signed certificate of
// httptest.NewTLSServer: newBrowser(t, ignoreCertErrors).
var ignoreCertErrors = chromedp.Flag("ignore-certificate-errors", true)

// restartBrowser closes the browser behind stop and launches a new one on the
// same profile directory, as a user quitting and reopening the browser:
// session cookies are gone, persistent ones are kept.
func restartBrowser(t *testing.T, userDataDir string, stop func(), extra ...chromedp.ExecAllocatorOption) (context.Context, func()) {
	t.Helper()
	stop()
	return startBrowser(t, userDataDir, extra...)
}

// newBrowser launches Chromium on a fresh profile in t.TempDir() and returns
// the context of its tab. The browser is closed by t.Cleanup.
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	ctx, _ := startBrowser(t, t.TempDir(), extra...)
	return ctx
}

// run runs chromedp actions and fails the test on error.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// navigate loads url in the tab, waits for the load event, and returns the
// HTTP status of the main document.
func navigate(t *testing.T, ctx context.Context, url string) int {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(url))
	if err != nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
	return int(resp.Status)
}

// evalString evaluates a JavaScript expression that yields a string.
func evalString(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	var s string
	run(t, ctx, "evaluate "+expr, chromedp.Evaluate(expr, &s))
	return s
}

// pageText returns document.body.innerText of the current page.
func pageText(t *testing.T, ctx context.Context) string {
	t.Helper()
	return evalString(t, ctx, "document.body ? document.body.innerText : ''")
}

// elementText returns the visible text of the first element matching the CSS
// selector, waiting until it is visible.
func elementText(t *testing.T, ctx context.Context, selector string) string {
	t.Helper()
	var s string
	run(t, ctx, "text of "+selector, chromedp.Text(selector, &s, chromedp.ByQuery))
	return s
}

// documentCookie returns document.cookie as the page's JavaScript sees it.
func documentCookie(t *testing.T, ctx context.Context) string {
	t.Helper()
	return evalString(t, ctx, "document.cookie")
}

// fillInput replaces the value of the input matching the CSS selector.
func fillInput(t *testing.T, ctx context.Context, selector, value string) {
	t.Helper()
	run(t, ctx, "fill "+selector, chromedp.SetValue(selector, value, chromedp.ByQuery))
}

// clickAndWait clicks the element matching the CSS selector (e.g. a submit
// button), waits for the navigation it triggers to load, and returns the HTTP
// status of the new document.
func clickAndWait(t *testing.T, ctx context.Context, selector string) int {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(selector, chromedp.ByQuery))
	if err != nil {
		t.Fatalf("click %s: %v", selector, err)
	}
	return int(resp.Status)
}

// submitForm fills each input (CSS selector -> value), clicks submit, waits
// for the resulting page to load and returns its HTTP status.
func submitForm(t *testing.T, ctx context.Context, fields map[string]string, submit string) int {
	t.Helper()
	for sel, v := range fields {
		fillInput(t, ctx, sel, v)
	}
	return clickAndWait(t, ctx, submit)
}

// browserCookie is a cookie as held in the browser's cookie store. It is a
// copy of the fields of network.Cookie the tests need, so the tests do not
// depend on the cdproto version.
type browserCookie struct {
	Name, Value  string
	Domain, Path string
	Expires      time.Time // zero for a session cookie
	HTTPOnly     bool
	Secure       bool
	Session      bool   // true if the cookie ends with the browser session
	SameSite     string // "Strict", "Lax", "None", or "" if the attribute was absent
}

// storeCookies returns the cookies in the browser's cookie store that apply
// to urls (network.GetCookies); with no urls, to the current page and its
// frames.
func storeCookies(t *testing.T, ctx context.Context, urls ...string) []browserCookie {
	t.Helper()
	var raw []*network.Cookie
	run(t, ctx, "network.GetCookies", chromedp.ActionFunc(func(ctx context.Context) error {
		p := network.GetCookies()
		if len(urls) > 0 {
			p = p.WithURLs(urls)
		}
		var err error
		raw, err = p.Do(ctx)
		return err
	}))
	out := make([]browserCookie, 0, len(raw))
	for _, c := range raw {
		bc := browserCookie{
			Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path,
			HTTPOnly: c.HTTPOnly, Secure: c.Secure, Session: c.Session,
			SameSite: string(c.SameSite),
		}
		if !c.Session && c.Expires > 0 {
			sec := int64(c.Expires)
			bc.Expires = time.Unix(sec, int64((c.Expires-float64(sec))*1e9))
		}
		out = append(out, bc)
	}
	return out
}

// storeCookie returns the named cookie from the browser's cookie store (see
// storeCookies), and false if there is none.
func storeCookie(t *testing.T, ctx context.Context, name string, urls ...string) (browserCookie, bool) {
	t.Helper()
	for _, c := range storeCookies(t, ctx, urls...) {
		if c.Name == name {
			return c, true
		}
	}
	return browserCookie{}, false
}

// clearCookies deletes every cookie in the browser's cookie store.
func clearCookies(t *testing.T, ctx context.Context) {
	t.Helper()
	run(t, ctx, "network.ClearBrowserCookies", network.ClearBrowserCookies())
}
