package cookiesession

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The tests in this file drive Codec.Middleware through a real net/http
// server on loopback and a client with a cookie jar, as a browser would.
// Time is the testClock of helpers_test.go, fed to Config.Now.

const mwDay = 24 * time.Hour

// mwLog is a goroutine-safe sink for a slog JSON handler.
type mwLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *mwLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *mwLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// records returns the logged records, each a decoded JSON object.
func (l *mwLog) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %q", err, line)
		}
		out = append(out, m)
	}
	return out
}

// find returns the records at level whose message contains msg.
func (l *mwLog) find(t *testing.T, level slog.Level, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range l.records(t) {
		if r["level"] == level.String() && strings.Contains(fmt.Sprint(r["msg"]), msg) {
			out = append(out, r)
		}
	}
	return out
}

// mwNew returns a codec built by newTestCodec whose Logger writes JSON, at
// every level, to the returned log.
func mwNew(t *testing.T, cfg Config) (*Codec, *testClock, *mwLog) {
	t.Helper()
	lg := &mwLog{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(lg, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	c, clk := newTestCodec(t, cfg)
	return c, clk, lg
}

// mwEnv is a loopback server and a client with a cookie jar that does not
// follow redirects.
type mwEnv struct {
	srv    *httptest.Server
	client *http.Client
	jar    *cookiejar.Jar
}

func mwStart(t *testing.T, h http.Handler, useTLS bool) *mwEnv {
	t.Helper()
	var srv *httptest.Server
	if useTLS {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return mwClientFor(t, srv)
}

func mwClientFor(t *testing.T, srv *httptest.Server) *mwEnv {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := srv.Client()
	client.Jar = jar
	client.Timeout = 30 * time.Second
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &mwEnv{srv: srv, client: client, jar: jar}
}

// mwResp is a response whose body has been read.
type mwResp struct {
	*http.Response
	body string
}

func (e *mwEnv) url(target string) string {
	if strings.HasPrefix(target, "http") {
		return target
	}
	return e.srv.URL + target
}

// get sends GET target; each cookieLine becomes one more Cookie header line.
func (e *mwEnv) get(t *testing.T, target string, cookieLines ...string) mwResp {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url(target), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range cookieLines {
		req.Header.Add("Cookie", l)
	}
	return e.do(t, req)
}

func (e *mwEnv) do(t *testing.T, req *http.Request) mwResp {
	t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return mwResp{resp, string(b)}
}

// jarValue returns the value the jar holds for the cookie name at target.
func (e *mwEnv) jarValue(t *testing.T, target, name string) (string, bool) {
	t.Helper()
	u, err := url.Parse(e.url(target))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range e.jar.Cookies(u) {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

// mwSetCookies returns the Set-Cookie lines of resp naming the cookie name,
// raw and parsed with http.ParseSetCookie.
func mwSetCookies(t *testing.T, resp *http.Response, name string) (raw []string, parsed []*http.Cookie) {
	t.Helper()
	for _, line := range resp.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("unparsable Set-Cookie %q: %v", line, err)
		}
		if c.Name == name {
			raw = append(raw, line)
			parsed = append(parsed, c)
		}
	}
	return raw, parsed
}

// mwOneCookie returns the single Set-Cookie for name and its raw line.
func mwOneCookie(t *testing.T, resp *http.Response, name string) (*http.Cookie, string) {
	t.Helper()
	raw, parsed := mwSetCookies(t, resp, name)
	if len(parsed) != 1 {
		t.Fatalf("want one Set-Cookie for %q, got %d: %q (status %d)", name, len(parsed), resp.Header.Values("Set-Cookie"), resp.StatusCode)
	}
	return parsed[0], raw[0]
}

func mwNoCookie(t *testing.T, resp *http.Response, name string) {
	t.Helper()
	if raw, _ := mwSetCookies(t, resp, name); len(raw) != 0 {
		t.Fatalf("want no Set-Cookie for %q, got %q", name, raw)
	}
}

// mwDeletion checks that c deletes the cookie: empty value, Max-Age=0 on
// the wire (MaxAge < 0 once parsed) and an Expires in the past.
func mwDeletion(t *testing.T, c *http.Cookie, raw string) {
	t.Helper()
	if c.Value != "" || c.MaxAge >= 0 || !strings.Contains(raw, "Max-Age=0") {
		t.Errorf("not a deletion cookie: %q", raw)
	}
	if c.Expires.IsZero() || !c.Expires.Before(time.Unix(86400, 0)) {
		t.Errorf("deletion cookie's Expires %v is not in the past: %q", c.Expires, raw)
	}
}

// mwOpen decodes a cookie value the middleware set and fails the test if it
// does not open.
func mwOpen(t *testing.T, c *Codec, value string) *Session {
	t.Helper()
	s, err := c.Decode(value)
	if err != nil {
		t.Fatalf("Decode of the cookie the middleware set: %v", err)
	}
	return s
}

// mwVaryTokens returns the tokens of every Vary line.
func mwVaryTokens(h http.Header) []string {
	var out []string
	for _, line := range h.Values("Vary") {
		for _, v := range strings.Split(line, ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

func mwCountFold(list []string, s string) int {
	n := 0
	for _, v := range list {
		if strings.EqualFold(v, s) {
			n++
		}
	}
	return n
}

// mwApp is a small application; the last path element picks the action:
//
//	set?k=K&v=V   sets K to V
//	get?k=K       writes K's value, or "<none>"
//	keys          writes the keys, comma-separated
//	delete?k=K, flush, clear
//	untouched     never calls FromContext
//	anything else calls FromContext but no Session method
func mwApp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		action := path.Base(r.URL.Path)
		if action == "untouched" {
			io.WriteString(w, "untouched")
			return
		}
		s := FromContext(r.Context())
		switch action {
		case "set":
			s.Set(q.Get("k"), q.Get("v"))
			io.WriteString(w, "ok")
		case "get":
			v, ok := Get[string](s, q.Get("k"))
			if !ok {
				v = "<none>"
			}
			io.WriteString(w, v)
		case "keys":
			io.WriteString(w, "keys="+strings.Join(s.Keys(), ","))
		case "delete":
			s.Delete(q.Get("k"))
		case "flush":
			s.Flush()
		case "clear":
			s.Clear()
		default:
			io.WriteString(w, "not touched")
		}
	})
}

// mwH adapts a handler that wants its session.
func mwH(fn func(w http.ResponseWriter, r *http.Request, s *Session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fn(w, r, FromContext(r.Context()))
	})
}

// mwSealed returns a cookie value sealed by c holding k=v.
func mwSealed(t *testing.T, c *Codec, k, v string) string {
	t.Helper()
	s := c.New()
	s.Set(k, v)
	return mustEncode(t, c, s)
}

// ---------------------------------------------------------------------------
// Django's SessionMiddlewareTests.

func TestMiddleware_SecureSessionCookie(t *testing.T) {
	t.Run("default is Secure", func(t *testing.T) {
		c, _, _ := mwNew(t, Config{})
		e := mwStart(t, c.Middleware(mwApp()), true)
		r := e.get(t, "/set?k=hello&v=world")
		ck, raw := mwOneCookie(t, r.Response, c.Name())
		if !ck.Secure || !strings.Contains(raw, "; Secure") {
			t.Errorf("cookie is not Secure: %q", raw)
		}
		if got := e.get(t, "/get?k=hello").body; got != "world" {
			t.Errorf("session over TLS: got %q, want world", got)
		}
	})
	t.Run("Insecure drops Secure", func(t *testing.T) {
		c, _, _ := mwNew(t, Config{Insecure: true})
		e := mwStart(t, c.Middleware(mwApp()), false)
		r := e.get(t, "/set?k=hello&v=world")
		ck, raw := mwOneCookie(t, r.Response, c.Name())
		if ck.Secure || strings.Contains(strings.ToLower(raw), "secure") {
			t.Errorf("cookie is Secure despite Insecure: %q", raw)
		}
		if got := e.get(t, "/get?k=hello").body; got != "world" {
			t.Errorf("session over plain HTTP: got %q, want world", got)
		}
	})
}

func TestMiddleware_HttpOnlySessionCookie(t *testing.T) {
	c, _, _ := mwNew(t, Config{Insecure: true})
	e := mwStart(t, c.Middleware(mwApp()), false)
	for _, target := range []string{"/set?k=a&v=b", "/flush"} { // a value, then a deletion
		ck, raw := mwOneCookie(t, e.get(t, target).Response, c.Name())
		if !ck.HttpOnly {
			t.Errorf("%s: cookie is not HttpOnly: %q", target, raw)
		}
		if n := strings.Count(strings.ToLower(raw), "httponly"); n != 1 {
			t.Errorf("%s: HttpOnly appears %d times in %q", target, n, raw)
		}
	}
}

func TestMiddleware_SameSiteSessionCookie(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   http.SameSite
		want http.SameSite
		attr string
	}{
		{"zero means Lax", 0, http.SameSiteLaxMode, "SameSite=Lax"},
		{"DefaultMode means Lax", http.SameSiteDefaultMode, http.SameSiteLaxMode, "SameSite=Lax"},
		{"Lax", http.SameSiteLaxMode, http.SameSiteLaxMode, "SameSite=Lax"},
		{"Strict", http.SameSiteStrictMode, http.SameSiteStrictMode, "SameSite=Strict"},
		{"None", http.SameSiteNoneMode, http.SameSiteNoneMode, "SameSite=None"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, _ := mwNew(t, Config{SameSite: tc.in})
			e := mwStart(t, c.Middleware(mwApp()), true)
			ck, raw := mwOneCookie(t, e.get(t, "/set?k=a&v=b").Response, c.Name())
			if ck.SameSite != tc.want || strings.Count(raw, "SameSite=") != 1 || !strings.Contains(raw, tc.attr) {
				t.Errorf("got %q, want exactly one %s", raw, tc.attr)
			}
		})
	}
}

// mwSaveOn5xx checks that a change made by a handler that answers code is
// not saved and that the browser's session is left as it was.
func mwSaveOn5xx(t *testing.T, code int) {
	c, _, _ := mwNew(t, Config{Insecure: true})
	h := http.NewServeMux()
	h.Handle("/", mwApp())
	h.Handle("/fail", mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
		s.Set("hello", "world")
		http.Error(w, "Horrible error", code)
	}))
	e := mwStart(t, c.Middleware(h), false)

	t.Run("no cookie before", func(t *testing.T) {
		r := e.get(t, "/fail")
		if r.StatusCode != code {
			t.Fatalf("status %d, want %d", r.StatusCode, code)
		}
		mwNoCookie(t, r.Response, c.Name())
		if got := e.get(t, "/get?k=hello").body; got != "<none>" {
			t.Errorf("the value set on a %d response was saved: %q", code, got)
		}
	})
	t.Run("existing session kept", func(t *testing.T) {
		e.get(t, "/set?k=hello&v=before")
		before, ok := e.jarValue(t, "/", c.Name())
		if !ok {
			t.Fatal("no session cookie in the jar")
		}
		r := e.get(t, "/fail")
		if r.StatusCode != code {
			t.Fatalf("status %d, want %d", r.StatusCode, code)
		}
		mwNoCookie(t, r.Response, c.Name())
		if n := mwCountFold(mwVaryTokens(r.Header), "Cookie"); n != 1 {
			t.Errorf("Vary: Cookie appears %d times on the %d response", n, code)
		}
		if after, _ := e.jarValue(t, "/", c.Name()); after != before {
			t.Error("the browser's session cookie changed")
		}
		if got := e.get(t, "/get?k=hello").body; got != "before" {
			t.Errorf("after a %d: got %q, want before", code, got)
		}
	})
}

func TestMiddleware_SessionSaveOn500(t *testing.T) { mwSaveOn5xx(t, http.StatusInternalServerError) }

func TestMiddleware_SessionSaveOn5xx(t *testing.T) { mwSaveOn5xx(t, http.StatusServiceUnavailable) }

func TestMiddleware_SessionDeleteOnEnd(t *testing.T) {
	c, _, _ := mwNew(t, Config{Insecure: true})
	e := mwStart(t, c.Middleware(mwApp()), false)
	e.get(t, "/set?k=user&v=ann")
	if _, ok := e.jarValue(t, "/", c.Name()); !ok {
		t.Fatal("no session cookie in the jar")
	}
	r := e.get(t, "/flush")
	ck, raw := mwOneCookie(t, r.Response, c.Name())
	mwDeletion(t, ck, raw)
	if ck.Path != "/" {
		t.Errorf("deletion Path %q, want /", ck.Path)
	}
	if got := r.Header.Values("Vary"); len(got) != 1 || got[0] != "Cookie" {
		t.Errorf("Vary = %q, want [Cookie]", got)
	}
	if _, ok := e.jarValue(t, "/", c.Name()); ok {
		t.Error("the jar still holds the session cookie after the deletion")
	}

	// Django's version sends a cookie that does not even open ("abc").
	r = e.get(t, "/flush", c.Name()+"=abc")
	ck, raw = mwOneCookie(t, r.Response, c.Name())
	mwDeletion(t, ck, raw)
}

func TestMiddleware_SessionDeleteOnEndWithCustomDomainAndPath(t *testing.T) {
	// srv.Client() sends requests for example.com and its subdomains to
	// the test server, so the jar applies real Domain and Path matching.
	c, _, _ := mwNew(t, Config{Insecure: true, Domain: "example.com", Path: "/example/"})
	e := mwStart(t, c.Middleware(mwApp()), false)
	base := "http://www.example.com/example/"

	ck, raw := mwOneCookie(t, e.get(t, base+"set?k=user&v=ann").Response, c.Name())
	if ck.Domain != "example.com" || ck.Path != "/example/" {
		t.Fatalf("cookie %q: want Domain=example.com and Path=/example/", raw)
	}
	if _, ok := e.jarValue(t, "http://other.example.com/example/x", c.Name()); !ok {
		t.Fatal("the jar does not send the cookie to a sibling subdomain")
	}
	if _, ok := e.jarValue(t, "http://www.example.com/elsewhere", c.Name()); ok {
		t.Fatal("the jar sends the cookie outside its Path")
	}

	r := e.get(t, base+"flush")
	ck, raw = mwOneCookie(t, r.Response, c.Name())
	mwDeletion(t, ck, raw)
	if ck.Domain != "example.com" || ck.Path != "/example/" {
		t.Errorf("deletion %q: want Domain=example.com and Path=/example/", raw)
	}
	if _, ok := e.jarValue(t, base, c.Name()); ok {
		t.Error("the deletion cookie did not remove the browser's cookie")
	}
}

func TestMiddleware_FlushEmptyWithoutSessionCookieDoesntSetCookie(t *testing.T) {
	c, _, _ := mwNew(t, Config{Insecure: true})
	e := mwStart(t, c.Middleware(mwApp()), false)
	r := e.get(t, "/flush")
	if got := r.Header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("Set-Cookie %q on a flushed session without a cookie", got)
	}
	if got := r.Header.Values("Vary"); len(got) != 1 || got[0] != "Cookie" {
		t.Errorf("Vary = %q, want [Cookie]: the session was accessed", got)
	}
}

func TestMiddleware_EmptySessionSaved(t *testing.T) {
	for _, emptier := range []string{"/delete?k=foo", "/clear", "/flush"} {
		t.Run(emptier, func(t *testing.T) {
			c, _, _ := mwNew(t, Config{Insecure: true})
			e := mwStart(t, c.Middleware(mwApp()), false)
			r := e.get(t, "/set?k=foo&v=bar")
			ck, _ := mwOneCookie(t, r.Response, c.Name())
			if v, _ := Get[string](mwOpen(t, c, ck.Value), "foo"); v != "bar" {
				t.Fatalf("cookie holds foo=%q, want bar", v)
			}
			if got := r.Header.Values("Vary"); len(got) != 1 || got[0] != "Cookie" {
				t.Errorf("Vary = %q, want [Cookie]", got)
			}

			r = e.get(t, emptier)
			ck, raw := mwOneCookie(t, r.Response, c.Name())
			mwDeletion(t, ck, raw)
			if got := r.Header.Values("Vary"); len(got) != 1 || got[0] != "Cookie" {
				t.Errorf("Vary = %q, want [Cookie]", got)
			}
			if got := e.get(t, "/get?k=foo").body; got != "<none>" {
				t.Errorf("after emptying: foo=%q", got)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Laziness.

func TestMiddleware_LazyUntouchedSessionCostsNothing(t *testing.T) {
	for _, tc := range []struct {
		target  string
		touched bool
	}{
		{"/untouched", false},   // never calls FromContext
		{"/fromcontext", false}, // calls FromContext, no Session method
		{"/get?k=x", true},      // control: the same cookies, touched
	} {
		t.Run(tc.target, func(t *testing.T) {
			c, _, lg := mwNew(t, Config{Insecure: true})
			e := mwStart(t, c.Middleware(mwApp()), false)
			valid := mwSealed(t, c, "x", "y")
			tampered := valid[:len(valid)-6] + "AAAA=="
			r := e.get(t, tc.target, c.Name()+"="+tampered)
			if r.StatusCode != http.StatusOK {
				t.Fatalf("status %d", r.StatusCode)
			}
			if !tc.touched {
				for _, h := range []string{"Set-Cookie", "Vary", "Cache-Control"} {
					if v := r.Header.Values(h); len(v) != 0 {
						t.Errorf("%s: %q on a response whose handler did not touch the session", h, v)
					}
				}
				if s := lg.String(); s != "" {
					t.Errorf("the cookie was opened (logged %q) though the session was never touched", s)
				}
				return
			}
			ck, raw := mwOneCookie(t, r.Response, c.Name())
			mwDeletion(t, ck, raw)
			if len(lg.find(t, slog.LevelWarn, "rejected")) != 1 {
				t.Errorf("control: want one rejection logged, got %q", lg.String())
			}
		})
	}
}

// ---------------------------------------------------------------------------
// When the cookie is written.

// mwFlushUnderlying flushes the real ResponseWriter under the middleware,
// so the headers as they stand go on the wire without the wrapper's help.
func mwFlushUnderlying(t *testing.T, w http.ResponseWriter) {
	u, ok := w.(interface{ Unwrap() http.ResponseWriter })
	if !ok {
		t.Errorf("%T has no Unwrap method", w)
		return
	}
	if err := http.NewResponseController(u.Unwrap()).Flush(); err != nil {
		t.Errorf("flushing the underlying writer: %v", err)
	}
}

func TestMiddleware_CookieBeforeFirstByte(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		fire   func(w http.ResponseWriter) error
	}{
		{"WriteHeader 200", 200, func(w http.ResponseWriter) error { w.WriteHeader(200); return nil }},
		{"WriteHeader 201", 201, func(w http.ResponseWriter) error { w.WriteHeader(201); return nil }},
		{"WriteHeader 204", 204, func(w http.ResponseWriter) error { w.WriteHeader(204); return nil }},
		{"WriteHeader 303", 303, func(w http.ResponseWriter) error {
			w.Header().Set("Location", "/next")
			w.WriteHeader(303)
			return nil
		}},
		{"WriteHeader 404", 404, func(w http.ResponseWriter) error { w.WriteHeader(404); return nil }},
		{"WriteHeader 451", 451, func(w http.ResponseWriter) error { w.WriteHeader(451); return nil }},
		{"first Write", 200, func(w http.ResponseWriter) error { _, err := io.WriteString(w, "first chunk"); return err }},
		{"ReadFrom", 200, func(w http.ResponseWriter) error {
			rf, ok := w.(io.ReaderFrom)
			if !ok {
				return fmt.Errorf("%T is not an io.ReaderFrom", w)
			}
			_, err := rf.ReadFrom(io.LimitReader(strings.NewReader("first chunk"), 100))
			return err
		}},
		{"http.Flusher", 200, func(w http.ResponseWriter) error {
			f, ok := w.(http.Flusher)
			if !ok {
				return fmt.Errorf("%T is not an http.Flusher", w)
			}
			f.Flush()
			return nil
		}},
		{"ResponseController.Flush", 200, func(w http.ResponseWriter) error { return http.NewResponseController(w).Flush() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, lg := mwNew(t, Config{Insecure: true})
			release := make(chan struct{})
			done := make(chan struct{})
			var returned atomic.Bool
			app := c.Middleware(mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
				s.Set("k", "v")
				if err := tc.fire(w); err != nil {
					t.Error(err)
				}
				mwFlushUnderlying(t, w)
				select {
				case <-release:
				case <-time.After(10 * time.Second):
					t.Error("the client never released the handler")
				}
				s.Set("late", "secret-late-value")
				if tc.status != 204 && tc.status != 303 {
					io.WriteString(w, " rest")
				}
			}))
			e := mwStart(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(done)
				app.ServeHTTP(w, r)
				returned.Store(true)
			}), false)

			resp, err := e.client.Get(e.srv.URL + "/")
			if err != nil {
				close(release)
				t.Fatal(err)
			}
			if returned.Load() {
				t.Error("the handler returned before the client saw the headers")
			}
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			ck, _ := mwOneCookie(t, resp, c.Name())
			close(release)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			<-done

			s := mwOpen(t, c, ck.Value)
			if v, _ := Get[string](s, "k"); v != "v" {
				t.Errorf("cookie holds k=%q, want v", v)
			}
			if s.Has("late") {
				t.Error("the cookie holds a change made after the headers were sent")
			}
			if n := len(lg.find(t, slog.LevelError, "after the response headers were sent")); n != 1 {
				t.Errorf("want the lost change logged once at ERROR, log: %q", lg.String())
			}
			if strings.Contains(lg.String(), "secret-late-value") {
				t.Error("the log holds the session's data")
			}
		})
	}
}

func TestMiddleware_DeletionBeforeFirstByteOn5xx(t *testing.T) {
	// A 5xx saves no changes, but a deletion still goes out, and on
	// WriteHeader, before the body.
	c, _, _ := mwNew(t, Config{Insecure: true})
	release := make(chan struct{})
	h := http.NewServeMux()
	h.Handle("/", mwApp())
	h.Handle("/logout-fails", mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
		s.Flush()
		w.WriteHeader(http.StatusServiceUnavailable)
		mwFlushUnderlying(t, w)
		select {
		case <-release:
		case <-time.After(10 * time.Second):
			t.Error("the client never released the handler")
		}
	}))
	e := mwStart(t, c.Middleware(h), false)
	e.get(t, "/set?k=user&v=ann")
	resp, err := e.client.Get(e.srv.URL + "/logout-fails")
	close(release)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d", resp.StatusCode)
	}
	_, parsed := mwSetCookies(t, resp, c.Name())
	if len(parsed) != 1 || parsed[0].MaxAge >= 0 {
		t.Errorf("want a deletion cookie on the 503, got %q", resp.Header.Values("Set-Cookie"))
	}
}

func TestMiddleware_CookieBeforeHijack(t *testing.T) {
	for _, tc := range []struct {
		name   string
		hijack func(w http.ResponseWriter) (io.Closer, *bufio.ReadWriter, error)
	}{
		{"http.Hijacker", func(w http.ResponseWriter) (io.Closer, *bufio.ReadWriter, error) {
			hj, ok := w.(http.Hijacker)
			if !ok {
				return nil, nil, fmt.Errorf("%T is not an http.Hijacker", w)
			}
			return hj.Hijack()
		}},
		{"ResponseController.Hijack", func(w http.ResponseWriter) (io.Closer, *bufio.ReadWriter, error) {
			return http.NewResponseController(w).Hijack()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, lg := mwNew(t, Config{Insecure: true})
			done := make(chan struct{})
			app := c.Middleware(mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
				s.Set("k", "v")
				hdr := w.Header() // the map the middleware adds the cookie to
				conn, rw, err := tc.hijack(w)
				if err != nil {
					t.Error(err)
					return
				}
				defer conn.Close()
				// The handler answers on the raw connection with the
				// headers it was given.
				rw.WriteString("HTTP/1.1 200 OK\r\n")
				hdr.Write(rw)
				rw.WriteString("Content-Length: 2\r\nConnection: close\r\n\r\nok")
				rw.Flush()
			}))
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(done)
				app.ServeHTTP(w, r)
			}))
			serverLog := &mwLog{}
			srv.Config.ErrorLog = log.New(serverLog, "", 0)
			srv.Start()
			t.Cleanup(srv.Close)
			e := mwClientFor(t, srv)

			r := e.get(t, "/")
			<-done
			if r.body != "ok" {
				t.Errorf("body %q", r.body)
			}
			ck, _ := mwOneCookie(t, r.Response, c.Name())
			if v, _ := Get[string](mwOpen(t, c, ck.Value), "k"); v != "v" {
				t.Errorf("cookie holds k=%q, want v", v)
			}
			if n := mwCountFold(mwVaryTokens(r.Header), "Cookie"); n != 1 {
				t.Errorf("Vary: Cookie appears %d times", n)
			}
			if s := serverLog.String(); s != "" {
				t.Errorf("the server complained (the middleware wrote after the hijack?): %q", s)
			}
			if s := lg.String(); s != "" {
				t.Errorf("unexpected log: %q", s)
			}
		})
	}
}

func TestMiddleware_InformationalResponseCarriesNoCookie(t *testing.T) {
	c, _, _ := mwNew(t, Config{Insecure: true})
	e := mwStart(t, c.Middleware(mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
		s.Set("k", "v")
		w.Header().Set("Link", "</style.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		io.WriteString(w, "ok")
	})), false)

	var (
		mu    sync.Mutex
		codes []int
		heads []textproto.MIMEHeader
	)
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		mu.Lock()
		defer mu.Unlock()
		codes = append(codes, code)
		heads = append(heads, h)
		return nil
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, e.srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := e.do(t, req)

	mu.Lock()
	defer mu.Unlock()
	if len(codes) != 1 || codes[0] != http.StatusEarlyHints {
		t.Fatalf("1xx responses seen: %v, want [103]", codes)
	}
	if heads[0].Get("Link") == "" {
		t.Error("the 103 lacks its Link header")
	}
	if v := heads[0].Values("Set-Cookie"); len(v) != 0 {
		t.Errorf("the 103 carries Set-Cookie %q", v)
	}
	if r.StatusCode != 200 || r.body != "ok" {
		t.Errorf("final response %d %q", r.StatusCode, r.body)
	}
	ck, _ := mwOneCookie(t, r.Response, c.Name())
	if v, _ := Get[string](mwOpen(t, c, ck.Value), "k"); v != "v" {
		t.Errorf("cookie holds k=%q", v)
	}
}

func TestMiddleware_SwitchingProtocolsCarriesCookie(t *testing.T) {
	// 101 is the final response for this connection's HTTP, so unlike
	// other 1xx codes it commits the session.
	c, _, _ := mwNew(t, Config{Insecure: true})
	e := mwStart(t, c.Middleware(mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
		s.Set("k", "v")
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "test")
		w.WriteHeader(http.StatusSwitchingProtocols)
		mwFlushUnderlying(t, w)
	})), false)
	req, err := http.NewRequest(http.MethodGet, e.srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "test")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	ck, _ := mwOneCookie(t, resp, c.Name())
	if v, _ := Get[string](mwOpen(t, c, ck.Value), "k"); v != "v" {
		t.Errorf("cookie holds k=%q", v)
	}
}

func TestMiddleware_HandlerThatWritesNothingGetsCookie(t *testing.T) {
	c, _, _ := mwNew(t, Config{Insecure: true})
	e := mwStart(t, c.Middleware(mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
		s.Set("k", "v")
	})), false)
	r := e.get(t, "/")
	if r.StatusCode != 200 || r.body != "" {
		t.Errorf("got %d %q, want 200 and no body", r.StatusCode, r.body)
	}
	ck, _ := mwOneCookie(t, r.Response, c.Name())
	if v, _ := Get[string](mwOpen(t, c, ck.Value), "k"); v != "v" {
		t.Errorf("cookie holds k=%q", v)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
}

func TestMiddleware_UnwrapReachesResponseController(t *testing.T) {
	c, _, _ := mwNew(t, Config{Insecure: true})
	e := mwStart(t, c.Middleware(mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
		rc := http.NewResponseController(w)
		var errs []string
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			errs = append(errs, "SetWriteDeadline: "+err.Error())
		}
		if err := rc.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
			errs = append(errs, "SetReadDeadline: "+err.Error())
		}
		if err := rc.EnableFullDuplex(); err != nil {
			errs = append(errs, "EnableFullDuplex: "+err.Error())
		}
		s.Set("k", "v")
		if err := rc.Flush(); err != nil {
			errs = append(errs, "Flush: "+err.Error())
		}
		io.WriteString(w, strings.Join(errs, "; "))
	})), false)
	r := e.get(t, "/")
	if r.body != "" {
		t.Errorf("through the middleware: %s", r.body)
	}
	mwOneCookie(t, r.Response, c.Name())
}

// ---------------------------------------------------------------------------
// What the cookie says.

func TestMiddleware_MaxAgeIsRemainingLife(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    Config
		expiry func(s *Session, now time.Time)
		maxAge int // 0: no Max-Age and no Expires
	}{
		{"default", Config{}, nil, 1209600},
		{"Config.MaxAge", Config{MaxAge: time.Hour}, nil, 3600},
		{"SetExpiry 10m", Config{}, func(s *Session, _ time.Time) { s.SetExpiry(10 * time.Minute) }, 600},
		{"SetExpiryAt +2h", Config{}, func(s *Session, now time.Time) { s.SetExpiryAt(now.Add(2 * time.Hour)) }, 7200},
		{"AbsoluteTimeout caps", Config{AbsoluteTimeout: 90 * time.Second}, nil, 90},
		{"browser close", Config{}, func(s *Session, _ time.Time) { s.SetExpiry(0) }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Insecure = true
			c, clk, _ := mwNew(t, tc.cfg)
			e := mwStart(t, c.Middleware(mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
				s.Set("k", "v")
				if tc.expiry != nil {
					tc.expiry(s, clk.Now())
				}
			})), false)
			ck, raw := mwOneCookie(t, e.get(t, "/").Response, c.Name())
			if tc.maxAge == 0 {
				if ck.MaxAge != 0 || !ck.Expires.IsZero() || strings.Contains(raw, "Max-Age") || strings.Contains(raw, "Expires") {
					t.Errorf("browser-close cookie has a lifetime: %q", raw)
				}
				return
			}
			if ck.MaxAge != tc.maxAge || !strings.Contains(raw, fmt.Sprintf("Max-Age=%d", tc.maxAge)) {
				t.Errorf("got %q, want Max-Age=%d", raw, tc.maxAge)
			}
		})
	}
}

func TestMiddleware_DeletesWhenSessionBecomesEmpty(t *testing.T) {
	// A key with a TTL is the only data; once it is gone, a read-only
	// request carrying the cookie deletes it.
	c, clk, _ := mwNew(t, Config{Insecure: true})
	h := http.NewServeMux()
	h.Handle("/", mwApp())
	h.Handle("/otp", mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
		s.SetWithTTL("otp", "123456", time.Minute)
	}))
	e := mwStart(t, c.Middleware(h), false)
	mwOneCookie(t, e.get(t, "/otp").Response, c.Name())
	if got := e.get(t, "/get?k=otp"); got.body != "123456" {
		t.Fatalf("otp=%q before its TTL", got.body)
	} else {
		mwNoCookie(t, got.Response, c.Name())
	}
	clk.Advance(2 * time.Minute)
	r := e.get(t, "/get?k=otp")
	if r.body != "<none>" {
		t.Errorf("otp=%q after its TTL", r.body)
	}
	ck, raw := mwOneCookie(t, r.Response, c.Name())
	mwDeletion(t, ck, raw)
}

func TestMiddleware_NoCookieForEmptySessionWithoutRequestCookie(t *testing.T) {
	c, _, _ := mwNew(t, Config{Insecure: true})
	h := http.NewServeMux()
	h.Handle("/", mwApp())
	h.Handle("/set-then-delete", mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
		s.Set("k", "v")
		s.Delete("k")
	}))
	h.Handle("/expired", mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
		s.Set("k", "v")
		s.SetExpiry(-1)
	}))
	e := mwStart(t, c.Middleware(h), false)
	for _, target := range []string{"/get?k=k", "/keys", "/flush", "/clear", "/delete?k=k", "/set-then-delete", "/expired"} {
		r := e.get(t, target)
		if r.StatusCode != 200 {
			t.Errorf("%s: status %d", target, r.StatusCode)
		}
		if v := r.Header.Values("Set-Cookie"); len(v) != 0 {
			t.Errorf("%s: Set-Cookie %q for an empty session and no request cookie", target, v)
		}
		if n := mwCountFold(mwVaryTokens(r.Header), "Cookie"); n != 1 {
			t.Errorf("%s: Vary: Cookie appears %d times", target, n)
		}
	}
}

// ---------------------------------------------------------------------------
// Sliding refresh and key rotation.

func TestMiddleware_SlidingRefresh(t *testing.T) {
	t.Run("default window", func(t *testing.T) {
		c, clk, _ := mwNew(t, Config{Insecure: true})
		e := mwStart(t, c.Middleware(mwApp()), false)
		first, _ := mwOneCookie(t, e.get(t, "/set?k=user&v=ann").Response, c.Name())

		clk.Advance(3 * mwDay) // 3/14 < 0.25 of the window
		r := e.get(t, "/get?k=user")
		if r.body != "ann" {
			t.Fatalf("day 3: user=%q", r.body)
		}
		mwNoCookie(t, r.Response, c.Name())

		clk.Advance(mwDay) // 4/14 > 0.25
		r = e.get(t, "/get?k=user")
		ck, _ := mwOneCookie(t, r.Response, c.Name())
		if ck.Value == first.Value || ck.MaxAge != 1209600 {
			t.Errorf("refresh: Max-Age %d, want a new cookie with 1209600", ck.MaxAge)
		}
		if got := mwOpen(t, c, ck.Value).SealedAt(); !got.Equal(clk.Now().Truncate(time.Second)) {
			t.Errorf("resealed at %v, want %v", got, clk.Now())
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q on a refresh", r.Header.Get("Cache-Control"))
		}

		// Day 15: past the first cookie's deadline, not the refreshed one.
		clk.Advance(11 * mwDay)
		if got := e.get(t, "/get?k=user").body; got != "ann" {
			t.Errorf("day 15: user=%q, want the session kept alive by the refresh", got)
		}
	})

	t.Run("RefreshAfter 1 never slides", func(t *testing.T) {
		c, clk, _ := mwNew(t, Config{Insecure: true, RefreshAfter: 1})
		e := mwStart(t, c.Middleware(mwApp()), false)
		e.get(t, "/set?k=user&v=ann")
		for i := 0; i < 13; i++ {
			clk.Advance(mwDay)
			mwNoCookie(t, e.get(t, "/get?k=user").Response, c.Name())
		}
		clk.Advance(mwDay + time.Second)
		r := e.get(t, "/get?k=user")
		if r.body != "<none>" {
			t.Errorf("day 14: user=%q, want expired", r.body)
		}
		ck, raw := mwOneCookie(t, r.Response, c.Name())
		mwDeletion(t, ck, raw)
	})

	t.Run("idle expiry 1h", func(t *testing.T) {
		c, clk, _ := mwNew(t, Config{Insecure: true})
		h := http.NewServeMux()
		h.Handle("/", mwApp())
		h.Handle("/login", mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
			s.Set("user", "ann")
			s.SetExpiry(time.Hour)
		}))
		e := mwStart(t, c.Middleware(h), false)
		if ck, _ := mwOneCookie(t, e.get(t, "/login").Response, c.Name()); ck.MaxAge != 3600 {
			t.Fatalf("Max-Age %d, want 3600", ck.MaxAge)
		}
		clk.Advance(14 * time.Minute)
		mwNoCookie(t, e.get(t, "/get?k=user").Response, c.Name())
		clk.Advance(2 * time.Minute) // 16 min > 15 min
		r := e.get(t, "/get?k=user")
		ck, _ := mwOneCookie(t, r.Response, c.Name())
		if ck.MaxAge != 3600 || r.body != "ann" {
			t.Errorf("refresh: Max-Age %d, user %q", ck.MaxAge, r.body)
		}
		clk.Advance(59 * time.Minute) // 75 min after login, 59 after the refresh
		if got := e.get(t, "/get?k=user").body; got != "ann" {
			t.Errorf("after the refresh: user=%q", got)
		}
	})

	t.Run("exact threshold", func(t *testing.T) {
		// RefreshAfter 0.5 of a 1000 s window: the reseal is due at 500 s.
		c, clk, _ := mwNew(t, Config{Insecure: true, MaxAge: 1000 * time.Second, RefreshAfter: 0.5})
		e := mwStart(t, c.Middleware(mwApp()), false)
		e.get(t, "/set?k=user&v=ann")
		clk.Advance(499 * time.Second)
		mwNoCookie(t, e.get(t, "/get?k=user").Response, c.Name())
		clk.Advance(time.Second)
		if ck, _ := mwOneCookie(t, e.get(t, "/get?k=user").Response, c.Name()); ck.MaxAge != 1000 {
			t.Errorf("Max-Age %d, want 1000", ck.MaxAge)
		}
	})

	t.Run("browser-close session slides on Config.MaxAge", func(t *testing.T) {
		c, clk, _ := mwNew(t, Config{Insecure: true})
		h := http.NewServeMux()
		h.Handle("/", mwApp())
		h.Handle("/login", mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
			s.Set("user", "ann")
			s.SetExpiry(0)
		}))
		e := mwStart(t, c.Middleware(h), false)
		e.get(t, "/login")
		clk.Advance(4 * mwDay)
		ck, raw := mwOneCookie(t, e.get(t, "/get?k=user").Response, c.Name())
		if ck.MaxAge != 0 || !ck.Expires.IsZero() {
			t.Errorf("refreshed browser-close cookie got a lifetime: %q", raw)
		}
		clk.Advance(11 * mwDay) // 15 days after login
		if got := e.get(t, "/get?k=user").body; got != "ann" {
			t.Errorf("user=%q after the refresh", got)
		}
	})

	t.Run("fixed deadline does not slide", func(t *testing.T) {
		c, clk, _ := mwNew(t, Config{Insecure: true})
		h := http.NewServeMux()
		h.Handle("/", mwApp())
		h.Handle("/login", mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
			s.Set("user", "ann")
			s.SetExpiryAt(clk.Now().Add(10 * mwDay))
		}))
		e := mwStart(t, c.Middleware(h), false)
		e.get(t, "/login")
		clk.Advance(8 * mwDay)
		r := e.get(t, "/get?k=user")
		if r.body != "ann" {
			t.Fatalf("user=%q", r.body)
		}
		mwNoCookie(t, r.Response, c.Name())
	})
}

func TestMiddleware_ResealsWithPrimaryKey(t *testing.T) {
	kr := newKeyring(t, "old")
	c, _, lg := mwNew(t, Config{Insecure: true, Keys: kr})
	e := mwStart(t, c.Middleware(mwApp()), false)
	first, _ := mwOneCookie(t, e.get(t, "/set?k=user&v=ann").Response, c.Name())
	if !strings.HasPrefix(first.Value, "old.") {
		t.Fatalf("cookie %q not sealed with old", first.Value)
	}
	mwNoCookie(t, e.get(t, "/get?k=user").Response, c.Name()) // fresh, primary: nothing to do

	k, err := GenerateKey("new")
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Rotate(k); err != nil {
		t.Fatal(err)
	}
	r := e.get(t, "/get?k=user")
	if r.body != "ann" {
		t.Fatalf("after Rotate: user=%q", r.body)
	}
	ck, _ := mwOneCookie(t, r.Response, c.Name())
	if !strings.HasPrefix(ck.Value, "new.") {
		t.Errorf("resealed cookie %q does not start with new.", ck.Value)
	}
	if s := mwOpen(t, c, ck.Value); s.KeyID() != "new" || GetOr(s, "user", "") != "ann" {
		t.Errorf("resealed session: key %q, user %q", s.KeyID(), GetOr(s, "user", ""))
	}
	mwNoCookie(t, e.get(t, "/get?k=user").Response, c.Name())

	if err := kr.Retire("old"); err != nil {
		t.Fatal(err)
	}
	if got := e.get(t, "/get?k=user").body; got != "ann" {
		t.Errorf("after retiring the old key: user=%q", got)
	}
	if s := lg.String(); s != "" {
		t.Errorf("unexpected log: %q", s)
	}
}

// ---------------------------------------------------------------------------
// Cookies that do not open.

func TestMiddleware_RejectedCookies(t *testing.T) {
	kr := newKeyring(t, "k1")
	for _, tc := range []struct {
		name   string
		value  func(t *testing.T, c *Codec, clk *testClock) string
		level  slog.Level
		reason string
	}{
		{"garbage", func(*testing.T, *Codec, *testClock) string { return "garbage" }, slog.LevelWarn, ErrInvalid.Error()},
		{"tampered", func(t *testing.T, c *Codec, _ *testClock) string {
			v := []byte(mwSealed(t, c, "user", "ann"))
			i := len(v) / 2
			if v[i] == 'A' {
				v[i] = 'B'
			} else {
				v[i] = 'A'
			}
			return string(v)
		}, slog.LevelWarn, ErrInvalid.Error()},
		{"other cookie name", func(t *testing.T, c *Codec, clk *testClock) string {
			// Same keyring, same clock, another cookie name.
			other, err := NewCodec(Config{Name: "other", Keys: kr, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			return mwSealed(t, other, "user", "ann")
		}, slog.LevelWarn, ErrInvalid.Error()},
		{"expired", func(t *testing.T, c *Codec, clk *testClock) string {
			v := mwSealed(t, c, "user", "ann")
			clk.Advance(15 * mwDay)
			return v
		}, slog.LevelInfo, ErrExpired.Error()},
		{"revoked", func(t *testing.T, c *Codec, clk *testClock) string {
			v := mwSealed(t, c, "user", "ann")
			clk.Advance(time.Minute)
			c.SetNotBefore(clk.Now())
			return v
		}, slog.LevelWarn, "revoked"},
		{"unknown key", func(t *testing.T, c *Codec, clk *testClock) string {
			other, _ := newTestCodec(t, Config{Keys: newKeyring(t, "stranger"), Now: clk.Now})
			return mwSealed(t, other, "user", "ann")
		}, slog.LevelWarn, ErrUnknownKey.Error()},
		{"too long", func(*testing.T, *Codec, *testClock) string {
			return strings.Repeat("A", 5000)
		}, slog.LevelWarn, ErrTooLarge.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, clk, lg := mwNew(t, Config{Insecure: true, Keys: kr})
			e := mwStart(t, c.Middleware(mwApp()), false)
			value := tc.value(t, c, clk)
			r := e.get(t, "/keys", c.Name()+"="+value)
			if r.StatusCode != http.StatusOK || r.body != "keys=" {
				t.Errorf("got %d %q, want 200 and an empty session", r.StatusCode, r.body)
			}
			ck, raw := mwOneCookie(t, r.Response, c.Name())
			mwDeletion(t, ck, raw)

			recs := lg.find(t, tc.level, "session cookie rejected")
			if len(recs) != 1 {
				t.Fatalf("want one %v rejection record, log: %q", tc.level, lg.String())
			}
			if reason, _ := recs[0]["reason"].(string); !strings.Contains(reason, tc.reason) {
				t.Errorf("reason %q does not say %q", reason, tc.reason)
			}
			logged := lg.String()
			if strings.Contains(logged, value) {
				t.Error("the log holds the cookie value")
			}
			if _, sealed, ok := strings.Cut(value, "."); ok && len(sealed) > 16 && strings.Contains(logged, sealed[:16]) {
				t.Error("the log holds part of the sealed value")
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Vary and Cache-Control.

func TestMiddleware_VaryCookieOnce(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pre      []string
		wantKept []string
	}{
		{"none", nil, nil},
		{"Accept-Encoding", []string{"Accept-Encoding"}, []string{"Accept-Encoding"}},
		{"cookie lower case", []string{"cookie"}, nil},
		{"list with Cookie", []string{"Accept-Encoding, Cookie"}, []string{"Accept-Encoding"}},
		{"two lines", []string{"Accept-Encoding", "Accept-Language"}, []string{"Accept-Encoding", "Accept-Language"}},
	} {
		for _, write := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/set=%v", tc.name, write), func(t *testing.T) {
				c, _, _ := mwNew(t, Config{Insecure: true})
				e := mwStart(t, c.Middleware(mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
					for _, v := range tc.pre {
						w.Header().Add("Vary", v)
					}
					if write {
						s.Set("k", "v")
					} else {
						s.Get("k")
					}
				})), false)
				r := e.get(t, "/")
				tokens := mwVaryTokens(r.Header)
				if n := mwCountFold(tokens, "Cookie"); n != 1 {
					t.Errorf("Vary %q names Cookie %d times", r.Header.Values("Vary"), n)
				}
				for _, k := range tc.wantKept {
					if mwCountFold(tokens, k) != 1 {
						t.Errorf("Vary %q lost %s", r.Header.Values("Vary"), k)
					}
				}
			})
		}
	}
	t.Run("star", func(t *testing.T) {
		c, _, _ := mwNew(t, Config{Insecure: true})
		e := mwStart(t, c.Middleware(mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
			w.Header().Set("Vary", "*")
			s.Set("k", "v")
		})), false)
		if got := e.get(t, "/").Header.Values("Vary"); len(got) != 1 || got[0] != "*" {
			t.Errorf("Vary %q, want [*]", got)
		}
	})
}

func TestMiddleware_CacheControlNoStore(t *testing.T) {
	for _, tc := range []struct {
		name string
		pre  []string
		want []string // directives, in order, of the joined header
	}{
		{"none", nil, []string{"no-store"}},
		{"private", []string{"private"}, []string{"private", "no-store"}},
		{"private, no-store untouched", []string{"private, no-store"}, []string{"private", "no-store"}},
		{"NO-STORE untouched", []string{"NO-STORE"}, []string{"NO-STORE"}},
		{"two lines", []string{"private", "max-age=0"}, []string{"private", "max-age=0", "no-store"}},
		{"two lines, no-store on the second", []string{"private", "no-store"}, []string{"private", "no-store"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, _ := mwNew(t, Config{Insecure: true})
			e := mwStart(t, c.Middleware(mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
				for _, v := range tc.pre {
					w.Header().Add("Cache-Control", v)
				}
				s.Set("k", "v")
			})), false)
			r := e.get(t, "/")
			mwOneCookie(t, r.Response, c.Name())
			var got []string
			for _, line := range r.Header.Values("Cache-Control") {
				for _, d := range strings.Split(line, ",") {
					got = append(got, strings.TrimSpace(d))
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("Cache-Control %q, want %q", r.Header.Values("Cache-Control"), strings.Join(tc.want, ", "))
			}
		})
	}
	t.Run("untouched without Set-Cookie", func(t *testing.T) {
		c, _, _ := mwNew(t, Config{Insecure: true})
		e := mwStart(t, c.Middleware(mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
			w.Header().Set("Cache-Control", "public, max-age=60")
			s.Get("k") // accessed, nothing to set
		})), false)
		r := e.get(t, "/")
		if got := r.Header.Values("Cache-Control"); len(got) != 1 || got[0] != "public, max-age=60" {
			t.Errorf("Cache-Control %q changed on a response without Set-Cookie", got)
		}
	})
}

// ---------------------------------------------------------------------------
// Changes too late, oversize sessions, duplicates, concurrency, wiring.

func TestMiddleware_ChangeAfterCommitIsLogged(t *testing.T) {
	c, _, lg := mwNew(t, Config{Insecure: true})
	h := http.NewServeMux()
	h.Handle("/", mwApp())
	h.Handle("/late", mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
		s.Set("early", "1")
		io.WriteString(w, "body")
		s.Set("late", "secret-late-value")
	}))
	h.Handle("/late-first-touch", mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
		io.WriteString(w, "body")
		s.Set("late2", "secret-late-value")
	}))
	e := mwStart(t, c.Middleware(h), false)

	e.get(t, "/set?k=a&v=b")
	if s := lg.String(); s != "" {
		t.Fatalf("a change before the body is logged: %q", s)
	}

	e.get(t, "/late")
	recs := lg.find(t, slog.LevelError, "after the response headers were sent")
	if len(recs) != 1 {
		t.Fatalf("want one ERROR record, log: %q", lg.String())
	}
	if recs[0]["path"] != "/late" {
		t.Errorf("record path %v", recs[0]["path"])
	}
	e.get(t, "/late-first-touch")
	if n := len(lg.find(t, slog.LevelError, "after the response headers were sent")); n != 2 {
		t.Errorf("a session first touched after the body: %d ERROR records, want 2", n)
	}
	if strings.Contains(lg.String(), "secret-late-value") {
		t.Error("the log holds session data")
	}
	for k, want := range map[string]string{"early": "1", "late": "<none>", "late2": "<none>", "a": "b"} {
		if got := e.get(t, "/get?k="+k).body; got != want {
			t.Errorf("next request: %s=%q, want %q", k, got, want)
		}
	}
}

// Emptying a session that had no cookie after the headers went out loses
// nothing, so nothing is reported.
func TestMiddleware_LateFlushOfEmptySessionIsNotALoss(t *testing.T) {
	c, _, lg := mwNew(t, Config{Insecure: true})
	h := http.NewServeMux()
	h.Handle("/late-flush", mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
		io.WriteString(w, "body")
		s.Flush()
		s.Clear()
	}))
	e := mwStart(t, c.Middleware(h), false)
	e.get(t, "/late-flush")
	if n := len(lg.find(t, slog.LevelError, "after the response headers were sent")); n != 0 {
		t.Fatalf("a late Flush of an empty, cookieless session was reported lost: %q", lg.String())
	}
}

func TestMiddleware_TooLargeSessionIsLoggedNotSaved(t *testing.T) {
	c, _, lg := mwNew(t, Config{Insecure: true})
	h := http.NewServeMux()
	h.Handle("/", mwApp())
	h.Handle("/big", mwH(func(w http.ResponseWriter, r *http.Request, s *Session) {
		b := make([]byte, 4000)
		rand.Read(b)
		s.Set("blob", base64.StdEncoding.EncodeToString(b))
	}))
	e := mwStart(t, c.Middleware(h), false)
	e.get(t, "/set?k=user&v=ann")
	before, _ := e.jarValue(t, "/", c.Name())
	r := e.get(t, "/big")
	if r.StatusCode != 200 {
		t.Errorf("status %d", r.StatusCode)
	}
	mwNoCookie(t, r.Response, c.Name())
	recs := lg.find(t, slog.LevelError, "session not saved")
	if len(recs) != 1 || !strings.Contains(fmt.Sprint(recs[0]["error"]), ErrTooLarge.Error()) {
		t.Errorf("want one ERROR record naming ErrTooLarge, log: %q", lg.String())
	}
	if after, _ := e.jarValue(t, "/", c.Name()); after != before {
		t.Error("the browser's cookie changed")
	}
}

func TestMiddleware_DuplicateSessionCookies(t *testing.T) {
	c, _, lg := mwNew(t, Config{Insecure: true})
	e := mwStart(t, c.Middleware(mwApp()), false)
	valid := mwSealed(t, c, "user", "ann")
	n := c.Name()
	for _, tc := range []struct {
		name  string
		lines []string
	}{
		{"garbage first", []string{n + "=garbage; " + n + "=" + valid}},
		{"valid first", []string{n + "=" + valid + "; " + n + "=garbage"}},
		{"two header lines", []string{n + "=garbage", n + "=" + valid}},
		{"among other cookies", []string{"a=1; " + n + "=garbage; b=2; " + n + "=" + valid + "; c=3"}},
		{"quoted", []string{n + `="` + valid + `"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := lg.String()
			r := e.get(t, "/get?k=user", tc.lines...)
			if r.body != "ann" {
				t.Errorf("user=%q, want the valid cookie used", r.body)
			}
			mwNoCookie(t, r.Response, n)
			if after := lg.String(); after != before {
				t.Errorf("logged %q though a cookie opened", after[len(before):])
			}
		})
	}
	t.Run("every candidate is tried", func(t *testing.T) {
		line := strings.Repeat(n+"=junk; ", 4) + n + "=" + valid
		if r := e.get(t, "/get?k=user", line); r.body != "ann" {
			t.Errorf("user=%q: the cookie after four bad ones was not opened", r.body)
		}
	})
	t.Run("no more than the budget", func(t *testing.T) {
		var line string
		for i := range maxSessionCookies { // distinct: identical copies are tried once
			line += fmt.Sprintf("%s=junk%d; ", n, i)
		}
		line += n + "=" + valid
		r := e.get(t, "/get?k=user", line)
		if r.body != "<none>" {
			t.Errorf("the cookie after %d bad ones was opened", maxSessionCookies)
		}
		if r.StatusCode != 200 {
			t.Errorf("status %d", r.StatusCode)
		}
		mwNoCookie(t, r.Response, n) // several candidates: no deletion
	})
}

func TestMiddleware_ConcurrentHandlerGoroutines(t *testing.T) {
	c, _, _ := mwNew(t, Config{Insecure: true})
	h := http.NewServeMux()
	h.Handle("/", mwApp())
	h.Handle("/fan-out", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := FromContext(r.Context())
				s.Get("base") // races with the first touch elsewhere
				s.Set(fmt.Sprintf("k%d", i), fmt.Sprint(i))
				_ = s.Has("k0")
				_ = s.Keys()
				_ = s.ID()
				_, _ = Get[string](s, "base")
			}()
		}
		wg.Wait()
		io.WriteString(w, "done")
	}))
	e := mwStart(t, c.Middleware(h), false)
	e.get(t, "/set?k=base&v=x")
	mwOneCookie(t, e.get(t, "/fan-out").Response, c.Name())
	want := "keys=base,k0,k1,k2,k3,k4,k5,k6,k7"
	if got := e.get(t, "/keys").body; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMiddleware_FromContextWithoutMiddlewarePanics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				fmt.Fprint(w, "panic: ", p)
			}
		}()
		FromContext(r.Context())
		io.WriteString(w, "no panic")
	}))
	t.Cleanup(srv.Close)
	r := mwClientFor(t, srv).get(t, "/")
	if !strings.HasPrefix(r.body, "panic: ") || !strings.Contains(r.body, "Middleware") {
		t.Errorf("got %q, want a panic that names Middleware", r.body)
	}
}

// ---------------------------------------------------------------------------
// Routers.

func TestMiddleware_ComposesWithServeMuxAndStripPrefix(t *testing.T) {
	c, _, lg := mwNew(t, Config{Insecure: true})

	api := http.NewServeMux()
	api.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Set("item", r.PathValue("id"))
		io.WriteString(w, r.URL.Path)
	})
	api.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		fmt.Fprintf(w, "x=%s item=%s", GetOr(s, "x", "-"), GetOr(s, "item", "-"))
	})
	v1 := http.NewServeMux()
	v1.Handle("/api/", http.StripPrefix("/api", api))

	root := http.NewServeMux()
	root.HandleFunc("GET /x/{id}", func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Set("x", r.PathValue("id"))
		io.WriteString(w, r.PathValue("id"))
	})
	root.Handle("/v1/", http.StripPrefix("/v1", v1))
	// The middleware can also sit under the mux, on one route.
	inner, _, _ := mwNew(t, Config{Insecure: true, Name: "inner"})
	root.Handle("GET /y/{id}", inner.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Set("y", r.PathValue("id"))
		io.WriteString(w, r.PathValue("id"))
	})))

	e := mwStart(t, c.Middleware(root), false)

	r := e.get(t, "/x/7")
	if r.body != "7" {
		t.Errorf("/x/7: body %q", r.body)
	}
	mwOneCookie(t, r.Response, c.Name())

	r = e.get(t, "/v1/api/items/42")
	if r.body != "/items/42" {
		t.Errorf("/v1/api/items/42: body %q", r.body)
	}
	mwOneCookie(t, r.Response, c.Name())

	if got := e.get(t, "/v1/api/whoami").body; got != "x=7 item=42" {
		t.Errorf("whoami: %q", got)
	}

	r = e.get(t, "/y/9")
	if r.body != "9" {
		t.Errorf("/y/9: body %q (PathValue lost through the middleware?)", r.body)
	}
	ck, _ := mwOneCookie(t, r.Response, "inner")
	if v, _ := Get[string](mwOpen(t, inner, ck.Value), "y"); v != "9" {
		t.Errorf("inner cookie holds y=%q", v)
	}

	// Responses the mux writes itself never touch the session.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/x/7", nil)
	for _, r := range []mwResp{e.do(t, req), e.get(t, "/nowhere")} {
		if r.StatusCode != http.StatusMethodNotAllowed && r.StatusCode != http.StatusNotFound {
			t.Errorf("status %d", r.StatusCode)
		}
		if v := r.Header.Values("Set-Cookie"); len(v) != 0 {
			t.Errorf("%d response carries Set-Cookie %q", r.StatusCode, v)
		}
		if v := r.Header.Values("Vary"); len(v) != 0 {
			t.Errorf("%d response carries Vary %q", r.StatusCode, v)
		}
	}
	if s := lg.String(); s != "" {
		t.Errorf("unexpected log: %q", s)
	}
}
