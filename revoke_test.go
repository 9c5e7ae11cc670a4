package cookiesession

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Revocation (Config.Verify, Config.NotBefore, Codec.SetNotBefore), session
// IDs and the absolute timeout through the middleware. Helpers come from
// attack_test.go.

var errAtkLoggedOut = errors.New("atk: logged out everywhere")

func TestRevoke_Verify(t *testing.T) {
	var mu sync.Mutex
	loggedOut := map[string]time.Time{} // user ID -> "logged out everywhere" time
	e := atkNewEnv(t, Config{Verify: func(s *Session) error {
		user, _ := Get[string](s, "user")
		mu.Lock()
		at, ok := loggedOut[user]
		mu.Unlock()
		if ok && s.CreatedAt().Before(at) {
			return errAtkLoggedOut
		}
		return nil
	}})
	login := func(user string) string {
		t.Helper()
		r := e.send(t, "/login?user="+user, "")
		ck, _ := r.cookie(t, "session")
		if ck == nil || ck.Value == "" || r.body != "len=1 user="+user {
			t.Fatalf("login %s: %q, Set-Cookie %q", user, r.body, r.set)
		}
		return ck.Value
	}
	alice, bob := login("alice"), login("bob")
	want := func(v, body string) {
		t.Helper()
		if r := e.send(t, "/", "session="+v); r.status != http.StatusOK || r.body != body {
			t.Errorf("got %d %q, want %q", r.status, r.body, body)
		}
	}
	want(alice, "len=1 user=alice")
	want(bob, "len=1 user=bob")

	// Alice logs out everywhere ten minutes later.
	e.clk.Advance(10 * time.Minute)
	mu.Lock()
	loggedOut["alice"] = e.clk.Now()
	mu.Unlock()

	s, err := e.c.Decode(alice)
	atkWantErr(t, "Decode of alice's old session", s, err, ErrRevoked)
	if !errors.Is(err, ErrExpired) || !errors.Is(err, errAtkLoggedOut) || errors.Is(err, ErrInvalid) {
		t.Errorf("err %v: want ErrRevoked, ErrExpired and the hook's error, not ErrInvalid", err)
	}
	e.logs.Reset()
	atkWantRejected(t, e.send(t, "/", "session="+alice), "session")
	recs := e.logs.rejections(t)
	if len(recs) != 1 {
		t.Fatalf("%d rejection records, want 1: %s", len(recs), e.logs.String())
	}
	if reason := fmt.Sprint(recs[0]["reason"]); !strings.Contains(reason, "Config.Verify") || !strings.Contains(reason, errAtkLoggedOut.Error()) {
		t.Errorf("reason %q names neither Verify nor its error", reason)
	}
	if strings.Contains(e.logs.String(), "alice") {
		t.Error("the log holds the user ID from the session data")
	}

	// Bob is not affected; Alice's new session, created at the logout
	// instant or later, is accepted.
	want(bob, "len=1 user=bob")
	if s, err := e.c.Decode(bob); err != nil || GetOr(s, "user", "") != "bob" {
		t.Errorf("bob: %v, %v", s, err)
	}
	alice2 := login("alice")
	want(alice2, "len=1 user=alice")
	e.clk.Advance(time.Hour)
	want(alice2, "len=1 user=alice")
	want(alice, "len=0")
}

func TestRevoke_NotBefore(t *testing.T) {
	start := testStart
	e := atkNewEnv(t, Config{NotBefore: start.Add(time.Hour)})
	old := atkSession(t, e.c, "alice") // created at start: before NotBefore
	e.clk.Advance(2 * time.Hour)
	recent := atkSession(t, e.c, "bob") // created at start+2h

	check := func(what, v string, want error, body string) {
		t.Helper()
		s, err := e.c.Decode(v)
		r := e.send(t, "/", "session="+v)
		if want != nil {
			atkWantErr(t, what, s, err, want)
			atkWantRejected(t, r, "session")
			return
		}
		if err != nil || s.Len() != 1 {
			t.Errorf("%s: Decode = %v, %v", what, s, err)
		}
		if r.status != http.StatusOK || r.body != body {
			t.Errorf("%s: middleware %d %q, want %q", what, r.status, r.body, body)
		}
	}

	check("Config.NotBefore: created before", old, ErrRevoked, "")
	check("Config.NotBefore: created after", recent, nil, "len=1 user=bob")

	e.c.SetNotBefore(time.Time{})
	check("lifted: created before", old, nil, "len=1 user=alice")

	// At runtime, to the second: a session created at NotBefore lives, one
	// created a second earlier does not.
	e.c.SetNotBefore(start.Add(2 * time.Hour))
	check("SetNotBefore: created at the instant", recent, nil, "len=1 user=bob")
	e.c.SetNotBefore(start.Add(2*time.Hour + time.Second))
	check("SetNotBefore: created a second before", recent, ErrRevoked, "")
	check("SetNotBefore: created long before", old, ErrRevoked, "")
	e.clk.Advance(time.Second)
	check("SetNotBefore: created after", atkSession(t, e.c, "carol"), nil, "len=1 user=carol")
	e.c.SetNotBefore(time.Time{})
	check("lifted again", recent, nil, "len=1 user=bob")

	t.Run("concurrent SetNotBefore while decoding", func(t *testing.T) {
		cut := start.Add(time.Hour)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		errs := make(chan error, 64)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if s, err := e.c.Decode(old); err != nil && !errors.Is(err, ErrRevoked) || err == nil && s == nil {
						errs <- fmt.Errorf("old session: %v", err)
						return
					}
					if _, err := e.c.Decode(recent); err != nil {
						errs <- fmt.Errorf("recent session: %v", err)
						return
					}
				}
			}()
		}
		for i := 0; i < 2000; i++ {
			if i%2 == 0 {
				e.c.SetNotBefore(cut)
			} else {
				e.c.SetNotBefore(time.Time{})
			}
		}
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		e.c.SetNotBefore(cut)
		if _, err := e.c.Decode(old); !errors.Is(err, ErrRevoked) {
			t.Errorf("after the race, NotBefore set: %v", err)
		}
	})
}

func TestSessionIDs(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	const n = 10000
	seen := make(map[string]bool, n)
	var ones [128]int // how often each bit is set
	for i := 0; i < n; i++ {
		id := c.New().ID()
		if len(id) != 22 {
			t.Fatalf("ID %q has %d characters, want 22", id, len(id))
		}
		raw, err := base64.RawURLEncoding.Strict().DecodeString(id)
		if err != nil || len(raw) != 16 {
			t.Fatalf("ID %q is not base64url of 16 bytes: %v", id, err)
		}
		if seen[id] {
			t.Fatalf("ID %q drawn twice in %d sessions", id, i+1)
		}
		seen[id] = true
		for b := 0; b < 128; b++ {
			if raw[b/8]&(1<<(b%8)) != 0 {
				ones[b]++
			}
		}
	}
	// 128 random bits: each set in about half the IDs (±20 standard
	// deviations, so this never fails by chance).
	for b, k := range ones {
		if k < n/2-1000 || k > n/2+1000 {
			t.Errorf("bit %d set in %d of %d IDs: not random", b, k, n)
		}
	}

	s := c.New()
	s.Set("user", "alice")
	id := s.ID()
	if s.ID() != id {
		t.Error("ID changed between two calls")
	}
	s2 := mustRoundTrip(t, c, s)
	if s2.ID() != id {
		t.Errorf("ID after a round trip: %q, want %q", s2.ID(), id)
	}
	s2.Set("n", 1)
	if s3 := mustRoundTrip(t, c, s2); s3.ID() != id {
		t.Errorf("ID after a changed round trip: %q, want %q", s3.ID(), id)
	}

	// Encode draws the ID of a session nobody asked for one.
	quiet := c.New()
	quiet.Set("user", "bob")
	v := mustEncode(t, c, quiet)
	if a, b := mustDecode(t, c, v).ID(), mustDecode(t, c, v).ID(); a != b || len(a) != 22 {
		t.Errorf("IDs of one cookie: %q, %q", a, b)
	}

	s2.Renew()
	renewed := s2.ID()
	if renewed == id || len(renewed) != 22 {
		t.Errorf("Renew kept the ID %q", renewed)
	}
	if GetOr(s2, "user", "") != "alice" {
		t.Error("Renew dropped the data")
	}
	if s4 := mustRoundTrip(t, c, s2); s4.ID() != renewed {
		t.Errorf("renewed ID after a round trip: %q, want %q", s4.ID(), renewed)
	}

	s2.Flush()
	flushed := s2.ID()
	if flushed == renewed || flushed == id || len(flushed) != 22 || s2.Len() != 0 {
		t.Errorf("Flush: ID %q (was %q), %d keys", flushed, renewed, s2.Len())
	}
}

func TestAbsoluteTimeout_Middleware(t *testing.T) {
	const (
		maxAge   = time.Hour
		absolute = 3 * time.Hour
	)
	e := atkNewEnv(t, Config{MaxAge: maxAge, AbsoluteTimeout: absolute})
	r := e.send(t, "/login?user=alice", "")
	ck, _ := r.cookie(t, "session")
	if ck == nil || ck.Value == "" {
		t.Fatalf("login: no cookie: %q", r.set)
	}
	cookie := ck.Value
	// Activity every 30 minutes (past RefreshAfter's quarter of the idle
	// window, so every visit reseals), then every second near the end.
	elapsed := time.Duration(0)
	visit := func(step time.Duration) atkResp {
		e.clk.Advance(step)
		elapsed += step
		return e.send(t, "/", "session="+cookie)
	}
	for elapsed+30*time.Minute < absolute {
		r := visit(30 * time.Minute)
		if r.body != "len=1 user=alice" {
			t.Fatalf("at %v: %q, want the session", elapsed, r.body)
		}
		ck, _ := r.cookie(t, "session")
		if ck == nil || ck.Value == "" || ck.Value == cookie {
			t.Fatalf("at %v: not resealed: %q", elapsed, r.set)
		}
		// The browser is told the truth: no longer than the absolute cap.
		if want := int(min(maxAge, absolute-elapsed) / time.Second); ck.MaxAge != want {
			t.Errorf("at %v: Max-Age %d, want %d", elapsed, ck.MaxAge, want)
		}
		cookie = ck.Value
	}
	// 2h30 now; the idle deadline alone would let the session live to 3h30.
	if r := visit(absolute - elapsed - time.Second); r.body != "len=1 user=alice" {
		t.Fatalf("a second before the absolute timeout: %q", r.body)
	} else if ck, _ := r.cookie(t, "session"); ck != nil && ck.Value != "" {
		cookie = ck.Value
	}
	e.logs.Reset()
	r = visit(time.Second)
	if elapsed != absolute {
		t.Fatalf("elapsed %v", elapsed)
	}
	atkWantRejected(t, r, "session")
	if recs := e.logs.rejections(t); len(recs) != 1 {
		t.Errorf("%d rejection records, want 1", len(recs))
	}
	s, err := e.c.Decode(cookie)
	atkWantErr(t, "Decode at the absolute timeout", s, err, ErrExpired)
}
