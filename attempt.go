package cookiesession

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Attempt limits. A counter kept in the cookie goes back to zero whenever
// the client replays an older copy; these counters live in Config.Guard.

// Attempt counts one attempt at the action name (say "sms") for session s,
// and returns an error wrapping ErrTooManyAttempts once more than limit
// attempts were counted within window. Call it before each try, right or
// wrong: the try that exceeds the limit is refused before it is checked.
//
// Attempts are counted per session ID, so replaying an older copy of the
// cookie does not reset them; Renew and Flush start a new ID, and with it a
// new count. A client can always start a new session, so limit what a new
// session can try (a one-time code lives in the session that asked for it),
// or count per subject with AttemptFor too.
//
// The window starts at the first attempt and is fixed. Attempt fails closed
// with an error wrapping ErrGuardUnavailable when there is no Config.Guard
// or it does not answer in time.
func (c *Codec) Attempt(ctx context.Context, s *Session, name string, limit int, window time.Duration) error {
	if s == nil {
		return errors.New("cookiesession: Attempt with a nil *Session")
	}
	return c.attempt(ctx, c.guardKey("count", "session", s.ID(), name), name, limit, window)
}

// AttemptFor is Attempt counted per subject of the caller's choosing, such
// as a phone number or a user ID, across every session: the limit holds
// however many sessions a client starts.
func (c *Codec) AttemptFor(ctx context.Context, subject, name string, limit int, window time.Duration) error {
	return c.attempt(ctx, c.guardKey("count", "subject", subject, name), name, limit, window)
}

func (c *Codec) attempt(ctx context.Context, key, name string, limit int, window time.Duration) error {
	if window <= 0 {
		return fmt.Errorf("cookiesession: attempt window %v is not positive", window)
	}
	if c.guard.g == nil {
		return errNoGuard
	}
	gctx, cancel := c.guardContext(ctx)
	defer cancel()
	n, err := c.guard.g.Count(gctx, key, window)
	if err != nil {
		return guardErr("count", err)
	}
	if n > int64(limit) {
		return fmt.Errorf("%w at %q: %d within %v, limit %d", ErrTooManyAttempts, name, n, window, limit)
	}
	return nil
}
