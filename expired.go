package cookiesession

import (
	"context"
	"net/http"
)

// Opening expired sessions, for debugging tools only.

// DecodeExpired opens value as Decode does, with one difference: a genuine
// session past its deadline is returned too, together with an error
// wrapping ErrExpired that says why. Every other check applies unchanged
// (MAC, format, key, length, NotBefore and Verify): a value Decode refuses
// for any other reason yields a nil session and that error, so code that
// stops at a non-nil error never serves an expired session by mistake. Keys
// whose own TTL (SetWithTTL) has passed are gone, as always.
//
// DecodeExpired is for debugging tools, such as the cookiesession
// command's open -allow-expired. Never use it to serve a request: the
// session is over, and sealing it again would bring it back to life.
func (c *Codec) DecodeExpired(value string) (*Session, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	if value == "" {
		return c.New(), nil
	}
	s := &Session{c: c, hadCookie: true}
	if err := c.open(context.Background(), &s.state, value, true, c.unixNow()); err != nil {
		return nil, err
	}
	return s, c.pastDeadline(&s.state)
}

// DecodeCookiesExpired is DecodeCookies with DecodeExpired's one
// difference: a genuine session past its deadline is returned together with
// an error wrapping ErrExpired. Like DecodeExpired it is for debugging
// tools only, never for serving requests.
func (c *Codec) DecodeCookiesExpired(cookies []*http.Cookie) (*Session, error) {
	s, err := c.decodeCookies(cookies, true)
	if err != nil || s.sealed == 0 {
		return s, err // refused, or no session cookie at all
	}
	return s, c.pastDeadline(&s.state)
}

// pastDeadline returns the ErrExpired error Decode would have returned for
// the opened session st, or nil if st is alive.
func (c *Codec) pastDeadline(st *state) error {
	if deadline, _ := c.cookieDeadline(st); c.unixNow() >= deadline {
		return c.expiredError(st)
	}
	return nil
}
