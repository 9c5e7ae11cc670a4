package cookiesession

import (
	"context"
	"errors"
	"time"
)

// A Guard is the small, opt-in server-side memory for what a cookie alone
// cannot make safe. A client can always send an older copy of its cookie, so
// state kept only in the cookie can be rolled back: a one-time code can be
// used twice, an attempt counter can be reset, a flushed session can be
// resumed. A Guard remembers just enough to refuse that: spent nonces,
// counters and revocations, each with a deadline. The session's data never
// leaves the cookie.
//
// Every operation is atomic across all users of the same backing store, so
// one Guard (Redis, for a fleet) protects every server that shares it.
// Implementations must be safe for concurrent use, must honour ctx's
// deadline, and must return an error wrapping ErrGuardUnavailable when the
// backing store cannot answer. Keys are chosen by this package; an
// implementation may prefix or hash them but must keep distinct keys
// distinct.
type Guard interface {
	// Consume marks key as spent for ttl. It reports true the first time,
	// false if key was already spent and its ttl has not passed.
	Consume(ctx context.Context, key string, ttl time.Duration) (first bool, err error)
	// Count adds one to the counter under key and returns the new count.
	// The counter starts at its first increment and is forgotten window
	// after that.
	Count(ctx context.Context, key string, window time.Duration) (n int64, err error)
	// Revoke records at as key's revocation time for ttl. A later time
	// replaces an earlier one; an earlier one never replaces a later one.
	Revoke(ctx context.Context, key string, at time.Time, ttl time.Duration) error
	// RevokedAt returns, for each key, the revocation time recorded by
	// Revoke, or the zero Time if there is none.
	RevokedAt(ctx context.Context, keys ...string) ([]time.Time, error)
}

// ErrGuardUnavailable means the Guard could not answer in time (its store
// is down, unreachable or slower than the context's deadline). Operations
// that need the Guard fail closed with it: a one-time value is not handed
// out and an attempt is not allowed.
var ErrGuardUnavailable = errors.New("cookiesession: guard unavailable")
