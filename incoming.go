package cookiesession

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Reading a request's session cookies. A request may carry several cookies
// with the session's name: a stale one, or ones an attacker planted from a
// sibling subdomain or over plain HTTP to shadow the genuine cookie (the
// reason for the __Host- default, see Config.Name). Every candidate is
// tried, so planted cookies sent first cannot hide the genuine one, but
// within a budget of work, so planted cookies cannot make a request
// expensive; and when several candidates were sent and none opens, nothing
// is deleted, because a deletion can reach only the genuine host-only
// cookie, never the attacker's.

// maxSessionCookies bounds how many cookies with the session's names (NAME
// and NAME.i) a request may make the server look at; later ones are
// ignored. It is also the most values one request has opened.
const maxSessionCookies = 2 * maxChunks

// candidate is one cookie of a request with one of the session's
// names: index 0 for NAME, i for NAME.i.
type candidate struct {
	index int
	value string
}

// cookieSet gathers a request's cookies that belong to the session, in the
// order they were sent.
type cookieSet struct {
	list []candidate // no backing array inside: a set pointing into itself moves to the heap (read keeps one on its stack)
	seen uint32      // bit i: NAME.i was sent (bit 0: NAME)
	dup  bool        // some name was sent twice with different values
	// expiredOK opens sessions past their deadline (DecodeCookiesExpired).
	expiredOK bool
	now       int64 // the time the request's cookies are opened at
}

// index returns i if name is NAME.i (0 for NAME), or -1 if it is none of
// the session's names. Chunk names count up to the hard cap, not
// MaxCookies, so that chunks left from a larger MaxCookies get deleted.
func (c *Codec) index(name string) int {
	if name == c.name {
		return 0
	}
	if c.chunks == 1 || len(name) <= len(c.name)+1 || name[:len(c.name)] != c.name || name[len(c.name)] != '.' {
		return -1
	}
	suffix := name[len(c.name)+1:]
	i, err := strconv.Atoi(suffix)
	if err != nil || i < 1 || i >= maxChunks || strconv.Itoa(i) != suffix {
		return -1
	}
	return i
}

// admit records a cookie named name in cs and returns the candidate to
// append to cs.list, if it adds one. The caller appends it, so that a list
// kept on the caller's stack stays there.
func (c *Codec) admit(cs *cookieSet, name, value string) (candidate, bool) {
	i := c.index(name)
	if i < 0 {
		return candidate{}, false
	}
	if cs.seen&(1<<i) != 0 {
		for _, sc := range cs.list {
			if sc.index == i && sc.value == value {
				return candidate{}, false // an identical copy adds nothing to try
			}
		}
		cs.dup = true
	}
	cs.seen |= 1 << i
	if len(cs.list) == maxSessionCookies {
		return candidate{}, false // a request cannot make the server look at more
	}
	return candidate{i, value}, true
}

// budget is the work one request's cookies may cause, counted in bytes
// handed to open (each is base64-decoded and MACed before anything else):
// twice the largest session the codec accepts, so that one forged set of
// any size sent first does not lock out the genuine one; and at most
// maxSessionCookies values.
type budget struct {
	bytes, tries int
	onTry        func(size int) // tests: sees every value tried
}

func (c *Codec) newBudget() budget {
	return budget{bytes: 2 * c.capacity(), tries: maxSessionCookies, onTry: c.onTry}
}

// errBudget stops the search once the budget is spent.
var errBudget = errors.New("the request's session cookies exceed the work one request may cause")

// charge takes one value of size bytes from the budget, or fails if the
// budget cannot pay for it.
func (b *budget) charge(size int) error {
	if b.tries == 0 || size > b.bytes {
		return invalid("gave up", errBudget)
	}
	b.tries--
	b.bytes -= size
	if b.onTry != nil {
		b.onTry(size)
	}
	return nil
}

// openSet opens the first candidate in cs that opens. It makes two
// passes over the cookies named NAME, in the order sent: first each with,
// for every chunk, the candidate sent soonest after it (a browser sends
// the cookies one response set in the order they were set, so a planted
// set sent first does not use up the budget on mixtures before the
// genuine set is tried); then each with the remaining combinations. If
// none opens, it returns false and the reason: an error for which
// keepsCookie holds if any candidate failed with one (so that no caller
// deletes that cookie), else the first error; and false, nil if cs holds
// no NAME cookie. A Guard that could not check a genuine candidate ends
// the search: every other genuine one would wait on it too.
func (c *Codec) openSet(ctx context.Context, cs *cookieSet, st *state) (bool, error) {
	b := c.newBudget()
	var first, keep error
	revoked := 0
search:
	for _, rest := range []bool{false, true} {
		for j, sc := range cs.list {
			if sc.index != 0 {
				continue
			}
			err := c.openFirst(ctx, cs, j, st, &b, rest)
			switch {
			case err == nil:
				return true, nil
			case errors.Is(err, errNoMore):
			case keepsCookie(err) && keep == nil:
				keep = err
			case first == nil:
				first = err
			}
			if errors.Is(err, ErrRevoked) {
				revoked++
			}
			if errors.Is(err, errBudget) || revocationUnchecked(err) || revoked == maxRevokedTries {
				break search
			}
		}
	}
	*st = state{}
	if keep != nil {
		return false, keep
	}
	return false, first
}

// keepsCookie reports whether a cookie that did not open for err may still
// be genuine and open elsewhere or later, so that no deletion may go out
// for it: sealed in the future (ErrClockSkew: this server's clock is
// behind), or not checked for revocation because the Guard did not answer
// (ErrGuardUnavailable, with Config.RequireRevocationCheck).
func keepsCookie(err error) bool {
	return errors.Is(err, ErrClockSkew) || revocationUnchecked(err)
}

// maxRevokedTries bounds how many genuine cookies one request may have
// refused as revoked (Config.Verify, Config.Guard) before the search ends:
// each costs a Verify call and a Guard round trip, and a client holding
// many old genuine cookies could otherwise send them all at once.
const maxRevokedTries = 2

// errNoMore is openFirst's answer when a set has no combination left.
var errNoMore = errors.New("no further combination")

// openFirst opens the set whose first cookie is cs.list[at]: with rest
// false, the combination of the candidates sent soonest after it; with
// rest true, every other combination that fits its layout.
func (c *Codec) openFirst(ctx context.Context, cs *cookieSet, at int, st *state, b *budget, rest bool) error {
	first := cs.list[at].value
	l, err := c.layout(first)
	switch {
	case rest && (err != nil || l.n == 1):
		return errNoMore // refused, or tried, in the first pass
	case err != nil:
		return err
	case l.n == 1:
		if err := b.charge(len(first)); err != nil {
			return err
		}
		*st = state{}
		return c.open(ctx, st, first, cs.expiredOK, cs.now)
	}
	// The candidates for each chunk, by position in cs.list: those sent
	// after the first cookie, soonest first, then those sent before it.
	var cands [maxChunks][]int
	for j, sc := range cs.list {
		if sc.index >= 1 && sc.index < l.n && c.fits(l, sc.index, sc.value) {
			cands[sc.index] = append(cands[sc.index], j)
		}
	}
	for i := 1; i < l.n; i++ {
		if len(cands[i]) == 0 {
			if rest {
				return errNoMore
			}
			return invalid(fmt.Sprintf("chunk %d of %d is missing or not of the length the first cookie implies", i, l.n), nil)
		}
		slices.SortStableFunc(cands[i], func(x, y int) int { return after(x, at, len(cs.list)) - after(y, at, len(cs.list)) })
	}
	var pick [maxChunks]int // an odometer over the candidates
	next := func() bool {
		for i := 1; i < l.n; i++ {
			if pick[i]++; pick[i] < len(cands[i]) {
				return true
			}
			pick[i] = 0
		}
		return false
	}
	if rest && !next() {
		return errNoMore
	}
	var firstErr error
	for {
		size := len(l.body)
		for i := 1; i < l.n; i++ {
			size += len(cs.list[cands[i][pick[i]]].value)
		}
		if err := b.charge(size); err != nil {
			return err
		}
		var joined strings.Builder
		joined.Grow(size)
		joined.WriteString(l.body)
		for i := 1; i < l.n; i++ {
			joined.WriteString(cs.list[cands[i][pick[i]]].value)
		}
		*st = state{}
		err := c.open(ctx, st, joined.String(), cs.expiredOK, cs.now)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errBudget) || keepsCookie(err):
			return err
		case firstErr == nil:
			firstErr = err
		}
		if rest && next() {
			continue
		}
		return firstErr
	}
}

// after ranks position x by how soon after position at it was sent, those
// sent before at coming last.
func after(x, at, n int) int {
	if x > at {
		return x - at
	}
	return x + n
}

// incoming is what a request's session cookies gave.
type incoming struct {
	from      *Codec // the codec whose name was tried: c, or c.oldName
	opened    bool
	oldName   bool   // opened from a cookie of the old default name
	err       error  // why nothing opened, if something was there
	hadCookie bool   // delete NAME if the session ends up empty
	chunksIn  uint32 // chunk cookies NAME.i that may be deleted
	oldNameIn uint32 // old-name cookies to delete (bit 0: DefaultName)
}

// read opens the session carried by a request's cookies, given either as
// Cookie header lines or parsed, into st at now (ctx is the request's, for a
// configured Guard); with expiredOK, a genuine session
// past its deadline opens too (DecodeCookiesExpired). Deletions are allowed only where they cannot hurt: not when several
// different cookies with one of the session's names were sent (a deletion
// would remove the genuine one and leave the attacker's), nor for a cookie
// refused as sealed in the future or unchecked by the Guard (keepsCookie).
func (c *Codec) read(ctx context.Context, lines []string, cookies []*http.Cookie, expiredOK bool, st *state, now int64) incoming {
	// Room for the usual one or two candidates of each name, on the stack.
	var csRoom, lsRoom [2]candidate
	cs := cookieSet{list: csRoom[:0], expiredOK: expiredOK, now: now}
	ls := cookieSet{list: lsRoom[:0], expiredOK: expiredOK, now: now}
	add := func(name, value string) {
		if sc, ok := c.admit(&cs, name, value); ok {
			cs.list = append(cs.list, sc)
		}
		if c.oldName == nil {
			return
		}
		if sc, ok := c.oldName.admit(&ls, name, value); ok {
			ls.list = append(ls.list, sc)
		}
	}
	forEachCookie(lines, add)
	for _, ck := range cookies {
		add(ck.Name, ck.Value)
	}
	in := incoming{from: c}
	set := &cs
	if cs.seen&1 == 0 && ls.seen&1 != 0 {
		set, in.from = &ls, c.oldName
	}
	if set.seen&1 != 0 {
		in.opened, in.err = in.from.openSet(ctx, set, st)
	}
	keep := !in.opened && (set.dup || keepsCookie(in.err))
	if keep {
		return in
	}
	in.chunksIn = cs.seen &^ 1
	if set == &ls {
		in.oldName = in.opened
		if in.opened || sealedLike(&ls) {
			// An old-name cookie that does not even look sealed (no key
			// ID) is another app's, such as a gorilla/sessions cookie
			// awaiting gorillamigrate: it is left alone.
			in.oldNameIn = ls.seen
		}
	} else {
		in.hadCookie = cs.seen&1 != 0
	}
	return in
}

// sealedLike reports whether every NAME cookie in cs starts with a key ID,
// as a cookie sealed by a Codec does.
func sealedLike(cs *cookieSet) bool {
	for _, sc := range cs.list {
		if id, _, ok := strings.Cut(sc.value, "."); sc.index == 0 && (!ok || !validKeyID(id)) {
			return false
		}
	}
	return true
}

// DecodeCookies opens the session carried by a request's cookies: those
// named Config.Name and, with MaxCookies > 1, its chunks; with the default
// __Host- name and no such cookie, the "session" cookies of the old
// default name (see Config.Name). Cookies with other names are ignored; with no session
// cookie at all it returns a new, empty session and a nil error. Use
// http.ParseCookie to turn a Cookie header into the slice.
//
// Every cookie with the session's name is tried in order, with each
// combination of chunks that fits its layout (FORMAT.md §6), within a
// budget of twice the bytes of the largest session and 32 values, and the
// first that opens wins. If none does, the error is the first one's, or
// ErrClockSkew or ErrGuardUnavailable if any was refused for it. Delete the
// cookie only for a single candidate and never for those two: see
// Middleware.
//
// Pass what the browser sent: the deletion cookies that Cookies returns are
// for the response, and an empty chunk among them does not open.
func (c *Codec) DecodeCookies(cookies []*http.Cookie) (*Session, error) {
	return c.decodeCookies(cookies, false)
}

func (c *Codec) decodeCookies(cookies []*http.Cookie, expiredOK bool) (*Session, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	s := c.New()
	var st state
	in := c.read(context.Background(), nil, cookies, expiredOK, &st, c.unixNow())
	if !in.opened {
		if in.err != nil {
			return nil, in.err
		}
		return s, nil
	}
	s.state = st
	// What Commit may delete, as for a session the middleware opened.
	s.hadCookie, s.chunksIn, s.oldNameIn = in.hadCookie, in.chunksIn, in.oldNameIn
	s.modified = in.oldName // resealed under the new name
	return s, nil
}

// logClockSkew records a cookie refused as sealed in the future: this
// server's clock is behind the one that sealed it, or that one's is ahead.
func (c *Codec) logClockSkew(err error) {
	c.log().LogAttrs(context.Background(), slog.LevelWarn,
		"cookiesession: session cookie sealed in the future; check the servers' clocks (cookie kept)",
		slog.String("cookie", c.name), slog.String("reason", err.Error()))
}
