package cookiesession

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"
)

// Revocation through Config.Guard. A cookie-only session cannot be ended
// before its deadline: any copy of the cookie keeps opening. With a Guard,
// the ID that Flush or Renew leaves behind is revoked when the response
// commits, and Codec.RevokeSubject ends a subject's older sessions; every
// session opened from a cookie is checked against both.

// retiredID is an ID that Flush or Renew left behind, to be revoked when
// the response commits.
type retiredID struct {
	id      [sessionIDLen]byte
	until   int64 // Unix seconds after which no copy of its cookie opens
	pending bool
}

// retire notes the ID of the cookie s was opened from, before Flush or
// Renew replaces it. s is locked. Only the first ID counts: an ID drawn in
// this request never reached a client.
func (s *Session) retire() {
	c := s.c
	if c.guard.g == nil || s.sealed == 0 || s.retired.pending {
		return
	}
	// Copies of the cookie carry deadlines up to the one it was sealed with,
	// and a request still running on the old ID may seal it once more.
	until, _ := c.cookieDeadline(&s.state)
	until = max(until, c.deadline(s, c.unixNow()))
	s.retired = retiredID{id: s.id, until: until, pending: true}
}

// guardCommit revokes the ID that Flush or Renew left behind, if any. It is
// called, with s locked, once the response carries the cookie that replaces
// or deletes the old one: a response that keeps the old cookie (a 5xx, a
// session that could not be sealed) must not end it. The revocation runs
// even if the client has gone (ctx cancelled), bounded by
// Config.GuardTimeout; if it fails, the caller sends the cookies anyway and
// logs the error.
func (c *Codec) guardCommit(ctx context.Context, s *Session) error {
	r := &s.retired
	if !r.pending {
		return nil
	}
	r.pending = false
	now := c.unixNow()
	if r.until+maxClockSkew <= now {
		return nil // every copy has expired anyway
	}
	if ctx == nil {
		ctx = context.Background()
	}
	gctx, cancel := c.guardContext(context.WithoutCancel(ctx))
	defer cancel()
	ttl := secondsDuration(r.until + maxClockSkew - now)
	if err := c.guard.g.Revoke(gctx, c.sessionKey(r.id), time.Unix(now, 0), ttl); err != nil {
		return guardErr("revoke", err)
	}
	return nil
}

// logGuardCommit logs a failed guardCommit: the new cookie or the deletion
// went out, but copies of the old cookie still open.
func (c *Codec) logGuardCommit(ctx context.Context, err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	c.log().LogAttrs(ctx, slog.LevelError,
		"cookiesession: previous session ID not revoked; copies of its cookie still open",
		slog.String("cookie", c.name), slog.String("error", err.Error()))
}

// RevokeSubject ends, for every server sharing Config.Guard, the sessions
// of subject (as named by Config.Subject) created before at, to the second:
// "log out everywhere". A session created at or after at's second, such as
// the new one of a user who logs in again, is not affected. To keep the
// caller's own session, Flush it and set its data again after RevokeSubject
// (Renew keeps the creation time, so it does not help).
//
// The revocation is kept until no session created before at can still
// open: for AbsoluteTimeout after at if that is set, otherwise for MaxAge
// (or MaxExpiry, if set and longer) after at (or after now, if at is in
// the past). Without AbsoluteTimeout or MaxExpiry, a session whose own
// expiry (SetExpiry, SetExpiryAt) reaches further than MaxAge, and that is
// not used while the revocation is kept, opens again afterwards.
//
// It returns an error wrapping ErrGuardUnavailable if the Guard does not
// answer.
func (c *Codec) RevokeSubject(ctx context.Context, subject string, at time.Time) error {
	switch {
	case c.guard.g == nil:
		return errNoGuard
	case c.guard.subject == nil:
		return errors.New("cookiesession: RevokeSubject needs Config.Subject, or no session is ever checked against it")
	case subject == "":
		return errors.New("cookiesession: RevokeSubject of an empty subject")
	}
	now := c.unixNow()
	until := max(at.Unix(), now) + max(c.maxAge, c.maxExpiry) // how long an unused seal opens
	if c.absolute > 0 {
		until = at.Unix() + c.absolute
	}
	if until+maxClockSkew <= now {
		return nil // no session created before at can still open
	}
	gctx, cancel := c.guardContext(ctx)
	defer cancel()
	if err := c.guard.g.Revoke(gctx, c.subjectKey(subject), at, secondsDuration(until+maxClockSkew-now)); err != nil {
		return guardErr("revoke", err)
	}
	return nil
}

// guardRevoked checks a session that opened against the Guard's
// revocations. If the Guard cannot answer, by default the session opens
// (fail open: an outage of the store must not log everyone out) and the
// failure is logged, at most once per guardWarnEvery; features that need
// the Guard still fail closed. With Config.RequireRevocationCheck it does
// not open: the error wraps ErrGuardUnavailable, and callers keep the
// cookie (see keepsCookie), so it opens again once the Guard answers.
func (c *Codec) guardRevoked(ctx context.Context, st *state) error {
	g := c.guard.g
	if g == nil {
		return nil
	}
	// The keys are built on the stack: revokedAt copies them for a Guard
	// that might keep them.
	var room [2][guardKeyRoom]byte
	var keys [2]string
	keys[0] = bytesString(c.appendSessionKey(room[0][:0], st.id))
	n := 1
	if c.guard.subject != nil {
		view := &Session{c: c, state: *st}
		sub, err := c.callSubject(view)
		if err != nil {
			return err
		}
		if sub != "" {
			keys[1] = bytesString(c.appendSubjectKey(room[1][:0], sub))
			n = 2
		}
		*st = view.state // keeps any values Subject decoded
	}
	var at [2]time.Time
	if err := c.revokedAt(ctx, keys[:n], at[:n]); err != nil {
		if c.guard.failClosed {
			return &sessionError{kind: ErrGuardUnavailable, reason: "revocation check not made (Config.RequireRevocationCheck)", cause: err}
		}
		c.logRevocationUnchecked(ctx, guardErr("revoked-at", err), true)
		return nil
	}
	if !at[0].IsZero() {
		return &sessionError{kind: ErrRevoked, reason: "session ID revoked by Flush or Renew"}
	}
	if n == 2 && !at[1].IsZero() && st.created < at[1].Unix() {
		return &sessionError{kind: ErrRevoked, reason: "created before its subject's sessions were revoked"}
	}
	return nil
}

// revocationUnchecked reports whether err is guardRevoked's refusal of a
// cookie it could not check (Config.RequireRevocationCheck), and not, say,
// a Config.Verify rejection whose cause mentions ErrGuardUnavailable.
func revocationUnchecked(err error) bool {
	if err == nil {
		return false // the common case, without errors.As's allocation
	}
	var se *sessionError
	return errors.As(err, &se) && se.kind == ErrGuardUnavailable
}

// guardWarnEvery is how often, at most, a codec logs that the Guard could
// not check a cookie's revocation: during an outage every request that
// opens a cookie would otherwise log a line.
const guardWarnEvery = 10 * time.Second

// warnLimiter lets one warning through per guardWarnEvery and counts the
// ones it holds back. It is safe for concurrent use.
type warnLimiter struct {
	mu         sync.Mutex
	next       time.Time // no warning before this
	suppressed int
}

// allow reports whether a warning may be logged at now and, if so, how
// many were held back since the last one. A clock set back by more than
// guardWarnEvery does not silence the warnings until it catches up.
func (l *warnLimiter) allow(now time.Time) (ok bool, suppressed int) {
	if l == nil { // a codec without a Guard: nothing to limit
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.next) && l.next.Sub(now) <= guardWarnEvery {
		l.suppressed++
		return false, 0
	}
	suppressed = l.suppressed
	l.next, l.suppressed = now.Add(guardWarnEvery), 0
	return true, suppressed
}

// logRevocationUnchecked logs, at most once per guardWarnEvery, that the
// Guard could not check a cookie's revocation: opened says whether the
// session opened anyway (fail open) or its cookie was kept unopened
// (Config.RequireRevocationCheck). The count of warnings held back since
// the last line goes with it.
func (c *Codec) logRevocationUnchecked(ctx context.Context, err error, opened bool) {
	ok, suppressed := c.guard.warn.allow(c.now())
	if !ok {
		return
	}
	if ctx == nil {
		ctx = context.Background()
	}
	msg := "cookiesession: guard unavailable; session cookie not opened (cookie kept)"
	if opened {
		msg = "cookiesession: guard unavailable; session opened without its revocation check"
	}
	attrs := []slog.Attr{slog.String("cookie", c.name), slog.String("error", err.Error())}
	if suppressed > 0 {
		attrs = append(attrs, slog.Int("suppressed", suppressed))
	}
	c.log().LogAttrs(ctx, slog.LevelWarn, msg, attrs...)
}

// revokedAt asks the Guard when each of keys was revoked (the zero time:
// never) and puts the answers in at, turning a panic in the Guard into an
// error: a Guard that fails that way cannot answer either. keys may be
// views of the caller's stack: a MemoryGuard reads them in place, any
// other Guard gets copies.
func (c *Codec) revokedAt(ctx context.Context, keys []string, at []time.Time) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("RevokedAt panicked (%T)", r)
		}
	}()
	if ctx == nil {
		ctx = context.Background()
	}
	if c.guard.mem != nil {
		return c.guard.mem.revokedAt(ctx, keys, at)
	}
	owned := make([]string, len(keys))
	for i, k := range keys {
		owned[i] = strings.Clone(k)
	}
	gctx, cancel := c.guardContext(ctx)
	defer cancel()
	got, err := c.guard.g.RevokedAt(gctx, owned...)
	if err == nil && len(got) != len(keys) {
		err = errors.New("RevokedAt returned the wrong number of times")
	}
	if err != nil {
		return err
	}
	copy(at, got)
	return nil
}

// callSubject runs Config.Subject on view. A panic rejects the session as
// revoked (its subject cannot be checked), reported by the panic's type
// alone, as callVerify does.
func (c *Codec) callSubject(view *Session) (sub string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &sessionError{kind: ErrRevoked, reason: fmt.Sprintf("Config.Subject panicked (%T)", r)}
		}
	}()
	return c.guard.subject(view), nil
}

// sessionKey and subjectKey are the Guard keys that revoke a session ID and
// a subject's sessions; the append forms build them into dst.
func (c *Codec) sessionKey(id [sessionIDLen]byte) string {
	var out [guardKeyRoom]byte
	return string(c.appendSessionKey(out[:0], id))
}

func (c *Codec) appendSessionKey(dst []byte, id [sessionIDLen]byte) []byte {
	return c.appendGuardKey(dst, "sid", string(id[:]))
}

func (c *Codec) subjectKey(subject string) string {
	var out [guardKeyRoom]byte
	return string(c.appendSubjectKey(out[:0], subject))
}

func (c *Codec) appendSubjectKey(dst []byte, subject string) []byte {
	return c.appendGuardKey(dst, "subject", subject)
}

// secondsDuration converts seconds to a Duration, saturating.
func secondsDuration(sec int64) time.Duration {
	return time.Duration(min(sec, int64(math.MaxInt64/time.Second))) * time.Second
}
