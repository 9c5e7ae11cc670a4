package cookiesession

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"time"
)

// One-time values: a value that TakeOnce hands out once, whichever copy of
// the cookie asks. The cookie carries the value and a random nonce next to
// it; taking the value consumes (key, nonce) in Config.Guard, which no
// replayed copy can undo. The session ID is left out on purpose: Renew
// keeps the value under a new ID, and a copy of the cookie from before
// Renew must not be able to take it a second time.

// onceNonceLen is the nonce's length: 128 random bits.
const onceNonceLen = 16

// onceSuffix names the key that holds a one-time value's nonce: the value
// under "sms_code", its nonce under "sms_code#once". Both show in Keys.
const onceSuffix = "#once"

// SetOnce stores value under key for ttl as a one-time value: TakeOnce
// returns it once, and every later TakeOnce of the same value, from this
// cookie or any copy of it, fails with ErrAlreadyUsed. Get and KeyExpiry
// read it as usual, without taking it. A second SetOnce replaces the value
// with a fresh one (a new nonce) that can be taken once again.
//
// Next to key the session holds key+"#once", the value's random nonce,
// with the same deadline. As with SetWithTTL, the deadline has one-second
// resolution and a ttl of zero or less removes the value.
func (s *Session) SetOnce(key string, value any, ttl time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ttl <= 0 {
		s.delete(key)
		s.delete(key + onceSuffix)
		return
	}
	deadline := min(s.c.unixNow()+durationSeconds(ttl), maxUnix)
	nonce := make([]byte, onceNonceLen)
	rand.Read(nonce) // never fails since Go 1.24
	s.set(key, value, deadline)
	s.set(key+onceSuffix, nonce, deadline)
}

// TakeOnce returns the one-time value SetOnce stored under key, as a T
// (converted as Get[T] does), and removes it from the session. It consumes
// the value in Config.Guard first, so that it succeeds once per value
// across every copy of the cookie and every server sharing the Guard:
//   - ErrAlreadyUsed: the value was taken before (the cookie is a replayed
//     copy); it is removed from this session too;
//   - ErrNoValue: no live one-time value under key (a value Set over it
//     is a plain one), or it is not a T;
//   - ErrGuardUnavailable: no Guard is configured, or it did not answer
//     within ctx's deadline and Config.GuardTimeout. The value stays, so
//     a later call can take it.
//
// TakeOnce is safe for concurrent use; of concurrent calls, at most one
// gets the value.
func TakeOnce[T any](ctx context.Context, s *Session, key string) (T, error) {
	var zero T
	nonce, deadline, ok := s.onceNonce(key)
	if !ok {
		return zero, fmt.Errorf("%w under %q", ErrNoValue, key)
	}
	// SetOnce gives the value and its nonce one deadline; a value set
	// over it since (Set, SetWithTTL) is a plain one.
	if d, ok := s.KeyExpiry(key); !ok || d.Unix() != deadline {
		return zero, fmt.Errorf("%w under %q: set again since SetOnce", ErrNoValue, key)
	}
	v, ok := Get[T](s, key)
	if !ok {
		return zero, fmt.Errorf("%w under %q: not a %T", ErrNoValue, key, zero)
	}
	c := s.c
	if c.guard.g == nil {
		return zero, errNoGuard
	}
	// The spent mark must outlive every copy of the cookie that carries the
	// nonce: they all drop the value at its deadline, on clocks that may
	// run up to maxClockSkew behind.
	ttl := secondsDuration(deadline - c.unixNow() + maxClockSkew)
	gctx, cancel := c.guardContext(ctx)
	defer cancel()
	first, err := c.guard.g.Consume(gctx, c.guardKey("once", key, string(nonce)), ttl)
	if err != nil {
		return zero, guardErr("consume", err)
	}
	s.dropOnce(key, nonce)
	if !first {
		return zero, fmt.Errorf("%w: %q", ErrAlreadyUsed, key)
	}
	return v, nil
}

// onceNonce returns the nonce of the one-time value under key and its
// deadline, if the session holds a live one.
func (s *Session) onceNonce(key string) (nonce []byte, deadline int64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.find(key + onceSuffix)
	if e == nil || e.deadline == 0 {
		return nil, 0, false
	}
	v, err := e.value()
	nonce, _ = v.([]byte)
	if err != nil || len(nonce) != onceNonceLen {
		return nil, 0, false
	}
	return bytes.Clone(nonce), e.deadline, true
}

// dropOnce removes the one-time value under key if it still has nonce:
// one set again meanwhile is a new value, not the one just consumed.
func (s *Session) dropOnce(key string, nonce []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.find(key + onceSuffix)
	if e == nil {
		return
	}
	if v, err := e.value(); err == nil {
		if cur, _ := v.([]byte); bytes.Equal(cur, nonce) {
			s.delete(key)
			s.delete(key + onceSuffix)
		}
	}
}
