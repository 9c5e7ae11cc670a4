package cookiesession

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
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
// backing store cannot answer (the codec wraps any other error it gets in
// ErrGuardUnavailable too, so every feature fails closed on it). Keys are
// chosen by this package: a kind and a hash, at most 51 bytes, never user
// data in clear; an implementation may prefix or hash them but must keep
// distinct keys distinct (the kinds already keep what is consumed, counted
// and revoked apart). This package always passes a positive ttl or window;
// an implementation may refuse any other with an error.
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
	// RevokedAt returns, for each key in order, the revocation time
	// recorded by Revoke (to at least millisecond precision), or the zero
	// Time if there is none: exactly len(keys) times.
	RevokedAt(ctx context.Context, keys ...string) ([]time.Time, error)
}

// ErrGuardUnavailable means the Guard could not answer in time (its store
// is down, unreachable or slower than the context's deadline). Operations
// that need the Guard fail closed with it: a one-time value is not handed
// out, an attempt is not allowed and, with Config.RequireRevocationCheck,
// a cookie does not open.
var ErrGuardUnavailable = errors.New("cookiesession: guard unavailable")

// Errors of the features built on a Guard. Handlers test for them with
// errors.Is; each says what the user should be told.
var (
	// ErrAlreadyUsed means TakeOnce found the one-time value already taken:
	// the cookie is a copy replayed after the value was used.
	ErrAlreadyUsed = errors.New("cookiesession: one-time value already used")
	// ErrNoValue means TakeOnce found no one-time value under the key: it
	// was never set, its ttl passed, it was taken, a plain value was set
	// over it, or it is not a T.
	ErrNoValue = errors.New("cookiesession: no one-time value")
	// ErrTooManyAttempts means Codec.Attempt or Codec.AttemptFor counted
	// more attempts than the limit within the window.
	ErrTooManyAttempts = errors.New("cookiesession: too many attempts")
)

// DefaultGuardTimeout bounds each call to the Guard when
// Config.GuardTimeout is zero.
const DefaultGuardTimeout = time.Second

// guardConfig is what a Codec keeps of Config's guard fields.
type guardConfig struct {
	g       Guard // nil: no guard features, and no cost
	timeout time.Duration
	// mem is g as a *MemoryGuard, if it is one: it waits only on its
	// own lock, so its calls need no timeout.
	mem     *MemoryGuard
	subject func(*Session) string
	// failClosed is Config.RequireRevocationCheck.
	failClosed bool
	// warn limits the log of revocation checks the Guard could not make.
	warn *warnLimiter
	// name is the cookie name bound into every Guard key: the codec's
	// own, also for the codec that reads the old default name (oldname.go),
	// so that a revocation reaches a session whichever name carried it.
	name string
}

// setGuard validates and keeps cfg's guard fields.
func (c *Codec) setGuard(cfg Config) error {
	switch {
	case cfg.GuardTimeout < 0:
		return fmt.Errorf("cookiesession: negative GuardTimeout %v", cfg.GuardTimeout)
	case cfg.GuardTimeout == 0:
		cfg.GuardTimeout = DefaultGuardTimeout
	}
	if v := reflect.ValueOf(cfg.Guard); cfg.Guard != nil && v.Kind() == reflect.Pointer && v.IsNil() {
		// A typed nil would panic in the first session's revocation check.
		return fmt.Errorf("cookiesession: Config.Guard is a nil %T", cfg.Guard)
	}
	switch {
	case cfg.Guard == nil && cfg.Subject != nil:
		return errors.New("cookiesession: Config.Subject needs Config.Guard")
	case cfg.Guard == nil && cfg.RequireRevocationCheck:
		return errors.New("cookiesession: Config.RequireRevocationCheck needs Config.Guard")
	}
	c.guard = guardConfig{g: cfg.Guard, timeout: cfg.GuardTimeout, subject: cfg.Subject,
		failClosed: cfg.RequireRevocationCheck, name: c.name}
	c.guard.mem, _ = cfg.Guard.(*MemoryGuard)
	if cfg.Guard != nil {
		c.guard.warn = &warnLimiter{}
	}
	return nil
}

// guardContext bounds one call to the Guard by Config.GuardTimeout, so a
// slow store never holds a request past it (nor past ctx's own deadline).
// A *MemoryGuard, which waits only on its own lock, is called with ctx as
// it is: a timer per call would cost more than the call.
func (c *Codec) guardContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx == nil {
		ctx = context.Background()
	}
	if c.guard.mem != nil {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.guard.timeout)
}

// errNoGuard is what the guard features return without Config.Guard: they
// fail closed, as they do when the Guard is down.
var errNoGuard = fmt.Errorf("%w: Config.Guard is not set", ErrGuardUnavailable)

// guardErr describes a failed Guard call. Whatever the implementation
// returned (a timeout it did not wrap, say), the result wraps
// ErrGuardUnavailable, so that every feature fails closed on it.
func guardErr(op string, err error) error {
	if errors.Is(err, ErrGuardUnavailable) {
		return fmt.Errorf("cookiesession: guard %s: %w", op, err)
	}
	return fmt.Errorf("cookiesession: guard %s: %w: %w", op, ErrGuardUnavailable, err)
}

// guardKey derives a Guard key of the given kind from parts and the cookie
// name: fixed-length whatever the parts (a subject may be a long e-mail
// address; it is not stored in clear), and distinct for distinct parts,
// which are length-prefixed before hashing.
func (c *Codec) guardKey(kind string, parts ...string) string {
	var out [guardKeyRoom]byte
	return string(c.appendGuardKey(out[:0], kind, parts...))
}

// guardKeyRoom holds any key guardKey makes: the longest kind, "/", and a
// SHA-256 in unpadded base64.
const guardKeyRoom = 80

// appendGuardKey appends guardKey's key to dst.
func (c *Codec) appendGuardKey(dst []byte, kind string, parts ...string) []byte {
	var scratch [256]byte // enough for most keys: no allocation
	b := binary.BigEndian.AppendUint64(scratch[:0], uint64(len(c.guard.name)))
	b = append(b, c.guard.name...)
	for _, p := range parts {
		b = binary.BigEndian.AppendUint64(b, uint64(len(p)))
		b = append(b, p...)
	}
	sum := sha256.Sum256(b)
	dst = append(dst, kind...)
	dst = append(dst, '/')
	return base64.RawURLEncoding.AppendEncode(dst, sum[:])
}
