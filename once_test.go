package cookiesession

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// downGuard fails every call the way a client of an unreachable store does:
// with its own error, which the codec must turn into ErrGuardUnavailable.
type downGuard struct{ calls atomic.Int64 }

var errTestStoreDown = errors.New("dial tcp 127.0.0.1:6379: connection refused")

func (g *downGuard) Consume(context.Context, string, time.Duration) (bool, error) {
	g.calls.Add(1)
	return false, errTestStoreDown
}
func (g *downGuard) Count(context.Context, string, time.Duration) (int64, error) {
	g.calls.Add(1)
	return 0, errTestStoreDown
}
func (g *downGuard) Revoke(context.Context, string, time.Time, time.Duration) error {
	g.calls.Add(1)
	return errTestStoreDown
}
func (g *downGuard) RevokedAt(context.Context, ...string) ([]time.Time, error) {
	g.calls.Add(1)
	return nil, errTestStoreDown
}

// hangGuard answers only when its context is done: a store that hangs.
type hangGuard struct{}

func (hangGuard) Consume(ctx context.Context, _ string, _ time.Duration) (bool, error) {
	<-ctx.Done()
	return false, ctx.Err()
}
func (hangGuard) Count(ctx context.Context, _ string, _ time.Duration) (int64, error) {
	<-ctx.Done()
	return 0, ctx.Err()
}
func (hangGuard) Revoke(ctx context.Context, _ string, _ time.Time, _ time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}
func (hangGuard) RevokedAt(ctx context.Context, _ ...string) ([]time.Time, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// newGuardedCodec returns a codec with an in-memory guard on the codec's
// clock.
func newGuardedCodec(t testing.TB, cfg Config) (*Codec, *testClock, *MemoryGuard) {
	t.Helper()
	clk := newTestClock()
	g := NewMemoryGuard(MemoryGuardConfig{Now: clk.Now})
	cfg.Guard, cfg.Now = g, clk.Now
	c, _ := newTestCodec(t, cfg)
	return c, clk, g
}

// sealCookie returns s's cookie value.
func sealCookie(t testing.TB, c *Codec, s *Session) string {
	t.Helper()
	v, err := c.Encode(s)
	if err != nil || v == "" {
		t.Fatalf("Encode = %q, %v", v, err)
	}
	return v
}

func openCookie(t testing.TB, c *Codec, v string) *Session {
	t.Helper()
	s, err := c.Decode(v)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return s
}

func TestTakeOnce_OnceAcrossCookieCopies(t *testing.T) {
	c, _, _ := newGuardedCodec(t, Config{})
	ctx := context.Background()
	s := c.New()
	s.SetOnce("code", "123456", 5*time.Minute)
	if got, ok := Get[string](s, "code"); !ok || got != "123456" {
		t.Fatalf("Get of a one-time value = %q, %v; Get must read it without taking it", got, ok)
	}
	cookie := sealCookie(t, c, s)

	first := openCookie(t, c, cookie)
	if got, err := TakeOnce[string](ctx, first, "code"); err != nil || got != "123456" {
		t.Fatalf("TakeOnce = %q, %v", got, err)
	}
	if first.Has("code") || first.Has("code"+onceSuffix) {
		t.Errorf("the taken value is still in the session: keys %v", first.Keys())
	}
	if _, err := TakeOnce[string](ctx, first, "code"); !errors.Is(err, ErrNoValue) {
		t.Errorf("second TakeOnce in the same session: %v, want ErrNoValue", err)
	}

	// The cookie saved before the value was taken, replayed.
	replay := openCookie(t, c, cookie)
	got, err := TakeOnce[string](ctx, replay, "code")
	if !errors.Is(err, ErrAlreadyUsed) || got != "" {
		t.Fatalf("TakeOnce from a replayed copy = %q, %v; want ErrAlreadyUsed", got, err)
	}
	if replay.Has("code") {
		t.Error("a value found already used stays in the replayed session")
	}

	// A fresh SetOnce in the same session is a new value, taken once again.
	again := openCookie(t, c, cookie)
	again.SetOnce("code", "654321", 5*time.Minute)
	cookie2 := sealCookie(t, c, again)
	if got, err := TakeOnce[string](ctx, openCookie(t, c, cookie2), "code"); err != nil || got != "654321" {
		t.Fatalf("TakeOnce of a new value = %q, %v", got, err)
	}
	if _, err := TakeOnce[string](ctx, openCookie(t, c, cookie2), "code"); !errors.Is(err, ErrAlreadyUsed) {
		t.Fatalf("replay of the new value: %v", err)
	}
}

func TestTakeOnce_ConcurrentCopies(t *testing.T) {
	c, _, _ := newGuardedCodec(t, Config{})
	s := c.New()
	s.SetOnce("token", int64(7), time.Minute)
	cookie := sealCookie(t, c, s)
	var wins atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cp, err := c.Decode(cookie)
			if err != nil {
				t.Error(err)
				return
			}
			v, err := TakeOnce[int](context.Background(), cp, "token")
			switch {
			case err == nil && v == 7:
				wins.Add(1)
			case !errors.Is(err, ErrAlreadyUsed):
				t.Errorf("TakeOnce: %d, %v", v, err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d copies took the value, want 1", wins.Load())
	}
}

func TestTakeOnce_ExpiryTypeAndPlainValues(t *testing.T) {
	c, clk, g := newGuardedCodec(t, Config{})
	ctx := context.Background()
	s := c.New()
	s.SetOnce("code", "123456", time.Minute)
	s.SetWithTTL("plain", "x", time.Minute) // not a one-time value: no nonce
	cookie := sealCookie(t, c, s)

	cp := openCookie(t, c, cookie)
	if _, err := TakeOnce[int](ctx, cp, "code"); !errors.Is(err, ErrNoValue) {
		t.Errorf("TakeOnce[int] of a string: %v, want ErrNoValue", err)
	}
	if _, err := TakeOnce[string](ctx, cp, "plain"); !errors.Is(err, ErrNoValue) {
		t.Errorf("TakeOnce of a value set without SetOnce: %v, want ErrNoValue", err)
	}
	if g.Len() != 0 {
		t.Errorf("failed TakeOnce calls consumed %d entries", g.Len())
	}
	if got, err := TakeOnce[string](ctx, cp, "code"); err != nil || got != "123456" {
		t.Errorf("TakeOnce after a wrong-type attempt = %q, %v: the value must not be burnt", got, err)
	}

	clk.Advance(time.Minute)
	if _, err := TakeOnce[string](ctx, openCookie(t, c, cookie), "code"); !errors.Is(err, ErrNoValue) {
		t.Errorf("TakeOnce after the ttl: %v, want ErrNoValue", err)
	}
	// The spent mark outlives the value by the clock-skew allowance.
	if n := g.Len(); n != 1 {
		t.Errorf("guard holds %d entries a minute on, want the spent mark", n)
	}
	clk.Advance(maxClockSkew * time.Second)
	if n := g.Len(); n != 0 {
		t.Errorf("guard holds %d entries after the ttl and skew: it would grow without bound", n)
	}

	s = c.New()
	s.SetOnce("code", "1", time.Minute)
	s.SetOnce("code", "1", 0)
	if s.Has("code") || s.Has("code"+onceSuffix) {
		t.Errorf("SetOnce with ttl 0 left keys %v", s.Keys())
	}
}

func TestTakeOnce_FailsClosed(t *testing.T) {
	ctx := context.Background()
	t.Run("no guard", func(t *testing.T) {
		c, _ := newTestCodec(t, Config{})
		s := c.New()
		s.SetOnce("code", "1", time.Minute)
		if _, err := TakeOnce[string](ctx, s, "code"); !errors.Is(err, ErrGuardUnavailable) {
			t.Fatalf("TakeOnce without a guard: %v, want ErrGuardUnavailable", err)
		}
		if !s.Has("code") {
			t.Error("the value was dropped")
		}
	})
	t.Run("store down", func(t *testing.T) {
		g := &downGuard{}
		c, _ := newTestCodec(t, Config{Guard: g})
		s := c.New()
		s.SetOnce("code", "1", time.Minute)
		_, err := TakeOnce[string](ctx, s, "code")
		if !errors.Is(err, ErrGuardUnavailable) || !errors.Is(err, errTestStoreDown) {
			t.Fatalf("TakeOnce with the store down: %v, want ErrGuardUnavailable wrapping the cause", err)
		}
		if !s.Has("code") {
			t.Error("the value was dropped although it was not consumed")
		}
	})
	t.Run("store hangs", func(t *testing.T) {
		c, _ := newTestCodec(t, Config{Guard: hangGuard{}, GuardTimeout: 50 * time.Millisecond})
		s := c.New()
		s.SetOnce("code", "1", time.Minute)
		start := time.Now()
		_, err := TakeOnce[string](ctx, s, "code")
		if !errors.Is(err, ErrGuardUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("TakeOnce with a hanging store: %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("TakeOnce took %v with GuardTimeout 50ms", d)
		}
		// The caller's own, shorter deadline wins too.
		c, _ = newTestCodec(t, Config{Guard: hangGuard{}, GuardTimeout: time.Hour})
		s = c.New()
		s.SetOnce("code", "1", time.Minute)
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		start = time.Now()
		if _, err := TakeOnce[string](short, s, "code"); !errors.Is(err, ErrGuardUnavailable) {
			t.Fatalf("TakeOnce past the caller's deadline: %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("TakeOnce took %v with a 20ms context", d)
		}
	})
}

// TestTakeOnce_AcrossRenew: Renew keeps a one-time value under a new ID; a
// copy of the cookie from before Renew (opened where nothing revoked its
// ID: Decode, no commit) still cannot take it a second time.
func TestTakeOnce_AcrossRenew(t *testing.T) {
	c, _, _ := newGuardedCodec(t, Config{})
	ctx := context.Background()
	s := c.New()
	s.SetOnce("code", "123456", time.Minute)
	before := sealCookie(t, c, s)
	renewed := openCookie(t, c, before)
	renewed.Renew()
	after := sealCookie(t, c, renewed)

	if got, err := TakeOnce[string](ctx, openCookie(t, c, after), "code"); err != nil || got != "123456" {
		t.Fatalf("TakeOnce after Renew = %q, %v", got, err)
	}
	if _, err := TakeOnce[string](ctx, openCookie(t, c, before), "code"); !errors.Is(err, ErrAlreadyUsed) {
		t.Fatalf("TakeOnce from the cookie before Renew: %v, want ErrAlreadyUsed", err)
	}
}
