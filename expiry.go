package cookiesession

import (
	"math"
	"strconv"
	"time"
)

// Expiry, Django's set_expiry family. A session's expiry policy is sealed
// into its cookie and enforced by Decode: the browser's Max-Age is only a
// hint. Whatever the policy, two server-side caps apply, both checked
// against the codec's configuration when a cookie is opened, so that
// tightening them ends sessions already out there: Config.MaxExpiry (if
// set) caps the time since the session was last sealed, and
// Config.AbsoluteTimeout (if set) its life since its creation.
//
// Deadlines have one-second resolution. A session is alive strictly before
// its deadline and expired from the deadline on.

// SetExpiry sets the session to expire after d without activity (without
// being sealed again). d == 0 makes it last until the browser closes: the
// cookie gets no Max-Age, and the server still refuses it once
// Config.MaxAge has passed since it was last sealed. d < 0 expires the
// session at once: Encode returns "" and the cookie is deleted.
// Config.MaxExpiry, if set, caps d.
func (s *Session) SetExpiry(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	switch {
	case d == 0:
		s.mode, s.expArg = expiryBrowserClose, 0
	case d < 0:
		s.mode, s.expArg = expiryAt, 1 // the epoch's first second: long gone
	default:
		s.mode, s.expArg = expiryIdle, durationSeconds(d)
	}
	s.modified = true
}

// SetExpiryAt sets the session to expire at t, however active it is. A t in
// the past expires the session at once. Config.MaxExpiry, if set, still
// ends it earlier if it goes that long without being sealed again.
func (s *Session) SetExpiryAt(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	s.mode, s.expArg = expiryAt, min(max(t.Unix(), 1), maxUnix)
	s.modified = true
}

// ResetExpiry returns the session to the codec's default policy:
// Config.MaxAge of inactivity (Django's set_expiry(None)).
func (s *Session) ResetExpiry() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	s.mode, s.expArg = expiryDefault, 0
	s.modified = true
}

// ExpiryAge returns how long the session would live if it were sealed now
// (Django's get_expiry_age). For a browser-close session it is the longest
// the server accepts it, Config.MaxAge (or MaxExpiry, if shorter). It is
// zero once the session is past its deadline.
func (s *Session) ExpiryAge() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	now := s.c.unixNow()
	// Capped at the longest Duration: a deadline centuries away (up to
	// year 9999) would overflow it.
	return time.Duration(min(max(s.c.deadline(s, now)-now, 0), int64(math.MaxInt64/time.Second))) * time.Second
}

// ExpiryDate returns the instant the session would expire if it were sealed
// now (Django's get_expiry_date).
func (s *Session) ExpiryDate() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	return time.Unix(s.c.deadline(s, s.c.unixNow()), 0)
}

// ExpiresAtBrowserClose reports whether the session's cookie lasts only
// until the browser closes (Django's get_expire_at_browser_close).
func (s *Session) ExpiresAtBrowserClose() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	return s.mode == expiryBrowserClose
}

// deadline returns the session's deadline if it were sealed at now.
func (c *Codec) deadline(s *Session, now int64) int64 {
	var d int64
	switch s.mode {
	case expiryIdle:
		d = now + s.expArg
	case expiryAt:
		d = s.expArg
	default:
		d = now + c.maxAge
	}
	if c.maxExpiry > 0 {
		d = min(d, now+c.maxExpiry)
	}
	if c.absolute > 0 {
		d = min(d, s.created+c.absolute)
	}
	return min(d, maxUnix)
}

// idleWindow returns how long after each seal a session opened into st
// stays alive, and whether sealing it again moves its deadline at all: a
// fixed SetExpiryAt deadline moves only where MaxExpiry cuts it short.
func (c *Codec) idleWindow(st *state) (window int64, slides bool) {
	switch st.mode {
	case expiryIdle:
		window = st.expArg
	case expiryAt:
		if c.maxExpiry == 0 || st.expArg <= st.sealed+c.maxExpiry {
			return 0, false
		}
		window = c.maxExpiry
	default:
		window = c.maxAge
	}
	if c.maxExpiry > 0 {
		window = min(window, c.maxExpiry)
	}
	return window, true
}

// durationSeconds rounds d up to whole seconds, at least one, at most
// maxUnix.
func durationSeconds(d time.Duration) int64 {
	sec := int64(d / time.Second)
	if d%time.Second != 0 {
		sec++
	}
	return min(max(sec, 1), maxUnix)
}

// ExpiryPolicy describes the session's expiry policy, for display and
// debugging: "default", "browser-close", "idle " followed by a duration
// ("idle 5m0s"), or "at " followed by an RFC 3339 instant in UTC.
func (s *Session) ExpiryPolicy() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	switch s.mode {
	case expiryIdle:
		if s.expArg > int64(math.MaxInt64/time.Second) {
			return "idle " + strconv.FormatInt(s.expArg, 10) + "s" // past what a Duration holds
		}
		return "idle " + (time.Duration(s.expArg) * time.Second).String()
	case expiryAt:
		return "at " + time.Unix(s.expArg, 0).UTC().Format(time.RFC3339)
	case expiryBrowserClose:
		return "browser-close"
	}
	return "default"
}

// Deadline returns when the cookie this session was opened from (after a
// Commit that sealed it, the cookie sent) stops opening under the codec's
// current limits, or the zero Time for a session neither opened from a
// cookie nor committed. Unlike ExpiryDate, it does not assume
// the session is sealed again.
func (s *Session) Deadline() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if s.sealed == 0 {
		return time.Time{}
	}
	d, _ := s.c.cookieDeadline(&s.state)
	return time.Unix(d, 0)
}
