package cookiesession

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Chunking (Config.MaxCookies > 1), FORMAT.md §6. A sealed value too long
// for one cookie is split, after sealing, over the cookies NAME, NAME.1,
// ..., NAME.(n-1). The first carries the count: "n:" then the first part.
// Every cookie but the last is exactly L bytes long, counted over
// name=value, where L is the writer's MaxLength; the last holds the rest,
// at least one byte; n is the fewest cookies of L bytes that hold the
// value. A reader learns L from the first cookie and accepts no other
// split, so each sealed value has exactly one chunked form. Because the MAC
// covers the whole value, a missing, reordered or foreign chunk does not
// open.

// maxChunks is the hard cap on MaxCookies.
const maxChunks = 16

func (c *Codec) chunkName(i int) string {
	if i == 0 {
		return c.name
	}
	return c.name + "." + strconv.Itoa(i)
}

// chunkCap is how many bytes of sealed value cookie i of n carries when
// every cookie is limit bytes long, counted over name=value.
func (c *Codec) chunkCap(limit, i, n int) int {
	room := limit - len(c.name) - 1 // "NAME="
	if i == 0 {
		if n > 1 {
			room -= len(strconv.Itoa(n)) + 1 // "n:"
		}
		return room
	}
	return room - 1 - len(strconv.Itoa(i)) // ".i"
}

// cookiesFor returns how many cookies a sealed value of size bytes needs,
// or 0 if it does not fit in MaxCookies.
func (c *Codec) cookiesFor(size int) int { return c.cookiesWithin(c.maxLength, size) }

// cookiesWithin is cookiesFor for cookies of limit bytes.
func (c *Codec) cookiesWithin(limit, size int) int {
	for count := 1; count <= c.chunks; count++ {
		total := 0
		for i := 0; i < count; i++ {
			total += c.chunkCap(limit, i, count)
		}
		if size <= total {
			return count
		}
	}
	return 0
}

// capacity is the most bytes of cookies, counted over name=value, that one
// session may take.
func (c *Codec) capacity() int { return c.maxLength * c.chunks }

// split cuts a sealed value into the values of its cookies: all full but
// the last, which is never empty (n is the fewest that hold v).
func (c *Codec) split(v string) []string {
	n := c.cookiesFor(len(v))
	if n <= 1 {
		return []string{v}
	}
	parts := make([]string, n)
	for i := range parts {
		take := min(c.chunkCap(c.maxLength, i, n), len(v))
		parts[i], v = v[:take], v[take:]
	}
	parts[0] = strconv.Itoa(n) + ":" + parts[0]
	return parts
}

// chunkLayout is what a first cookie announces about its set.
type chunkLayout struct {
	n     int    // cookies in the set
	limit int    // L: the length of every full cookie, over name=value
	body  string // the first cookie's share of the sealed value
}

// layout reads the first cookie's value: a plain sealed value (n = 1) or
// "n:" and the first part of a chunked one. It checks everything the first
// cookie alone decides, before any other cookie is looked at.
func (c *Codec) layout(first string) (chunkLayout, error) {
	size := len(c.name) + 1 + len(first)
	if size > c.maxLength {
		return chunkLayout{}, &sessionError{kind: ErrTooLarge, reason: fmt.Sprintf("cookie is %d bytes, limit %d", size, c.maxLength)}
	}
	countText, body, chunked := strings.Cut(first, ":") // ':' is in no sealed value
	if !chunked {
		return chunkLayout{n: 1, limit: size, body: first}, nil
	}
	n, err := strconv.Atoi(countText)
	switch {
	case err != nil || len(countText) > 2 || strconv.Itoa(n) != countText || n < 2:
		return chunkLayout{}, invalid("malformed chunk count", nil)
	case n > c.chunks:
		return chunkLayout{}, &sessionError{kind: ErrTooLarge, reason: fmt.Sprintf("session spans %d cookies, limit %d", n, c.chunks)}
	}
	for i := 0; i < n; i++ { // cap of chunk 0 is len(body)
		if c.chunkCap(size, i, n) < 1 {
			return chunkLayout{}, invalid("first chunk too short for its count", nil)
		}
	}
	return chunkLayout{n: n, limit: size, body: body}, nil
}

// fits reports whether value can be chunk i of the layout's set: exactly
// full unless it is the last, which holds the rest. The rest is 1 to a
// full cookie's bytes, and so long that the set needs all n cookies: a set
// with a needless extra cookie is not the one a writer produces.
func (c *Codec) fits(l chunkLayout, i int, value string) bool {
	full := c.chunkCap(l.limit, i, l.n)
	if i < l.n-1 {
		return len(value) == full
	}
	if len(value) < 1 || len(value) > full {
		return false
	}
	size := len(l.body) + len(value)
	for j := 1; j < l.n-1; j++ {
		size += c.chunkCap(l.limit, j, l.n)
	}
	return c.cookiesWithin(l.limit, size) == l.n
}

// Cookies is Cookie for sessions that may span several cookies
// (Config.MaxCookies > 1): the cookies to set, then deletion cookies for
// every chunk name the session does not use now, so that no stale chunk
// survives a shrink or a flush. A session opened from a cookie of the old
// default name (see Config.Name) also gets deletions for those cookies.
func (c *Codec) Cookies(s *Session) ([]*http.Cookie, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	if s == nil {
		return nil, errors.New("cookiesession: Cookies of a nil *Session")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sealed, err := c.encodeLocked(s, c.unixNow(), "")
	if err != nil {
		return nil, err
	}
	v, maxAge := sealed.value(), sealed.maxAge
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
	for _, name := range c.oldNames(s.oldNameIn) {
		ck := c.oldName.deletion()
		ck.Name = name
		out = append(out, ck)
	}
	return out, nil
}
