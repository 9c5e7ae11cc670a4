package cookiesession

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Chunking (Config.MaxCookies > 1). A sealed value too long for one cookie
// is split, after sealing, over the cookies NAME, NAME.1, ..., NAME.(n-1).
// The first carries the count: "n:" then the first part. Each cookie stays
// within MaxLength, counted over name=value. Because the MAC covers the
// whole value, a missing, reordered or foreign chunk does not open; a chunk
// beyond the count is refused outright.

// maxChunks is the hard cap on MaxCookies.
const maxChunks = 16

func (c *Codec) chunkName(i int) string {
	if i == 0 {
		return c.name
	}
	return c.name + "." + strconv.Itoa(i)
}

// chunkCap is how many bytes of sealed value cookie i of n carries.
func (c *Codec) chunkCap(i, n int) int {
	room := c.maxLength - len(c.name) - 1 // "NAME="
	if i == 0 {
		if n > 1 {
			room -= len(strconv.Itoa(n)) + 1 // "n:"
		}
		return room
	}
	return room - 1 - len(strconv.Itoa(i)) // ".i"
}

// cookiesFor returns how many cookies a sealed value of n bytes needs, or 0
// if it does not fit in MaxCookies.
func (c *Codec) cookiesFor(n int) int {
	for count := 1; count <= c.chunks; count++ {
		total := 0
		for i := 0; i < count; i++ {
			total += c.chunkCap(i, count)
		}
		if n <= total {
			return count
		}
	}
	return 0
}

// capacity is the most bytes of cookies, counted over name=value, that one
// session may take.
func (c *Codec) capacity() int { return c.maxLength * c.chunks }

// split cuts a sealed value into the values of its cookies.
func (c *Codec) split(v string) []string {
	n := c.cookiesFor(len(v))
	if n <= 1 {
		return []string{v}
	}
	parts := make([]string, n)
	for i := range parts {
		take := min(c.chunkCap(i, n), len(v))
		parts[i], v = v[:take], v[take:]
	}
	parts[0] = strconv.Itoa(n) + ":" + parts[0]
	return parts
}

// cookieSet gathers a request's cookies that belong to the session: every
// cookie named NAME, in order, and the first of each NAME.i.
type cookieSet struct {
	first   []string
	firstAt [maxCookieTries]string // backs first
	chunks  [maxChunks]string
	present uint32 // bit i: NAME.i was sent
	size    int    // bytes of the chunks NAME.1 and up
	// expiredOK opens sessions past their deadline (DecodeCookiesExpired).
	expiredOK bool
}

func (c *Codec) add(cs *cookieSet, name, value string) {
	if name == c.name {
		if len(cs.first) == maxCookieTries {
			return // a request cannot make the server try more
		}
		if cs.first == nil {
			cs.first = cs.firstAt[:0]
		}
		cs.first = append(cs.first, value)
		return
	}
	if c.chunks == 1 || len(name) <= len(c.name)+1 || name[:len(c.name)] != c.name || name[len(c.name)] != '.' {
		return
	}
	i, err := strconv.Atoi(name[len(c.name)+1:])
	if err != nil || i < 1 || i >= maxChunks || strconv.Itoa(i) != name[len(c.name)+1:] || cs.present&(1<<i) != 0 {
		return
	}
	cs.chunks[i] = value
	cs.present |= 1 << i
	cs.size += len(value)
}

// join reassembles the sealed value whose first cookie is first.
func (c *Codec) join(cs *cookieSet, first string) (string, error) {
	if size := len(first) + cs.size; size > c.capacity() {
		return "", &sessionError{kind: ErrTooLarge, reason: fmt.Sprintf("session cookies are %d bytes, limit %d", size, c.capacity())}
	}
	n := 1
	if countText, rest, ok := strings.Cut(first, ":"); ok && len(countText) <= 2 && !strings.Contains(countText, ".") {
		var err error
		if n, err = strconv.Atoi(countText); err != nil || strconv.Itoa(n) != countText || n < 2 {
			return "", invalid("malformed chunk count", nil)
		}
		if n > c.chunks {
			return "", &sessionError{kind: ErrTooLarge, reason: fmt.Sprintf("session spans %d cookies, limit %d", n, c.chunks)}
		}
		first = rest
	}
	if extra := cs.present >> n; extra != 0 {
		return "", invalid(fmt.Sprintf("unexpected chunk cookie beyond the %d announced", n), nil)
	}
	if n == 1 {
		return first, nil
	}
	var b strings.Builder
	b.Grow(len(first) + cs.size)
	b.WriteString(first)
	for i := 1; i < n; i++ {
		if cs.present&(1<<i) == 0 {
			return "", invalid(fmt.Sprintf("chunk %d of %d is missing", i, n), nil)
		}
		b.WriteString(cs.chunks[i])
	}
	return b.String(), nil
}

// openSet opens the first cookie named NAME that opens, with its chunks.
// It returns the first error if none does, and nil, nil if there is none.
func (c *Codec) openSet(ctx context.Context, cs *cookieSet, st *state) (opened bool, err error) {
	for _, first := range cs.first {
		v, jerr := c.join(cs, first)
		if jerr == nil {
			jerr = c.open(ctx, st, v, cs.expiredOK)
		}
		if jerr == nil {
			return true, nil
		}
		if err == nil {
			err = jerr
		}
		*st = state{}
	}
	return false, err
}

// DecodeCookies opens the session carried by a request's cookies: the one
// named Config.Name and, with MaxCookies > 1, its chunks. Cookies with
// other names are ignored; with no session cookie at all it returns a new,
// empty session and a nil error. Use http.ParseCookie to turn a Cookie
// header into the slice.
// Pass what the browser sent: the deletion cookies that Cookies returns are
// for the response, and an empty chunk among them does not open.
func (c *Codec) DecodeCookies(cookies []*http.Cookie) (*Session, error) {
	var cs cookieSet
	for _, ck := range cookies {
		c.add(&cs, ck.Name, ck.Value)
	}
	if len(cs.first) == 0 {
		return c.New(), nil
	}
	s := &Session{c: c}
	if _, err := c.openSet(context.Background(), &cs, &s.state); err != nil {
		return nil, err
	}
	return s, nil
}

// Cookies is Cookie for sessions that may span several cookies
// (Config.MaxCookies > 1): the cookies to set, then deletion cookies for
// every chunk name the session does not use now, so that no stale chunk
// survives a shrink or a flush.
func (c *Codec) Cookies(s *Session) ([]*http.Cookie, error) {
	if s == nil {
		return nil, errors.New("cookiesession: Cookies of a nil *Session")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, maxAge, err := c.encodeLocked(s)
	if err != nil {
		return nil, err
	}
	var out []*http.Cookie
	used := 0
	if v != "" {
		parts := c.split(v)
		for i, p := range parts {
			ck := c.sealedCookie(p, maxAge)
			ck.Name = c.chunkName(i)
			out = append(out, ck)
		}
		used = len(parts)
	}
	for i := used; i < c.chunks; i++ {
		ck := c.deletion()
		ck.Name = c.chunkName(i)
		out = append(out, ck)
	}
	return out, nil
}
