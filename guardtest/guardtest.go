// Package guardtest checks that an implementation of cookiesession.Guard
// keeps the Guard contract: a nonce is consumed once, fleet-wide, even under
// concurrent requests; counters count atomically and forget after their
// window; revocations only ever move later and never expire early; an
// unusable context fails closed with ErrGuardUnavailable; long and odd keys
// stay distinct.
//
// Call Run from a test of the implementation:
//
//	func TestContract(t *testing.T) {
//		guardtest.Run(t, func(t *testing.T) cookiesession.Guard { return newMyGuard(t) })
//	}
//
// Run takes about a second: the cases that wait for a TTL or a window to pass
// use TTLs of 150-400 ms and run in parallel.
package guardtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

// Durations of the cases. long never passes during a test; short passes
// after wait.
const (
	long  = time.Minute
	short = 150 * time.Millisecond
	wait  = 2*short + 50*time.Millisecond
)

// concurrency is the number of goroutines that race on one key.
const concurrency = 64

// Run runs the Guard contract as subtests of t. newGuard is called once per
// subtest and may return a Guard backed by a store that other subtests (and
// other runs) share: every key Run uses carries a prefix drawn at random for
// this run, so nothing left in the store from before can interfere.
func Run(t *testing.T, newGuard func(t *testing.T) cookiesession.Guard) {
	var id [8]byte
	rand.Read(id[:]) // never fails since Go 1.24
	s := suite{run: "guardtest-" + hex.EncodeToString(id[:]) + "/", newGuard: newGuard}
	cases := []struct {
		name string
		f    func(*testing.T, cookiesession.Guard, func(string) string)
	}{
		{"ConsumeOnce", s.consumeOnce},
		{"ConsumeAfterTTL", s.consumeAfterTTL},
		{"ConsumeConcurrent", s.consumeConcurrent},
		{"CountWithinWindow", s.countWithinWindow},
		{"CountConcurrent", s.countConcurrent},
		{"CountAfterWindow", s.countAfterWindow},
		{"CountWindowStartsAtFirstIncrement", s.countWindowFixed},
		{"RevokeKeepsLaterTime", s.revokeKeepsLater},
		{"RevokeNeverShortens", s.revokeNeverShortens},
		{"RevokeExpires", s.revokeExpires},
		{"RevokedAtSeveralKeys", s.revokedAtSeveral},
		{"LongKeys", s.longKeys},
		{"OddKeys", s.oddKeys},
		{"CancelledContext", s.cancelledContext},
		{"ExpiredDeadline", s.expiredDeadline},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			g := s.newGuard(t)
			if g == nil {
				t.Fatal("newGuard returned nil")
			}
			key := func(name string) string { return s.run + t.Name() + "/" + name }
			c.f(t, g, key)
		})
	}
}

type suite struct {
	run      string
	newGuard func(t *testing.T) cookiesession.Guard
}

// sameTime reports whether got is want to millisecond precision, what
// RevokedAt promises.
func sameTime(got, want time.Time) bool {
	if got.IsZero() || want.IsZero() {
		return got.IsZero() && want.IsZero()
	}
	d := got.Sub(want)
	return -time.Millisecond < d && d < time.Millisecond
}

// consume calls g.Consume and fails t on an error.
func consume(t *testing.T, g cookiesession.Guard, key string, ttl time.Duration) bool {
	t.Helper()
	first, err := g.Consume(context.Background(), key, ttl)
	if err != nil {
		t.Fatalf("Consume(%q): %v", key, err)
	}
	return first
}

// count calls g.Count and fails t on an error.
func count(t *testing.T, g cookiesession.Guard, key string, window time.Duration) int64 {
	t.Helper()
	n, err := g.Count(context.Background(), key, window)
	if err != nil {
		t.Fatalf("Count(%q): %v", key, err)
	}
	return n
}

// revoke calls g.Revoke and fails t on an error.
func revoke(t *testing.T, g cookiesession.Guard, key string, at time.Time, ttl time.Duration) {
	t.Helper()
	if err := g.Revoke(context.Background(), key, at, ttl); err != nil {
		t.Fatalf("Revoke(%q): %v", key, err)
	}
}

// revokedAt calls g.RevokedAt and fails t on an error or a result of the
// wrong length.
func revokedAt(t *testing.T, g cookiesession.Guard, keys ...string) []time.Time {
	t.Helper()
	got, err := g.RevokedAt(context.Background(), keys...)
	if err != nil {
		t.Fatalf("RevokedAt: %v", err)
	}
	if len(got) != len(keys) {
		t.Fatalf("RevokedAt of %d keys returned %d times", len(keys), len(got))
	}
	return got
}

// Revocation times with nanoseconds: RevokedAt must return them to at
// least millisecond precision (sameTime).
var (
	t1 = time.Unix(1_700_000_000, 111_111_111)
	t2 = time.Unix(1_700_000_100, 222_222_222)
	t3 = time.Unix(1_700_000_200, 333_333_333)
)

func (suite) consumeOnce(t *testing.T, g cookiesession.Guard, key func(string) string) {
	if !consume(t, g, key("a"), long) {
		t.Fatal("first Consume reported false")
	}
	for i := range 3 {
		if consume(t, g, key("a"), long) {
			t.Fatalf("Consume #%d of a spent key reported true", i+2)
		}
	}
	if !consume(t, g, key("b"), long) {
		t.Fatal("first Consume of a second key reported false: keys are not independent")
	}
}

func (suite) consumeAfterTTL(t *testing.T, g cookiesession.Guard, key func(string) string) {
	if !consume(t, g, key("a"), short) {
		t.Fatal("first Consume reported false")
	}
	time.Sleep(wait)
	if !consume(t, g, key("a"), long) {
		t.Fatalf("Consume %v after a TTL of %v reported false: the key was never forgotten", wait, short)
	}
	if consume(t, g, key("a"), long) {
		t.Fatal("Consume right after a new TTL started reported true")
	}
}

func (suite) consumeConcurrent(t *testing.T, g cookiesession.Guard, key func(string) string) {
	for round := range 5 {
		k := key(string(rune('a' + round)))
		var firsts, errs int
		var mu sync.Mutex
		race(concurrency, func() {
			first, err := g.Consume(context.Background(), k, long)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs++
				t.Errorf("Consume: %v", err)
			}
			if first {
				firsts++
			}
		})
		if firsts != 1 {
			t.Fatalf("round %d: %d goroutines racing on one key, %d of them consumed it (want exactly 1)", round, concurrency, firsts)
		}
	}
}

func (suite) countWithinWindow(t *testing.T, g cookiesession.Guard, key func(string) string) {
	for want := int64(1); want <= 5; want++ {
		if n := count(t, g, key("a"), long); n != want {
			t.Fatalf("Count #%d = %d, want %d", want, n, want)
		}
	}
	if n := count(t, g, key("b"), long); n != 1 {
		t.Fatalf("first Count of a second key = %d, want 1: counters are not independent", n)
	}
}

func (suite) countConcurrent(t *testing.T, g cookiesession.Guard, key func(string) string) {
	var got []int64
	var mu sync.Mutex
	race(concurrency, func() {
		n, err := g.Count(context.Background(), key("a"), long)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("Count: %v", err)
			return
		}
		got = append(got, n)
	})
	slices.Sort(got)
	for i, n := range got {
		if n != int64(i+1) {
			t.Fatalf("%d concurrent Counts returned %v, want each of 1…%d once", concurrency, got, concurrency)
		}
	}
	if len(got) != concurrency {
		t.Fatalf("%d of %d concurrent Counts succeeded", len(got), concurrency)
	}
}

func (suite) countAfterWindow(t *testing.T, g cookiesession.Guard, key func(string) string) {
	start := time.Now()
	count(t, g, key("a"), short)
	if n := count(t, g, key("a"), short); n != 2 && time.Since(start) < short {
		t.Fatalf("second Count = %d, want 2", n)
	}
	time.Sleep(wait)
	if n := count(t, g, key("a"), short); n != 1 {
		t.Fatalf("Count %v after a window of %v = %d, want 1 (a new window)", wait, short, n)
	}
}

// countWindowFixed checks that later increments do not extend the window: a
// counter that did would never reset for a client that keeps trying. The
// second Count must land inside the window, which a loaded machine may miss:
// such a round proves nothing and is tried again.
func (suite) countWindowFixed(t *testing.T, g cookiesession.Guard, key func(string) string) {
	const window = 400 * time.Millisecond
	for round := range 3 {
		k := key(string(rune('a' + round)))
		before := time.Now()
		count(t, g, k, window)
		first := time.Now() // the window ends window after this, or earlier
		time.Sleep(window / 2)
		n := count(t, g, k, window)
		if time.Since(before) >= window {
			t.Logf("round %d: the second Count came %v after the first, past the window: trying again", round, time.Since(before))
			continue
		}
		if n != 2 {
			t.Fatalf("second Count inside the window = %d, want 2", n)
		}
		// A window extended by the second Count would end at least
		// window/2 later than this.
		time.Sleep(time.Until(first.Add(window + 50*time.Millisecond)))
		if n := count(t, g, k, window); n != 1 {
			t.Fatalf("Count %v after the first one = %d, want 1: the window was extended by a later increment", time.Since(first), n)
		}
		return
	}
	t.Fatal("the machine was too slow for two Counts 200 ms apart to land inside a 400 ms window, three times")
}

func (suite) revokeKeepsLater(t *testing.T, g cookiesession.Guard, key func(string) string) {
	revoke(t, g, key("a"), t2, long)
	if got := revokedAt(t, g, key("a"))[0]; !sameTime(got, t2) {
		t.Fatalf("RevokedAt = %v, want %v", got, t2)
	}
	revoke(t, g, key("a"), t1, long)
	if got := revokedAt(t, g, key("a"))[0]; !sameTime(got, t2) {
		t.Fatalf("after revoking at an earlier time, RevokedAt = %v, want the later %v", got, t2)
	}
	revoke(t, g, key("a"), t3, long)
	if got := revokedAt(t, g, key("a"))[0]; !sameTime(got, t3) {
		t.Fatalf("after revoking at a later time, RevokedAt = %v, want %v", got, t3)
	}
}

// revokeNeverShortens checks that a revocation lasts at least its ttl
// whatever Revoke calls follow: a later call with a shorter ttl must not
// make the key forget an earlier call's revocation before that one's ttl.
func (suite) revokeNeverShortens(t *testing.T, g cookiesession.Guard, key func(string) string) {
	// An earlier time with a short ttl after a later time with a long one.
	revoke(t, g, key("a"), t2, long)
	revoke(t, g, key("a"), t1, short)
	// A later time with a short ttl after an earlier time with a long one.
	revoke(t, g, key("b"), t1, long)
	revoke(t, g, key("b"), t2, short)
	time.Sleep(wait)
	got := revokedAt(t, g, key("a"), key("b"))
	if !sameTime(got[0], t2) {
		t.Errorf("revoked at %v for %v, then at the earlier %v for %v: after %v RevokedAt = %v, want %v", t2, long, t1, short, wait, got[0], t2)
	}
	if got[1].IsZero() || got[1].Before(t1) && !sameTime(got[1], t1) {
		t.Errorf("revoked at %v for %v, then at %v for %v: after %v RevokedAt = %v, want %v or later", t1, long, t2, short, wait, got[1], t1)
	}
}

func (suite) revokeExpires(t *testing.T, g cookiesession.Guard, key func(string) string) {
	start := time.Now()
	revoke(t, g, key("a"), t1, short)
	if got := revokedAt(t, g, key("a"))[0]; !sameTime(got, t1) && time.Since(start) < short {
		t.Fatalf("RevokedAt = %v, want %v", got, t1)
	}
	time.Sleep(wait)
	if got := revokedAt(t, g, key("a"))[0]; !got.IsZero() {
		t.Fatalf("RevokedAt %v after a ttl of %v = %v, want the zero Time", wait, short, got)
	}
}

func (suite) revokedAtSeveral(t *testing.T, g cookiesession.Guard, key func(string) string) {
	revoke(t, g, key("a"), t1, long)
	revoke(t, g, key("c"), t3, long)
	got := revokedAt(t, g, key("a"), key("missing"), key("c"), key("a"))
	want := []time.Time{t1, {}, t3, t1}
	for i := range want {
		if !sameTime(got[i], want[i]) {
			t.Fatalf("RevokedAt(a, missing, c, a) = %v, want %v", got, want)
		}
	}
	if got := revokedAt(t, g); len(got) != 0 {
		t.Fatalf("RevokedAt() = %v, want no times", got)
	}
}

// longKeys checks that keys longer than any store's comfortable key size,
// differing only in their last byte, stay distinct: an implementation that
// shortens keys must hash them, not cut them.
func (suite) longKeys(t *testing.T, g cookiesession.Guard, key func(string) string) {
	long1 := key(strings.Repeat("k", 8<<10) + "1")
	long2 := key(strings.Repeat("k", 8<<10) + "2")
	if !consume(t, g, long1, long) || consume(t, g, long1, long) {
		t.Fatal("a long key was not consumed exactly once")
	}
	if !consume(t, g, long2, long) {
		t.Fatal("a long key differing from a consumed one in its last byte was already spent")
	}
	count(t, g, long1, long)
	if n := count(t, g, long2, long); n != 1 {
		t.Fatalf("first Count of a long key differing from a counted one in its last byte = %d, want 1", n)
	}
	revoke(t, g, long1, t1, long)
	revoke(t, g, long2, t2, long)
	if got := revokedAt(t, g, long1, long2); !sameTime(got[0], t1) || !sameTime(got[1], t2) {
		t.Fatalf("RevokedAt of two long keys = %v, want [%v %v]", got, t1, t2)
	}
}

// oddKeys uses keys with separators, bytes that are not UTF-8, a NUL, a
// store's hash-tag braces and nothing at all.
func (suite) oddKeys(t *testing.T, g cookiesession.Guard, key func(string) string) {
	odd := []string{"", ":", "a:b", "a\x00b", "\xff\xfe", "{tag}", " ", "ünï", "*", "a#b"}
	for _, k := range odd {
		if !consume(t, g, key(k), long) {
			t.Fatalf("first Consume of %q reported false: it collides with another key", k)
		}
	}
	for _, k := range odd {
		if consume(t, g, key(k), long) {
			t.Fatalf("second Consume of %q reported true", k)
		}
	}
	// Keys exactly as given, without the run's prefix: a store keeps its
	// own namespace, so a bare empty key or separator is fine too.
	for _, k := range []string{"", ":"} {
		if _, err := g.Count(context.Background(), k, short); err != nil {
			t.Fatalf("Count(%q): %v", k, err)
		}
	}
}

func (s suite) cancelledContext(t *testing.T, g cookiesession.Guard, key func(string) string) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	checkUnavailable(t, ctx, g, key("a"))
}

func (s suite) expiredDeadline(t *testing.T, g cookiesession.Guard, key func(string) string) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	checkUnavailable(t, ctx, g, key("a"))
}

// checkUnavailable checks that every operation fails with an error wrapping
// ErrGuardUnavailable under ctx, which can no longer be used: failing
// closed, not reporting a nonce as fresh or a counter as low.
func checkUnavailable(t *testing.T, ctx context.Context, g cookiesession.Guard, k string) {
	t.Helper()
	if first, err := g.Consume(ctx, k, long); !errors.Is(err, cookiesession.ErrGuardUnavailable) || first {
		t.Errorf("Consume = %v, %v; want false and an error wrapping ErrGuardUnavailable", first, err)
	}
	if n, err := g.Count(ctx, k, long); !errors.Is(err, cookiesession.ErrGuardUnavailable) {
		t.Errorf("Count = %d, %v; want an error wrapping ErrGuardUnavailable", n, err)
	}
	if err := g.Revoke(ctx, k, t1, long); !errors.Is(err, cookiesession.ErrGuardUnavailable) {
		t.Errorf("Revoke = %v; want an error wrapping ErrGuardUnavailable", err)
	}
	if _, err := g.RevokedAt(ctx, k); !errors.Is(err, cookiesession.ErrGuardUnavailable) {
		t.Errorf("RevokedAt = %v; want an error wrapping ErrGuardUnavailable", err)
	}
}

// race runs f in n goroutines released at the same moment and waits for
// them all.
func race(n int, f func()) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f()
		}()
	}
	close(start)
	wg.Wait()
}
