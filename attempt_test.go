package cookiesession

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAttempt_LimitHoldsAcrossReplayedCopies(t *testing.T) {
	c, clk, _ := newGuardedCodec(t, Config{})
	ctx := context.Background()
	s := c.New()
	s.Set("k", "v")
	cookie := sealCookie(t, c, s)
	// Every attempt comes from the same saved cookie, as in a replay.
	for i := 1; i <= 5; i++ {
		if err := c.Attempt(ctx, openCookie(t, c, cookie), "sms", 5, 5*time.Minute); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	for i := 6; i <= 20; i++ {
		err := c.Attempt(ctx, openCookie(t, c, cookie), "sms", 5, 5*time.Minute)
		if !errors.Is(err, ErrTooManyAttempts) || errors.Is(err, ErrGuardUnavailable) {
			t.Fatalf("attempt %d: %v, want ErrTooManyAttempts", i, err)
		}
	}
	// Another session, and another action of the same session, count apart.
	other := c.New()
	other.Set("k", "v")
	if err := c.Attempt(ctx, other, "sms", 5, 5*time.Minute); err != nil {
		t.Errorf("another session: %v", err)
	}
	if err := c.Attempt(ctx, openCookie(t, c, cookie), "email", 5, 5*time.Minute); err != nil {
		t.Errorf("another action: %v", err)
	}
	// The window passes: the count starts again.
	clk.Advance(5 * time.Minute)
	if err := c.Attempt(ctx, openCookie(t, c, cookie), "sms", 5, 5*time.Minute); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

func TestAttemptFor_CountsAcrossSessions(t *testing.T) {
	c, _, _ := newGuardedCodec(t, Config{})
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		if err := c.AttemptFor(ctx, "+1 555 0100", "sms-send", 3, time.Hour); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if err := c.AttemptFor(ctx, "+1 555 0100", "sms-send", 3, time.Hour); !errors.Is(err, ErrTooManyAttempts) {
		t.Fatalf("4th attempt: %v", err)
	}
	if err := c.AttemptFor(ctx, "+1 555 0199", "sms-send", 3, time.Hour); err != nil {
		t.Errorf("another subject: %v", err)
	}
	// A subject's count and a session's count never share a key, even when
	// the subject is spelled like the session's ID.
	s := c.New()
	if err := c.AttemptFor(ctx, s.ID(), "x", 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := c.Attempt(ctx, s, "x", 1, time.Hour); err != nil {
		t.Errorf("session count shares the subject's: %v", err)
	}
}

func TestAttempt_FailsClosed(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestCodec(t, Config{})
	if err := c.Attempt(ctx, c.New(), "sms", 5, time.Minute); !errors.Is(err, ErrGuardUnavailable) {
		t.Errorf("without a guard: %v", err)
	}
	c, _ = newTestCodec(t, Config{Guard: &downGuard{}})
	if err := c.AttemptFor(ctx, "u", "sms", 5, time.Minute); !errors.Is(err, ErrGuardUnavailable) || !errors.Is(err, errTestStoreDown) {
		t.Errorf("store down: %v", err)
	}
	c, _ = newTestCodec(t, Config{Guard: hangGuard{}, GuardTimeout: 30 * time.Millisecond})
	start := time.Now()
	if err := c.Attempt(ctx, c.New(), "sms", 5, time.Minute); !errors.Is(err, ErrGuardUnavailable) {
		t.Errorf("store hangs: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Attempt took %v with GuardTimeout 30ms", d)
	}
	c, _, _ = newGuardedCodec(t, Config{})
	if err := c.Attempt(ctx, c.New(), "sms", 5, 0); err == nil || errors.Is(err, ErrTooManyAttempts) {
		t.Errorf("window 0: %v, want a usage error", err)
	}
	if _, err := NewCodec(Config{Keys: c.keys, Subject: func(*Session) string { return "" }}); err == nil {
		t.Error("NewCodec accepted Subject without Guard")
	}
	if _, err := NewCodec(Config{Keys: c.keys, Guard: NewMemoryGuard(MemoryGuardConfig{}), GuardTimeout: -1}); err == nil {
		t.Error("NewCodec accepted a negative GuardTimeout")
	}
}
