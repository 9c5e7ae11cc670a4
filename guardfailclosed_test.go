package cookiesession

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Config.RequireRevocationCheck: the revocation check on open fails closed,
// and the cookie it could not check is kept for when the Guard is back.

// Modes of a switchGuard's store.
const (
	storeUp int32 = iota
	storeDown
	storeHangs
)

// switchGuard is a MemoryGuard whose revocation checks can be made to fail
// (the store is down) or to hang until their context ends, and brought
// back.
type switchGuard struct {
	*MemoryGuard
	mode  atomic.Int32
	calls atomic.Int64 // RevokedAt calls while not up
}

func (g *switchGuard) RevokedAt(ctx context.Context, keys ...string) ([]time.Time, error) {
	switch g.mode.Load() {
	case storeDown:
		g.calls.Add(1)
		return nil, errTestStoreDown
	case storeHangs:
		g.calls.Add(1)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return g.MemoryGuard.RevokedAt(ctx, keys...)
}

// checkHandler is guardHandler, plus /check, which writes the session's
// length and whether OpenError wraps ErrGuardUnavailable, and /form, a page
// with a CSRF token that answers 503 while the Guard is down, as README
// advises.
func checkHandler(w http.ResponseWriter, r *http.Request) {
	s := FromContext(r.Context())
	switch r.URL.Path {
	case "/check":
		fmt.Fprintf(w, "len=%d unavailable=%v", s.Len(), errors.Is(s.OpenError(), ErrGuardUnavailable))
	case "/form":
		token := s.CSRFToken() // stores a secret in an empty session
		if errors.Is(s.OpenError(), ErrGuardUnavailable) {
			http.Error(w, "try again in a moment", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "token=%s", token)
	default:
		guardHandler(w, r)
	}
}

// newSwitchEnv serves checkHandler with a switchGuard and cfg.
func newSwitchEnv(t *testing.T, cfg Config) (*atkEnv, *switchGuard) {
	t.Helper()
	g := &switchGuard{MemoryGuard: NewMemoryGuard(MemoryGuardConfig{})}
	cfg.Guard = g
	e, _ := newGuardEnv(t, cfg)
	e.srv = httptest.NewServer(e.c.Middleware(http.HandlerFunc(checkHandler)))
	t.Cleanup(e.srv.Close)
	return e, g
}

// logLines returns the log records whose message is msg.
func logLines(t *testing.T, l *atkLogBuf, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(l.String(), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v: %q", err, line)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

const (
	msgUnchecked = "cookiesession: guard unavailable; session opened without its revocation check"
	msgKept      = "cookiesession: guard unavailable; session cookie not opened (cookie kept)"
)

func TestGuardRevoke_RequireRevocationCheck(t *testing.T) {
	for _, mode := range []int32{storeDown, storeHangs} {
		t.Run(map[int32]string{storeDown: "down", storeHangs: "hangs"}[mode], func(t *testing.T) {
			e, g := newSwitchEnv(t, Config{RequireRevocationCheck: true, GuardTimeout: 50 * time.Millisecond})
			v := sessionCookie(t, e.send(t, "/login?user=alice", ""))

			g.mode.Store(mode)
			start := time.Now()
			r := e.send(t, "/check", "session="+v)
			if r.status != http.StatusOK || r.body != "len=0 unavailable=true" {
				t.Fatalf("with the guard %s: %d %q; want an empty session and OpenError wrapping ErrGuardUnavailable", map[int32]string{storeDown: "down", storeHangs: "hanging"}[mode], r.status, r.body)
			}
			if len(r.set) != 0 {
				t.Fatalf("the cookie the guard could not check was touched: Set-Cookie %q", r.set)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("request took %v with GuardTimeout 50ms", d)
			}
			if n := g.calls.Load(); n != 1 {
				t.Errorf("%d RevokedAt calls for one cookie, want 1", n)
			}
			s, err := e.c.Decode(v)
			if s != nil || !errors.Is(err, ErrGuardUnavailable) || errors.Is(err, ErrInvalid) || errors.Is(err, ErrExpired) {
				t.Errorf("Decode with the guard %v: %v, %v; want only ErrGuardUnavailable", mode, s, err)
			}
			if recs := logLines(t, e.logs, msgKept); len(recs) != 1 {
				t.Errorf("%d %q records, want 1: %s", len(recs), msgKept, e.logs.String())
			}
			if recs := e.logs.rejections(t); len(recs) != 0 {
				t.Errorf("logged as a rejected cookie: %v", recs)
			}
			if strings.Contains(e.logs.String(), "alice") || strings.Contains(e.logs.String(), v[:20]) {
				t.Error("the log holds session data or the cookie")
			}

			// The Guard is back: the same cookie opens.
			g.mode.Store(storeUp)
			if r := e.send(t, "/check", "session="+v); r.body != "len=1 unavailable=false" || len(r.set) != 0 {
				t.Fatalf("with the guard back: %q, Set-Cookie %q", r.body, r.set)
			}
		})
	}

	t.Run("a revoked cookie stays shut during the outage", func(t *testing.T) {
		for _, require := range []bool{false, true} {
			e, g := newSwitchEnv(t, Config{RequireRevocationCheck: require})
			v := sessionCookie(t, e.send(t, "/login?user=alice", ""))
			e.send(t, "/logout", "session="+v) // revokes v's ID
			g.mode.Store(storeDown)
			r := e.send(t, "/check", "session="+v)
			if !require {
				// Why the option exists: by default it opens again.
				if r.body != "len=1 unavailable=false" {
					t.Fatalf("fail open: the revoked cookie gave %q", r.body)
				}
				continue
			}
			if r.body != "len=0 unavailable=true" || len(r.set) != 0 {
				t.Fatalf("fail closed: the revoked cookie gave %q, Set-Cookie %q", r.body, r.set)
			}
			g.mode.Store(storeUp)
			atkWantRejected(t, e.send(t, "/", "session="+v), "session")
		}
	})

	t.Run("data stored during the outage does not replace the cookie", func(t *testing.T) {
		// As for a cookie sealed in the future: the kept cookie may be
		// genuine, so only a logout replaces it.
		e, g := newSwitchEnv(t, Config{RequireRevocationCheck: true})
		v := sessionCookie(t, e.send(t, "/login?user=alice", ""))
		g.mode.Store(storeDown)
		if r := e.send(t, "/login?user=bob", "session="+v); len(r.set) != 0 {
			t.Fatalf("a login during the outage replaced the kept cookie: Set-Cookie %q", r.set)
		}
		g.mode.Store(storeUp)
		if r := e.send(t, "/", "session="+v); r.body != "len=1 user=alice" {
			t.Fatalf("the kept cookie after the outage: %q", r.body)
		}
	})

	t.Run("a 503 keeps the cookie though the handler stored data", func(t *testing.T) {
		e, g := newSwitchEnv(t, Config{RequireRevocationCheck: true})
		v := sessionCookie(t, e.send(t, "/login?user=alice", ""))
		g.mode.Store(storeDown)
		if r := e.send(t, "/form", "session="+v); r.status != http.StatusServiceUnavailable || len(r.set) != 0 {
			t.Fatalf("form with the guard down: %d, Set-Cookie %q", r.status, r.set)
		}
		g.mode.Store(storeUp)
		if r := e.send(t, "/check", "session="+v); r.body != "len=1 unavailable=false" {
			t.Fatalf("with the guard back: %q", r.body)
		}
	})

	t.Run("chunked", func(t *testing.T) {
		e, g := newSwitchEnv(t, Config{RequireRevocationCheck: true, MaxCookies: 3})
		s := e.c.New()
		s.Set("blob", strings.Repeat("x", 5000)) // too much for one cookie
		header, n := chunkHeader(t, e.c, s)
		if n < 2 {
			t.Fatalf("the session took %d cookie(s), want chunks", n)
		}
		g.mode.Store(storeDown)
		if r := e.send(t, "/check", header); r.body != "len=0 unavailable=true" || len(r.set) != 0 {
			t.Fatalf("chunked, guard down: %q, Set-Cookie %q", r.body, r.set)
		}
		g.mode.Store(storeUp)
		if r := e.send(t, "/check", header); r.body != "len=1 unavailable=false" {
			t.Fatalf("chunked, guard back: %q", r.body)
		}
	})

	t.Run("two genuine cookies: one wait on the Guard", func(t *testing.T) {
		e, g := newSwitchEnv(t, Config{RequireRevocationCheck: true, GuardTimeout: 50 * time.Millisecond})
		v := sessionCookie(t, e.send(t, "/login?user=alice", ""))
		w := sessionCookie(t, e.send(t, "/login?user=bob", ""))
		g.mode.Store(storeHangs)
		if r := e.send(t, "/check", "session="+v+"; session="+w); r.body != "len=0 unavailable=true" || len(r.set) != 0 {
			t.Fatalf("guard hanging: %q, Set-Cookie %q", r.body, r.set)
		}
		if n := g.calls.Load(); n != 1 {
			t.Errorf("%d RevokedAt calls, want 1: the second cookie needs the same Guard", n)
		}
	})

	t.Run("Verify's own ErrGuardUnavailable is a rejection", func(t *testing.T) {
		verify := func(*Session) error { return fmt.Errorf("user store: %w", ErrGuardUnavailable) }
		e, _ := newSwitchEnv(t, Config{RequireRevocationCheck: true, Verify: verify})
		v := sessionCookie(t, e.send(t, "/login?user=alice", ""))
		atkWantRejected(t, e.send(t, "/", "session="+v), "session")
	})

	t.Run("needs a Guard", func(t *testing.T) {
		k, _ := GenerateKey("k1")
		keys, _ := NewKeyring(k)
		if _, err := NewCodec(Config{Keys: keys, RequireRevocationCheck: true}); err == nil {
			t.Error("RequireRevocationCheck without a Guard accepted: nothing would be checked")
		}
	})
}

// chunkHeader returns the Cookie header carrying s's sealed cookies, and
// how many there are.
func chunkHeader(t *testing.T, c *Codec, s *Session) (string, int) {
	t.Helper()
	ch, err := c.Commit(s, http.StatusOK)
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for _, line := range ch.SetCookie {
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, ck.Name+"="+ck.Value)
	}
	return strings.Join(pairs, "; "), len(pairs)
}

// TestGuardRevoke_WarningRateLimited: while the Guard is down, the fail-open
// warning goes out once per guardWarnEvery per codec, with the count of
// those held back; so does the fail-closed one.
func TestGuardRevoke_WarningRateLimited(t *testing.T) {
	for _, tc := range []struct {
		require bool
		msg     string
	}{{false, msgUnchecked}, {true, msgKept}} {
		t.Run(fmt.Sprintf("require=%v", tc.require), func(t *testing.T) {
			e, g := newSwitchEnv(t, Config{RequireRevocationCheck: tc.require})
			v := sessionCookie(t, e.send(t, "/login?user=alice", ""))
			g.mode.Store(storeDown)
			for range 5 {
				e.send(t, "/check", "session="+v)
			}
			if recs := logLines(t, e.logs, tc.msg); len(recs) != 1 {
				t.Fatalf("%d warnings for 5 requests within %v, want 1: %s", len(recs), guardWarnEvery, e.logs.String())
			}
			e.clk.Advance(guardWarnEvery - time.Second)
			e.send(t, "/check", "session="+v)
			e.clk.Advance(time.Second)
			e.send(t, "/check", "session="+v)
			recs := logLines(t, e.logs, tc.msg)
			if len(recs) != 2 {
				t.Fatalf("%d warnings after %v, want 2: %s", len(recs), guardWarnEvery, e.logs.String())
			}
			if recs[1]["suppressed"] != float64(5) {
				t.Errorf("second warning: suppressed %v, want 5", recs[1]["suppressed"])
			}
			if g.calls.Load() != 7 {
				t.Errorf("%d checks, want 7: the limit is on the log, not the checks", g.calls.Load())
			}
			// Another codec keeps its own limit: no global state.
			other, og := newSwitchEnv(t, Config{RequireRevocationCheck: tc.require})
			w := sessionCookie(t, other.send(t, "/login?user=bob", ""))
			og.mode.Store(storeDown)
			other.send(t, "/check", "session="+w)
			if recs := logLines(t, other.logs, tc.msg); len(recs) != 1 {
				t.Errorf("a second codec logged %d warnings, want 1", len(recs))
			}
		})
	}
}

// TestWarnLimiter: one warning per guardWarnEvery; a clock set back far
// does not silence the warnings until it catches up.
func TestWarnLimiter(t *testing.T) {
	var l warnLimiter
	t0 := time.Unix(1_700_000_000, 0)
	steps := []struct {
		at         time.Duration
		ok         bool
		suppressed int
	}{
		{0, true, 0},
		{time.Second, false, 0},
		{guardWarnEvery - 1, false, 0},
		{guardWarnEvery, true, 2},
		{guardWarnEvery + time.Second, false, 0},
		{-time.Hour, true, 1}, // the clock went back an hour
		{-time.Hour + time.Second, false, 0},
	}
	for _, s := range steps {
		ok, n := l.allow(t0.Add(s.at))
		if ok != s.ok || n != s.suppressed {
			t.Errorf("allow(t0%+v) = %v, %d; want %v, %d", s.at, ok, n, s.ok, s.suppressed)
		}
	}
}
