package cookiesession

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// cookieNames returns the name and whether it deletes (Max-Age=0 or
// negative) of each Set-Cookie line, in order.
func setCookieSummary(t *testing.T, lines []string) []string {
	t.Helper()
	var out []string
	for _, line := range lines {
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("ParseSetCookie(%q): %v", line, err)
		}
		what := "set"
		if ck.MaxAge < 0 {
			what = "delete"
		}
		out = append(out, ck.Name+":"+what)
	}
	return out
}

// cookieHeaderOf turns Set-Cookie lines into the Cookie header a browser
// would send next, dropping deletions.
func cookieHeaderOf(t *testing.T, lines []string) string {
	t.Helper()
	var parts []string
	for _, line := range lines {
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("ParseSetCookie(%q): %v", line, err)
		}
		if ck.MaxAge >= 0 {
			parts = append(parts, ck.Name+"="+ck.Value)
		}
	}
	return strings.Join(parts, "; ")
}

// TestCommit_SamePolicyAsMiddleware runs the same handlers through the
// middleware and through Load + Commit and checks that both send the same
// cookies (by name and kind; values differ only by IV) and the same Vary and
// Cache-Control.
func TestCommit_SamePolicyAsMiddleware(t *testing.T) {
	c, clk := newTestCodec(t, Config{Insecure: true, MaxCookies: 3})
	login := func(s *Session) { s.Set("user", "ada") }
	seed := httptest.NewRecorder()
	c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { login(FromContext(r.Context())) })).
		ServeHTTP(seed, httptest.NewRequest("GET", "/", nil))
	cookie := cookieHeaderOf(t, seed.Result().Header["Set-Cookie"])
	if cookie == "" {
		t.Fatal("login set no cookie")
	}

	cases := []struct {
		name    string
		cookie  string
		status  int
		advance time.Duration
		handler func(s *Session)
	}{
		{"untouched", cookie, 200, 0, func(s *Session) {}},
		{"read", cookie, 200, 0, func(s *Session) { s.Get("user") }},
		{"read, stale", cookie, 200, 5 * 24 * time.Hour, func(s *Session) { s.Get("user") }},
		{"changed", cookie, 200, 0, func(s *Session) { s.Set("n", 1) }},
		{"changed, 500", cookie, 500, 0, func(s *Session) { s.Set("n", 1) }},
		{"cleared", cookie, 200, 0, func(s *Session) { s.Clear() }},
		{"flushed, 500", cookie, 500, 0, func(s *Session) { s.Flush() }},
		{"flushed then flash, 500", cookie, 500, 0, func(s *Session) { s.Flush(); s.AddFlash("bye") }},
		{"big, chunked", cookie, 200, 0, func(s *Session) { s.Set("blob", strings.Repeat("x", 6000)) }},
		{"garbage cookie, touched", "session=garbage", 200, 0, func(s *Session) { s.Get("user") }},
		{"no cookie, set", "", 200, 0, func(s *Session) { s.Set("a", "b") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk.Set(testStart.Add(tc.advance))
			// Through the middleware.
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/", nil)
			if tc.cookie != "" {
				req.Header.Set("Cookie", tc.cookie)
			}
			c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tc.handler(FromContext(r.Context()))
				w.WriteHeader(tc.status)
			})).ServeHTTP(rec, req)
			viaMiddleware := rec.Result().Header

			// Through Load and Commit.
			var lines []string
			if tc.cookie != "" {
				lines = []string{tc.cookie}
			}
			s := c.Load(context.Background(), lines...)
			tc.handler(s)
			ch, err := c.Commit(s, tc.status)
			if err != nil {
				t.Fatalf("Commit: %v", err)
			}
			viaCommit := http.Header{}
			ch.Apply(viaCommit)

			got, want := setCookieSummary(t, viaCommit["Set-Cookie"]), setCookieSummary(t, viaMiddleware["Set-Cookie"])
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("Set-Cookie: Commit %v, middleware %v", got, want)
			}
			for _, h := range []string{"Vary", "Cache-Control"} {
				if g, w := viaCommit.Get(h), viaMiddleware.Get(h); g != w {
					t.Errorf("%s: Commit %q, middleware %q", h, g, w)
				}
			}
			if again, _ := c.Commit(s, tc.status); len(again.SetCookie) > 0 && tc.name != "read, stale" {
				t.Errorf("a second Commit without changes sent %v", again.SetCookie)
			}
		})
	}
}

// TestCommit_FlushSurvives5xx: a logout followed by a flash and an error
// page still logs out (issue: the 5xx rule used to drop it silently).
func TestCommit_FlushSurvives5xx(t *testing.T) {
	c, _ := newTestCodec(t, Config{Insecure: true})
	s := c.New()
	s.Set("user", "ada")
	v := mustEncode(t, c, s)

	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		s.Flush()
		s.AddFlash("logged out")
		s.Set("theme", "dark")
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/logout", nil)
	req.AddCookie(&http.Cookie{Name: c.Name(), Value: v})
	h.ServeHTTP(rec, req)
	got := setCookieSummary(t, rec.Result().Header["Set-Cookie"])
	if len(got) != 1 || got[0] != c.Name()+":delete" {
		t.Fatalf("Set-Cookie after Flush+AddFlash+500 = %v, want the deletion of %s", got, c.Name())
	}
}

// TestOnError_ReceivesRejectedAndUnsaved: the hook gets both kinds of
// error, wrapped so errors.Is works, and may answer with its own response
// when the handler wrote nothing.
func TestOnError_ReceivesRejectedAndUnsaved(t *testing.T) {
	var got []error
	c, _ := newTestCodec(t, Config{Insecure: true, OnError: func(w http.ResponseWriter, r *http.Request, err error) {
		got = append(got, err)
		if r == nil || w == nil {
			t.Errorf("OnError called with w=%v r=%v", w, r)
		}
		http.Error(w, "session trouble", http.StatusInternalServerError)
	}})
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Set("ch", make(chan int))
	}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", c.Name()+"=k1.dGFtcGVyZWQ=")
	h.ServeHTTP(rec, req)

	if len(got) != 2 {
		t.Fatalf("OnError called %d times (%v), want 2", len(got), got)
	}
	if !errors.Is(got[0], ErrInvalid) {
		t.Errorf("first error %v, want one wrapping ErrInvalid", got[0])
	}
	if got[1] == nil || errors.Is(got[1], ErrInvalid) {
		t.Errorf("second error %v, want the encoding failure", got[1])
	}
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want the 500 OnError wrote", rec.Code)
	}
	if sc := rec.Result().Header["Set-Cookie"]; len(sc) != 0 {
		t.Errorf("a session that could not be saved sent %v", sc)
	}
}

// TestOnError_DefaultLogs: without the hook both errors are logged, and
// neither log line carries the session's value.
func TestOnError_DefaultLogs(t *testing.T) {
	var buf bytes.Buffer
	c, _ := newTestCodec(t, Config{Insecure: true, MaxLength: 200, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Set("big", strings.Repeat("secret-value ", 40))
	}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", c.Name()+"=nonsense")
	h.ServeHTTP(rec, req)
	out := buf.String()
	for _, want := range []string{"session cookie rejected", "session not saved"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "secret-value") {
		t.Errorf("log carries the session's value:\n%s", out)
	}
}

// TestOpenError tells a handler why its session is empty.
func TestOpenError(t *testing.T) {
	c, clk := newTestCodec(t, Config{Insecure: true, MaxAge: time.Hour})
	s := c.New()
	s.Set("user", "ada")
	v := mustEncode(t, c, s)

	if err := c.Load(context.Background(), c.Name()+"="+v).OpenError(); err != nil {
		t.Errorf("fresh cookie: OpenError %v", err)
	}
	if err := c.Load(context.Background()).OpenError(); err != nil {
		t.Errorf("no cookie: OpenError %v", err)
	}
	clk.Advance(2 * time.Hour)
	if err := c.Load(context.Background(), c.Name()+"="+v).OpenError(); !errors.Is(err, ErrExpired) {
		t.Errorf("expired cookie: OpenError %v, want ErrExpired", err)
	}
	if err := c.Load(context.Background(), c.Name()+"="+v[:len(v)-6]+"AAAA"+v[len(v)-2:]).OpenError(); !errors.Is(err, ErrInvalid) {
		t.Errorf("tampered cookie: OpenError %v, want ErrInvalid", err)
	}
}

// TestCodecFromContext_TwoCodecs: with two codecs in one chain, each finds
// its own session and a change lands in its own cookie.
func TestCodecFromContext_TwoCodecs(t *testing.T) {
	auth, _ := newTestCodec(t, Config{Name: "auth", Insecure: true})
	prefs, _ := newTestCodec(t, Config{Name: "prefs", Insecure: true})
	h := auth.Middleware(prefs.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Session(r).Set("user", "ada")
		prefs.FromContext(r.Context()).Set("theme", "dark")
		if FromContext(r.Context()) != prefs.Session(r) {
			t.Error("package FromContext is not the innermost codec's session")
		}
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	byName := map[string]string{}
	for _, line := range rec.Result().Header["Set-Cookie"] {
		ck, _ := http.ParseSetCookie(line)
		byName[ck.Name] = ck.Value
	}
	if s := mustDecode(t, auth, byName["auth"]); GetOr(s, "user", "") != "ada" || s.Has("theme") {
		t.Errorf("auth cookie holds %v", sessionData(t, s))
	}
	if s := mustDecode(t, prefs, byName["prefs"]); GetOr(s, "theme", "") != "dark" || s.Has("user") {
		t.Errorf("prefs cookie holds %v", sessionData(t, s))
	}
}

// TestNewContext_HandlerUnitTest: a handler test puts a session into the
// request's context without the middleware.
func TestNewContext_HandlerUnitTest(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	other, _ := newTestCodec(t, Config{})
	handler := func(w http.ResponseWriter, r *http.Request) {
		s := c.Session(r)
		s.Set("visits", GetOr(s, "visits", int64(0))+1)
	}
	s := c.New()
	s.Set("visits", 41)
	req := httptest.NewRequest("GET", "/", nil)
	req = req.WithContext(c.NewContext(req.Context(), s))
	handler(httptest.NewRecorder(), req)
	if got := GetOr(s, "visits", int64(0)); got != 42 {
		t.Errorf("visits = %d, want 42", got)
	}
	if FromContext(req.Context()) != s {
		t.Error("package FromContext does not find the session NewContext put in")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("NewContext accepted another codec's session")
			}
		}()
		other.NewContext(context.Background(), s)
	}()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("FromContext of a codec whose session is not there did not panic")
			}
		}()
		other.FromContext(req.Context())
	}()
}
