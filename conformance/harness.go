package conformance

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

// start is the instant every scenario's clock starts at.
var start = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// clock is the time a scenario's codec reads (Config.Now); it moves only
// when the scenario moves it, so refresh and expiry are tested exactly.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// logRecorder is the codec's logger: it keeps the level and message of
// every record, for scenarios that check what was logged.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}

// count returns how many records at level or above have a message that
// contains substr.
func (l *logRecorder) count(level slog.Level, substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.records {
		if r.Level >= level && strings.Contains(r.Message, substr) {
			n++
		}
	}
	return n
}

// env is one scenario's server: a stack serving its routes with a codec
// of its own.
type env struct {
	stack  Stack
	codec  *cookiesession.Codec
	clock  *clock
	logs   *logRecorder
	url    string
	client *http.Client // follows no redirects, keeps no cookies
}

// serve builds a codec from cfg (a fresh key "k1" unless cfg.Keys is set;
// the scenario's clock and log recorder always) and has the stack serve
// routes with it.
func serve(t *testing.T, st Stack, cfg cookiesession.Config, routes map[string]Handler) *env {
	t.Helper()
	e := &env{stack: st, clock: &clock{now: start}, logs: &logRecorder{}}
	if cfg.Keys == nil {
		cfg.Keys = newKeyring(t, "k1")
	}
	cfg.Now = e.clock.Now
	cfg.Logger = slog.New(e.logs)
	codec, err := cookiesession.NewCodec(cfg)
	if err != nil {
		t.Fatalf("NewCodec: %v", err)
	}
	e.codec = codec
	e.url = st.Serve(t, codec, routes)
	e.client = &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return e
}

// newKeyring returns a keyring of fresh keys, the first one primary.
func newKeyring(t *testing.T, ids ...string) *cookiesession.Keyring {
	t.Helper()
	keys := make([]cookiesession.Key, len(ids))
	for i, id := range ids {
		k, err := cookiesession.GenerateKey(id)
		if err != nil {
			t.Fatalf("GenerateKey: %v", err)
		}
		keys[i] = k
	}
	kr, err := cookiesession.NewKeyring(keys[0], keys[1:]...)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return kr
}

// seal returns the Cookie header a browser holding a session with the given
// user would send, sealed by c at the scenario's current time.
func seal(t *testing.T, c *cookiesession.Codec, user string) string {
	t.Helper()
	s := c.New()
	s.Set("user", user)
	v, err := c.Encode(s)
	if err != nil || v == "" {
		t.Fatalf("Encode: %q, %v", v, err)
	}
	return c.Name() + "=" + v
}

// result is one response, read whole.
type result struct {
	status  int
	body    string
	header  http.Header
	lines   []string       // the Set-Cookie header lines, in order
	cookies []*http.Cookie // the same, parsed
}

// do sends one request with the given Cookie header ("" for none).
func (e *env) do(t *testing.T, method, path, cookie string) *result {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	return send(t, e.client, req)
}

func send(t *testing.T, client *http.Client, req *http.Request) *result {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL.Path, err)
	}
	r := &result{status: resp.StatusCode, body: string(body), header: resp.Header, lines: resp.Header.Values("Set-Cookie")}
	for _, line := range r.lines {
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("%s %s: Set-Cookie %q does not parse: %v", req.Method, req.URL.Path, line, err)
		}
		r.cookies = append(r.cookies, ck)
	}
	return r
}

// sets returns the cookies the response sets, deletions left out.
func (r *result) sets() []*http.Cookie {
	var out []*http.Cookie
	for _, ck := range r.cookies {
		if ck.MaxAge >= 0 {
			out = append(out, ck)
		}
	}
	return out
}

// deleted returns the names of the cookies the response deletes.
func (r *result) deleted() []string {
	var out []string
	for _, ck := range r.cookies {
		if ck.MaxAge < 0 {
			out = append(out, ck.Name)
		}
	}
	return out
}

// cookie returns the Cookie header a browser would send after r, given
// that it held nothing before.
func (r *result) cookie() string {
	var parts []string
	for _, ck := range r.sets() {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; ")
}

// open opens the session the response's cookies carry, failing the test if
// they do not open.
func (e *env) open(t *testing.T, r *result) *cookiesession.Session {
	t.Helper()
	s, err := e.codec.DecodeCookies(r.sets())
	if err != nil {
		t.Fatalf("the response's cookies do not open: %v (Set-Cookie %q)", err, r.lines)
	}
	return s
}

// tokens returns the comma-separated, lower-cased values of a header
// across all its lines.
func tokens(h http.Header, key string) []string {
	var out []string
	for _, line := range h.Values(key) {
		for _, v := range strings.Split(line, ",") {
			if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

func has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// browser is a client with a cookie jar that follows redirects, as a
// browser would.
type browser struct {
	e      *env
	jar    *cookiejar.Jar
	client *http.Client
}

func (e *env) browser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{e: e, jar: jar, client: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

func (b *browser) do(t *testing.T, method, path string) *result {
	t.Helper()
	req, err := http.NewRequest(method, b.e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return send(t, b.client, req)
}

// held returns the names of the cookies the browser holds for the server.
func (b *browser) held(t *testing.T) []string {
	t.Helper()
	u, err := url.Parse(b.e.url)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ck := range b.jar.Cookies(u) {
		names = append(names, ck.Name)
	}
	return names
}
