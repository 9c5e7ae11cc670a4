package cookiesession

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Revocation through Config.Guard: the ID that Flush or Renew leaves behind,
// and RevokeSubject. Helpers come from attack_test.go and once_test.go.

// guardHandler is atkHandler plus the ways a session can end or fail:
// /login?user=X renews and logs X in, /login-500?user=X does the same and
// answers 500, /logout flushes, /logout-everywhere revokes the user's
// sessions and logs in again.
func guardHandler(w http.ResponseWriter, r *http.Request) {
	s := FromContext(r.Context())
	switch r.URL.Path {
	case "/login", "/login-500":
		s.Renew()
		s.Set("user", r.URL.Query().Get("user"))
		if r.URL.Path == "/login-500" {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
	case "/logout":
		s.Flush()
	}
	atkHandler(w, r)
}

// newGuardEnv is atkNewEnv with guardHandler and cfg.Guard (an in-memory
// guard on the env's clock if nil).
func newGuardEnv(t *testing.T, cfg Config) (*atkEnv, *MemoryGuard) {
	t.Helper()
	logs := &atkLogBuf{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clk := newTestClock()
	cfg.Now = clk.Now
	var mem *MemoryGuard
	if cfg.Guard == nil {
		mem = NewMemoryGuard(MemoryGuardConfig{Now: clk.Now})
		cfg.Guard = mem
	}
	c, _ := newTestCodec(t, cfg)
	srv := httptest.NewServer(c.Middleware(http.HandlerFunc(guardHandler)))
	t.Cleanup(srv.Close)
	return &atkEnv{c: c, clk: clk, logs: logs, srv: srv}, mem
}

// sessionCookie returns the session cookie's value a response sets.
func sessionCookie(t *testing.T, r atkResp) string {
	t.Helper()
	ck, _ := r.cookie(t, "session")
	if ck == nil || ck.Value == "" {
		t.Fatalf("no session cookie set: %d %q, Set-Cookie %q", r.status, r.body, r.set)
	}
	return ck.Value
}

func TestGuardRevoke_RenewEndsTheOldID(t *testing.T) {
	for _, guarded := range []bool{false, true} {
		t.Run(fmt.Sprintf("guard=%v", guarded), func(t *testing.T) {
			var e *atkEnv
			if guarded {
				e, _ = newGuardEnv(t, Config{})
			} else {
				e = atkNewEnv(t, Config{})
			}
			before := sessionCookie(t, e.send(t, "/login?user=anon", ""))
			after := sessionCookie(t, e.send(t, "/login?user=alice", "session="+before))
			if r := e.send(t, "/", "session="+after); r.body != "len=1 user=alice" {
				t.Fatalf("the renewed session: %q", r.body)
			}
			r := e.send(t, "/", "session="+before)
			if !guarded {
				// What the guard is for: without it the old ID keeps opening.
				if r.body != "len=1 user=anon" {
					t.Fatalf("without a guard the old cookie gave %q", r.body)
				}
				return
			}
			atkWantRejected(t, r, "session")
			s, err := e.c.Decode(before)
			atkWantErr(t, "Decode of the cookie from before Renew", s, err, ErrRevoked)
			if !strings.Contains(err.Error(), "Renew") {
				t.Errorf("reason %q does not say why", err)
			}
			if recs := e.logs.rejections(t); len(recs) != 1 {
				t.Errorf("%d rejection records, want 1: %s", len(recs), e.logs.String())
			}
		})
	}
}

func TestGuardRevoke_FlushEndsTheOldID(t *testing.T) {
	e, mem := newGuardEnv(t, Config{})
	v := sessionCookie(t, e.send(t, "/login?user=alice", ""))
	r := e.send(t, "/logout", "session="+v)
	if ck, _ := r.cookie(t, "session"); ck == nil || ck.Value != "" || r.body != "len=0" {
		t.Fatalf("logout: %q, Set-Cookie %q", r.body, r.set)
	}
	atkWantRejected(t, e.send(t, "/", "session="+v), "session")

	// The revocation lasts as long as the cookie could open, then the guard
	// forgets it: memory does not grow with every logout.
	if mem.Len() != 1 {
		t.Fatalf("guard holds %d entries, want the revoked ID", mem.Len())
	}
	e.clk.Advance(DefaultMaxAge - time.Second)
	atkWantRejected(t, e.send(t, "/", "session="+v), "session")
	e.clk.Advance(time.Second + maxClockSkew*time.Second)
	if mem.Len() != 0 {
		t.Fatalf("guard holds %d entries after every copy expired", mem.Len())
	}
}

func TestGuardRevoke_KeptWhenTheOldCookieIsKept(t *testing.T) {
	e, mem := newGuardEnv(t, Config{})
	v := sessionCookie(t, e.send(t, "/login?user=alice", ""))
	// A 500 saves nothing: the browser keeps its cookie, which must still open.
	r := e.send(t, "/login-500?user=bob", "session="+v)
	if r.status != http.StatusInternalServerError || len(r.set) != 0 {
		t.Fatalf("500: %d, Set-Cookie %q", r.status, r.set)
	}
	if r := e.send(t, "/", "session="+v); r.body != "len=1 user=alice" {
		t.Fatalf("cookie kept by a 500 response: %q", r.body)
	}
	if mem.Len() != 0 {
		t.Errorf("guard holds %d entries: an ID was revoked though its cookie was kept", mem.Len())
	}
	// A session without a cookie has no ID worth revoking.
	e.send(t, "/login?user=carol", "")
	if mem.Len() != 0 {
		t.Errorf("guard holds %d entries after a first login", mem.Len())
	}
}

func TestGuardRevoke_Subject(t *testing.T) {
	subject := func(s *Session) string { return GetOr(s, "user", "") }
	e, _ := newGuardEnv(t, Config{Subject: subject})
	ctx := context.Background()
	alice1 := sessionCookie(t, e.send(t, "/login?user=alice", ""))
	e.clk.Advance(time.Hour)
	alice2 := sessionCookie(t, e.send(t, "/login?user=alice", ""))
	bob := sessionCookie(t, e.send(t, "/login?user=bob", ""))
	anon := sessionCookie(t, e.send(t, "/login?user=", "")) // subject ""

	e.clk.Advance(time.Minute)
	if err := e.c.RevokeSubject(ctx, "alice", e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{alice1, alice2} {
		atkWantRejected(t, e.send(t, "/", "session="+v), "session")
		s, err := e.c.Decode(v)
		atkWantErr(t, "Decode of alice's old session", s, err, ErrRevoked)
	}
	if r := e.send(t, "/", "session="+bob); r.body != "len=1 user=bob" {
		t.Errorf("bob: %q", r.body)
	}
	if r := e.send(t, "/", "session="+anon); r.body != "len=1 user=" {
		t.Errorf("a session without subject: %q", r.body)
	}
	// Alice logs in again in the same second: her new session opens.
	alice3 := sessionCookie(t, e.send(t, "/login?user=alice", ""))
	if r := e.send(t, "/", "session="+alice3); r.body != "len=1 user=alice" {
		t.Errorf("alice's new session: %q", r.body)
	}

	if err := e.c.RevokeSubject(ctx, "", e.clk.Now()); err == nil {
		t.Error("RevokeSubject of an empty subject succeeded")
	}
	plain, _, _ := newGuardedCodec(t, Config{})
	if err := plain.RevokeSubject(ctx, "alice", time.Now()); err == nil {
		t.Error("RevokeSubject without Config.Subject succeeded: nothing would check it")
	}
	unguarded, _ := newTestCodec(t, Config{})
	if err := unguarded.RevokeSubject(ctx, "alice", time.Now()); !errors.Is(err, ErrGuardUnavailable) {
		t.Errorf("RevokeSubject without a guard: %v", err)
	}
}

func TestGuardRevoke_SubjectKeptForTheLongestLife(t *testing.T) {
	subject := func(s *Session) string { return GetOr(s, "user", "") }
	for _, tc := range []struct {
		name string
		cfg  Config
		life time.Duration
	}{
		{"MaxAge", Config{Subject: subject, MaxAge: time.Hour}, time.Hour},
		{"AbsoluteTimeout", Config{Subject: subject, MaxAge: time.Hour, AbsoluteTimeout: 3 * time.Hour}, 3 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, mem := newGuardEnv(t, tc.cfg)
			v := sessionCookie(t, e.send(t, "/login?user=alice", ""))
			if err := e.c.RevokeSubject(context.Background(), "alice", e.clk.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			atkWantRejected(t, e.send(t, "/", "session="+v), "session")
			e.clk.Advance(tc.life + maxClockSkew*time.Second)
			if mem.Len() != 1 {
				t.Fatalf("revocation forgotten before %v (+ skew) past its time", tc.life)
			}
			e.clk.Advance(time.Second)
			if mem.Len() != 0 {
				t.Fatalf("revocation kept past %v (+ skew)", tc.life)
			}
		})
	}
}

func TestGuardRevoke_FailsOpenOnOpen(t *testing.T) {
	t.Run("down", func(t *testing.T) {
		g := &downGuard{}
		e, _ := newGuardEnv(t, Config{Guard: g})
		v := sessionCookie(t, e.send(t, "/login?user=alice", ""))
		if r := e.send(t, "/", "session="+v); r.status != http.StatusOK || r.body != "len=1 user=alice" {
			t.Fatalf("with the guard down: %d %q; want the session open", r.status, r.body)
		}
		if g.calls.Load() == 0 {
			t.Fatal("the guard was never asked")
		}
		logs := e.logs.String()
		if !strings.Contains(logs, "session opened without its revocation check") || !strings.Contains(logs, errTestStoreDown.Error()) {
			t.Errorf("the failed check is not logged with its cause: %s", logs)
		}
		// Logout still deletes the cookie; the failed revocation is logged.
		e.logs.Reset()
		r := e.send(t, "/logout", "session="+v)
		if ck, _ := r.cookie(t, "session"); ck == nil || ck.Value != "" || r.status != http.StatusOK {
			t.Fatalf("logout with the guard down: %d, Set-Cookie %q", r.status, r.set)
		}
		if !strings.Contains(e.logs.String(), "previous session ID not revoked") {
			t.Errorf("the failed revocation is not logged: %s", e.logs.String())
		}
		if strings.Contains(e.logs.String(), "alice") || strings.Contains(e.logs.String(), v[:20]) {
			t.Error("the log holds session data or the cookie")
		}
	})
	t.Run("hangs", func(t *testing.T) {
		e, _ := newGuardEnv(t, Config{Guard: hangGuard{}, GuardTimeout: 50 * time.Millisecond})
		start := time.Now()
		v := sessionCookie(t, e.send(t, "/login?user=alice", ""))
		r := e.send(t, "/logout", "session="+v) // open, then revoke at commit: two timeouts
		if r.status != http.StatusOK {
			t.Fatalf("logout: %d", r.status)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("requests took %v with GuardTimeout 50ms", d)
		}
	})
}

// TestGuard_NoGuardNoCost: without a Guard, the guard's hooks in opening,
// Flush/Renew and commit make no call and allocate nothing.
func TestGuard_NoGuardNoCost(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	s.Set("user", "alice")
	opened := mustRoundTrip(t, c, s)
	st := opened.state
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		if err := c.guardRevoked(ctx, &st); err != nil {
			t.Fatal(err)
		}
		opened.retire()
		if err := c.guardCommit(ctx, opened); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("guard hooks without a Guard: %v allocations, want 0", allocs)
	}
	if opened.retired.pending {
		t.Error("a session without a Guard noted an ID to revoke")
	}
}

// TestGuard_MemoryGuardCheckAllocatesNothing: with a MemoryGuard, the
// revocation check every opened cookie gets builds its key on the stack
// and asks the guard in place, and still finds a revoked ID.
func TestGuard_MemoryGuardCheckAllocatesNothing(t *testing.T) {
	g := NewMemoryGuard(MemoryGuardConfig{})
	c, _ := newTestCodec(t, Config{Guard: g})
	s := c.New()
	s.Set("user", "alice")
	st := mustRoundTrip(t, c, s).state
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		if err := c.guardRevoked(ctx, &st); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("revocation check with a MemoryGuard: %v allocations, want 0", allocs)
	}
	if err := g.Revoke(ctx, c.sessionKey(st.id), time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := c.guardRevoked(ctx, &st); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked ID: %v, want ErrRevoked", err)
	}
}

// TestGuard_MemoryGuardCheckFailsAsAnyGuard: the MemoryGuard's shortcut
// still refuses a done context and survives a panicking clock, as the
// interface call does: with RequireRevocationCheck the cookie does not
// open, for ErrGuardUnavailable.
func TestGuard_MemoryGuardCheckFailsAsAnyGuard(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	var panicking atomic.Bool
	g := NewMemoryGuard(MemoryGuardConfig{Now: func() time.Time {
		if panicking.Load() {
			panic("clock")
		}
		return time.Now()
	}})
	c, _ := newTestCodec(t, Config{Guard: g, RequireRevocationCheck: true})
	s := c.New()
	s.Set("user", "alice")
	st := mustRoundTrip(t, c, s).state
	if err := c.guardRevoked(cancelled, &st); !errors.Is(err, ErrGuardUnavailable) {
		t.Errorf("done context: %v, want ErrGuardUnavailable", err)
	}
	panicking.Store(true)
	if err := c.guardRevoked(context.Background(), &st); !errors.Is(err, ErrGuardUnavailable) {
		t.Errorf("panicking clock: %v, want ErrGuardUnavailable", err)
	}
}

// recordingGuard is a MemoryGuard that records every key it is given.
type recordingGuard struct {
	*MemoryGuard
	mu   sync.Mutex
	keys []string
}

func (g *recordingGuard) note(keys ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.keys = append(g.keys, keys...)
}
func (g *recordingGuard) Consume(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	g.note(key)
	return g.MemoryGuard.Consume(ctx, key, ttl)
}
func (g *recordingGuard) Count(ctx context.Context, key string, window time.Duration) (int64, error) {
	g.note(key)
	return g.MemoryGuard.Count(ctx, key, window)
}
func (g *recordingGuard) Revoke(ctx context.Context, key string, at time.Time, ttl time.Duration) error {
	g.note(key)
	return g.MemoryGuard.Revoke(ctx, key, at, ttl)
}
func (g *recordingGuard) RevokedAt(ctx context.Context, keys ...string) ([]time.Time, error) {
	g.note(keys...)
	return g.MemoryGuard.RevokedAt(ctx, keys...)
}

// TestGuard_KeysAreBoundedAndOpaque: whatever the subject, name or session
// key, the Guard sees fixed-length keys that carry none of them in clear.
func TestGuard_KeysAreBoundedAndOpaque(t *testing.T) {
	g := &recordingGuard{MemoryGuard: NewMemoryGuard(MemoryGuardConfig{})}
	subject := "alice@example.com" + strings.Repeat("x", 1000)
	c, _ := newTestCodec(t, Config{Guard: g, Subject: func(s *Session) string { return GetOr(s, "user", "") }})
	ctx := context.Background()
	s := c.New()
	s.Set("user", subject)
	s.SetOnce("secret-key-name", "v", time.Minute)
	s = mustRoundTrip(t, c, s)
	if _, err := TakeOnce[string](ctx, s, "secret-key-name"); err != nil {
		t.Fatal(err)
	}
	if err := c.Attempt(ctx, s, "secret-action", 5, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.AttemptFor(ctx, subject, "secret-action", 5, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.RevokeSubject(ctx, subject, testStart); err != nil {
		t.Fatal(err)
	}
	s.Renew()
	if err := c.guardCommit(ctx, s); err != nil {
		t.Fatal(err)
	}
	keyRE := regexp.MustCompile(`^(once|count|sid|subject)/[A-Za-z0-9_-]{43}$`)
	kinds := map[string]bool{}
	for _, k := range g.keys {
		if !keyRE.MatchString(k) {
			t.Errorf("guard key %.80q is not a kind and a hash", k)
		}
		kinds[strings.Split(k, "/")[0]] = true
	}
	if len(kinds) != 4 {
		t.Errorf("key kinds seen %v, want all four", kinds)
	}
}

// TestGuard_UntouchedRequestCostsNoCall: with a Guard, a request whose
// handler never touches the session makes no Guard call.
func TestGuard_UntouchedRequestCostsNoCall(t *testing.T) {
	g := &downGuard{}
	c, _ := newTestCodec(t, Config{Guard: g})
	s := c.New()
	s.Set("user", "alice")
	cookie := "session=" + sealCookie(t, c, s)
	before := runtime.NumGoroutine()
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for range 10 {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Cookie", cookie)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if n := g.calls.Load(); n != 0 {
		t.Errorf("%d guard calls for requests that never touched the session", n)
	}
	// The in-memory guard runs nothing in the background.
	mem := NewMemoryGuard(MemoryGuardConfig{})
	for i := range 1000 {
		mem.Count(context.Background(), strconv.Itoa(i), time.Nanosecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("goroutines %d -> %d", before, after)
	}
}

// TestGuardRevoke_ThroughCommit: code that runs Codec.Load and Codec.Commit
// instead of the middleware revokes the same way.
func TestGuardRevoke_ThroughCommit(t *testing.T) {
	c, _, _ := newGuardedCodec(t, Config{})
	s := c.New()
	s.Set("user", "alice")
	old := c.Name() + "=" + sealCookie(t, c, s)

	s = c.Load(context.Background(), old)
	s.Renew()
	ch, err := c.Commit(s, http.StatusOK)
	if err != nil || len(ch.SetCookie) != 1 {
		t.Fatalf("Commit = %+v, %v", ch, err)
	}
	if s := c.Load(context.Background(), old); s.Len() != 0 || !errors.Is(s.OpenError(), ErrRevoked) {
		t.Fatalf("the cookie from before Renew: Len %d, OpenError %v; want empty and ErrRevoked", s.Len(), s.OpenError())
	}
	ck, err := http.ParseSetCookie(ch.SetCookie[0])
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Load(context.Background(), ck.Name+"="+ck.Value); GetOr(s, "user", "") != "alice" {
		t.Fatalf("the renewed cookie: %v", s.OpenError())
	}
}

// TestGuardRevoke_SubjectKeepThisSessionInASlowHandler: RevokeSubject's
// recipe for keeping the caller's own session (Flush, then set its data
// again) holds when the handler touched the session a few seconds before
// it revoked: the new session's creation time is when Flush ran, and the
// cookie may not carry an earlier one (as it did when the commit sealed at
// the time the session was first touched).
func TestGuardRevoke_SubjectKeepThisSessionInASlowHandler(t *testing.T) {
	subject := func(s *Session) string { return GetOr(s, "user", "") }
	c, clk, _ := newGuardedCodec(t, Config{Name: "s", Subject: subject})
	login := c.New()
	login.Set("user", "alice")
	old := sealCookie(t, c, login)
	clk.Advance(time.Minute)
	h := c.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		user := GetOr(s, "user", "")
		clk.Advance(3 * time.Second) // the handler's other work
		if err := c.RevokeSubject(r.Context(), user, clk.Now()); err != nil {
			t.Errorf("RevokeSubject: %v", err)
		}
		s.Flush()
		s.Set("user", user)
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Cookie", "s="+old)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var kept string
	for _, ck := range w.Result().Cookies() {
		if ck.Name == "s" {
			kept = ck.Value
		}
	}
	if kept == "" {
		t.Fatalf("no session cookie in the response: %q", w.Header().Values("Set-Cookie"))
	}
	if s, err := c.Decode(kept); err != nil || GetOr(s, "user", "") != "alice" {
		t.Fatalf("the session kept after RevokeSubject does not open: %v", err)
	}
	if _, err := c.Decode(old); !errors.Is(err, ErrRevoked) {
		t.Fatalf("the old session: %v, want ErrRevoked", err)
	}
}
