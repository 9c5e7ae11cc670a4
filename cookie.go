package cookiesession

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// setCookieTemplate validates the cookie attributes in cfg and keeps them
// for Cookie. Everything net/http would silently drop or a browser would
// silently refuse is an error here instead.
func (c *Codec) setCookieTemplate(cfg Config) error {
	ck := http.Cookie{
		Name:     c.name,
		Value:    "x",
		Path:     cfg.Path,
		Domain:   cfg.Domain,
		Secure:   !cfg.Insecure,
		HttpOnly: true,
		SameSite: cfg.SameSite,
	}
	if ck.Path == "" {
		ck.Path = "/"
	}
	if ck.SameSite == 0 || ck.SameSite == http.SameSiteDefaultMode {
		ck.SameSite = http.SameSiteLaxMode // what browsers assume anyway, said out loud
	}
	if err := ck.Valid(); err != nil {
		return fmt.Errorf("cookiesession: cookie attributes: %w", err)
	}
	if strings.ContainsAny(ck.Path, ";\x00\r\n") || !strings.HasPrefix(ck.Path, "/") {
		return fmt.Errorf("cookiesession: cookie Path %q must start with / and hold no ; or control characters", ck.Path)
	}
	switch {
	case ck.SameSite < http.SameSiteDefaultMode || ck.SameSite > http.SameSiteNoneMode:
		return fmt.Errorf("cookiesession: unknown SameSite value %d; net/http would drop the attribute", int(ck.SameSite))
	case ck.SameSite == http.SameSiteNoneMode && !ck.Secure:
		return errors.New("cookiesession: SameSite=None requires Secure; browsers drop such cookies (unset Insecure)")
	case hasPrefixFold(c.name, "__Host-") && (!ck.Secure || ck.Domain != "" || ck.Path != "/"):
		return fmt.Errorf("cookiesession: a %q cookie must be Secure, with Path / and no Domain; browsers drop it otherwise", c.name)
	case hasPrefixFold(c.name, "__Secure-") && !ck.Secure:
		return fmt.Errorf("cookiesession: a %q cookie must be Secure; browsers drop it otherwise", c.name)
	}
	ck.Value = ""
	c.cookie = ck
	// The attributes as http.Cookie.String writes them, for
	// setCookieHeader: everything after "name=".
	c.attrs = strings.TrimPrefix(ck.String(), c.name+"=")
	return nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// validCookieName reports whether name is an RFC 6265 token, the only names
// net/http sends and parses.
func validCookieName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isTokenByte(name[i]) {
			return false
		}
	}
	return true
}

func isTokenByte(c byte) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// Cookie returns the cookie to send for s: the sealed value with Max-Age
// set to the session's remaining life (none for a browser-close session),
// or, when s encodes to nothing (empty, flushed or expired), a deletion
// cookie with the same Path and Domain. It is Encode for handlers that set
// cookies themselves: serverless functions, frameworks without net/http
// middleware.
func (c *Codec) Cookie(s *Session) (*http.Cookie, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	if s == nil {
		return nil, errors.New("cookiesession: Cookie of a nil *Session")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sealed, err := c.encodeLocked(s, c.unixNow(), "")
	if err != nil {
		return nil, err
	}
	v, maxAge := sealed.value(), sealed.maxAge
	if v == "" {
		return c.deletion(), nil
	}
	if c.cookiesFor(len(v)) > 1 {
		return nil, &sessionError{kind: ErrTooLarge, reason: "session spans several cookies; use Codec.Cookies"}
	}
	return c.sealedCookie(v, maxAge), nil
}

// sealedCookie returns the session cookie carrying value.
func (c *Codec) sealedCookie(value string, maxAge int64) *http.Cookie {
	ck := c.cookie
	ck.Value = value
	ck.MaxAge = int(maxAge)
	return &ck
}

// deletion returns a cookie that makes the browser drop the session cookie.
func (c *Codec) deletion() *http.Cookie {
	ck := c.cookie
	ck.MaxAge = -1 // "Max-Age=0"
	ck.Expires = time.Unix(1, 0)
	return &ck
}
