package cookiesession

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func newTestMemoryGuard(max int) (*MemoryGuard, *testClock) {
	clk := newTestClock()
	return NewMemoryGuard(MemoryGuardConfig{MaxEntries: max, Now: clk.Now}), clk
}

func TestMemoryGuard_ConsumeOnceUntilTTL(t *testing.T) {
	g, clk := newTestMemoryGuard(0)
	ctx := context.Background()
	want := func(key string, wantFirst bool) {
		t.Helper()
		first, err := g.Consume(ctx, key, time.Minute)
		if err != nil || first != wantFirst {
			t.Fatalf("Consume(%q) = %v, %v; want %v", key, first, err, wantFirst)
		}
	}
	want("a", true)
	want("a", false)
	want("b", true) // keys are independent
	clk.Advance(time.Minute - time.Nanosecond)
	want("a", false)
	clk.Advance(time.Nanosecond)
	want("a", true) // the ttl has passed: the key is forgotten
	// A second Consume does not extend the first one's ttl.
	clk.Advance(59 * time.Second)
	want("a", false)
	clk.Advance(time.Second)
	want("a", true)
}

func TestMemoryGuard_CountWithinWindow(t *testing.T) {
	g, clk := newTestMemoryGuard(0)
	ctx := context.Background()
	for i := int64(1); i <= 3; i++ {
		if n, err := g.Count(ctx, "k", time.Minute); err != nil || n != i {
			t.Fatalf("Count #%d = %d, %v", i, n, err)
		}
		clk.Advance(20 * time.Second) // the window is fixed from the first count
	}
	if n, err := g.Count(ctx, "k", time.Minute); err != nil || n != 1 {
		t.Fatalf("Count after the window = %d, %v; want 1", n, err)
	}
	// A counter and a spent key of the same name are distinct.
	if first, err := g.Consume(ctx, "k", time.Minute); err != nil || !first {
		t.Fatalf("Consume of a counted key = %v, %v", first, err)
	}
	if n, _ := g.Count(ctx, "k", time.Minute); n != 2 {
		t.Fatalf("Count after Consume of the same name = %d, want 2", n)
	}
}

func TestMemoryGuard_Revoke(t *testing.T) {
	g, clk := newTestMemoryGuard(0)
	ctx := context.Background()
	t1 := testStart.Add(time.Hour)
	t2 := testStart.Add(2 * time.Hour)
	if err := g.Revoke(ctx, "a", t2, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := g.Revoke(ctx, "a", t1, 2*time.Minute); err != nil { // earlier time, longer ttl
		t.Fatal(err)
	}
	got, err := g.RevokedAt(ctx, "a", "b")
	if err != nil || len(got) != 2 || !got[0].Equal(t2) || !got[1].IsZero() {
		t.Fatalf("RevokedAt = %v, %v; want [%v, zero]", got, err, t2)
	}
	clk.Advance(time.Minute) // past the first ttl, within the second
	if got, _ := g.RevokedAt(ctx, "a"); !got[0].Equal(t2) {
		t.Fatalf("RevokedAt after 1 min = %v; the longer ttl was not kept", got)
	}
	clk.Advance(time.Minute)
	if got, _ := g.RevokedAt(ctx, "a"); !got[0].IsZero() {
		t.Fatalf("RevokedAt after the ttl = %v, want zero", got)
	}
}

func TestMemoryGuard_Bounded(t *testing.T) {
	g, clk := newTestMemoryGuard(3)
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		if _, err := g.Consume(ctx, k, time.Duration(len(k))*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	// Full: a new entry is refused (fail closed), never made by forgetting
	// a live one.
	if _, err := g.Consume(ctx, "d", time.Minute); !errors.Is(err, ErrGuardFull) || !errors.Is(err, ErrGuardUnavailable) {
		t.Fatalf("Consume when full: %v, want ErrGuardFull wrapping ErrGuardUnavailable", err)
	}
	if _, err := g.Count(ctx, "d", time.Minute); !errors.Is(err, ErrGuardFull) {
		t.Fatalf("Count when full: %v", err)
	}
	if err := g.Revoke(ctx, "d", testStart, time.Minute); !errors.Is(err, ErrGuardFull) {
		t.Fatalf("Revoke when full: %v", err)
	}
	if first, err := g.Consume(ctx, "a", time.Minute); err != nil || first {
		t.Fatalf("Consume of a live key when full = %v, %v; want false, nil", first, err)
	}
	if g.Len() != 3 {
		t.Fatalf("Len %d, want 3", g.Len())
	}
	clk.Advance(time.Minute) // all three have 1-minute ttls ("a", "b", "c" are one byte)
	if n := g.Len(); n != 0 {
		t.Fatalf("Len after every ttl passed = %d, want 0", n)
	}
	if first, err := g.Consume(ctx, "d", time.Minute); err != nil || !first {
		t.Fatalf("Consume after expiry freed room = %v, %v", first, err)
	}
}

func TestMemoryGuard_MemoryStaysBounded(t *testing.T) {
	g, clk := newTestMemoryGuard(100)
	ctx := context.Background()
	for i := range 10_000 {
		key := string(rune('a'+i%26)) + time.Duration(i).String()
		if _, err := g.Count(ctx, key, time.Second); err != nil {
			t.Fatalf("Count #%d: %v", i, err)
		}
		if g.Len() > 100 {
			t.Fatalf("Len %d over MaxEntries", g.Len())
		}
		clk.Advance(20 * time.Millisecond) // about 50 live at a time
	}
	if len(g.byTime) != len(g.entries) {
		t.Fatalf("heap %d, map %d: out of step", len(g.byTime), len(g.entries))
	}
}

func TestMemoryGuard_DoneContext(t *testing.T) {
	g, _ := newTestMemoryGuard(0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Consume(ctx, "a", time.Minute); !errors.Is(err, ErrGuardUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("Consume: %v", err)
	}
	if _, err := g.Count(ctx, "a", time.Minute); !errors.Is(err, ErrGuardUnavailable) {
		t.Errorf("Count: %v", err)
	}
	if err := g.Revoke(ctx, "a", testStart, time.Minute); !errors.Is(err, ErrGuardUnavailable) {
		t.Errorf("Revoke: %v", err)
	}
	if _, err := g.RevokedAt(ctx, "a"); !errors.Is(err, ErrGuardUnavailable) {
		t.Errorf("RevokedAt: %v", err)
	}
	if g.Len() != 0 {
		t.Errorf("a call with a done context recorded something")
	}
	if _, err := g.Consume(context.Background(), "a", 0); err == nil {
		t.Error("Consume with ttl 0 succeeded: the key would be forgotten at once")
	}
}

func TestMemoryGuard_Concurrent(t *testing.T) {
	g := NewMemoryGuard(MemoryGuardConfig{})
	ctx := context.Background()
	var wins atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if first, err := g.Consume(ctx, "once", time.Minute); err != nil {
					t.Error(err)
				} else if first {
					wins.Add(1)
				}
				if _, err := g.Count(ctx, "n", time.Minute); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d goroutines consumed the same key first, want 1", wins.Load())
	}
	if n, _ := g.Count(ctx, "n", time.Minute); n != 16*100+1 {
		t.Errorf("count %d, want %d", n, 16*100+1)
	}
}
