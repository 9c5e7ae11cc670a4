package cookiesession

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
)

// CommitHeaders is what a response must carry for its session, as decided
// by Codec.Commit: the policy of Codec.Middleware for code that does not
// run it (serverless functions, frameworks without net/http).
type CommitHeaders struct {
	// SetCookie holds the Set-Cookie header values, in order: the sealed
	// session (one cookie or its chunks) and deletions of the request's
	// session cookies it no longer needs. Empty when nothing changes.
	SetCookie []string
	// Vary is true when the response depends on the session cookie: the
	// handler touched the session. Send "Vary: Cookie".
	Vary bool
	// NoStore is true when the response carries a Set-Cookie: no shared
	// cache may store it. Send "Cache-Control: no-store".
	NoStore bool
}

// Apply adds the headers to h: the Set-Cookie lines after any already
// there, Cookie to Vary unless it is listed, and no-store to Cache-Control
// unless present (keeping any other directives).
func (ch CommitHeaders) Apply(h http.Header) { ch.apply(h, nil) }

// apply is Apply with per-response storage for the header values, room
// (nil for none): the middleware's writer holds one, CommitResponse
// allocates one. With room, ch.SetCookie is that response's own slice,
// built in room.setCookie or grown from it, so a header without Set-Cookie
// lines takes it as is.
func (ch CommitHeaders) apply(h http.Header, room *headerRoom) {
	var vary, noStore *[1]string
	if room != nil {
		vary, noStore = &room.vary, &room.noStore
	}
	if ch.Vary {
		addVary(h, "Cookie", vary)
	}
	if n := len(ch.SetCookie); n > 0 {
		if room != nil && len(h["Set-Cookie"]) == 0 {
			h["Set-Cookie"] = ch.SetCookie[:n:n] // cap == len, as headerRoom says
		} else {
			h["Set-Cookie"] = append(h["Set-Cookie"], ch.SetCookie...)
		}
	}
	if ch.NoStore {
		addNoStore(h, noStore)
	}
}

// Load returns the session a request carries in its Cookie header lines
// (the values of every "Cookie" header, as in http.Header["Cookie"]), for
// code that does not run Codec.Middleware. Like the middleware's session it
// is opened lazily: a handler that never touches it costs no crypto. A
// cookie that does not open gives an empty session; Session.OpenError says
// why. ctx is the request's context; a configured Guard uses it for its
// checks.
//
// After the handler, Codec.Commit (or Codec.CommitResponse) says what the
// response must carry.
func (c *Codec) Load(ctx context.Context, cookieHeader ...string) *Session {
	c.mustBeUsable("Load")
	s := &Session{}
	c.initSession(s, ctx, cookieHeader)
	return s
}

// initSession readies s, which may live inside another struct (the
// middleware's writer), to be opened from the Cookie header lines on first
// use.
func (c *Codec) initSession(s *Session, ctx context.Context, cookieHeader []string) {
	s.c = c
	s.ctx = ctx
	s.header = cookieHeader
	s.unopened = true
}

// Commit decides, exactly as Codec.Middleware does, what the response to
// the request s was loaded for must carry, given its status code:
//   - nothing, if the handler never touched s;
//   - a changed session: a fresh cookie whose Max-Age is its remaining life
//     (none for a browser-close session);
//   - an unchanged one: a fresh cookie only if it was opened with a key
//     other than the primary or in wire format v1
//     (Config.RejectV1), or if Config.RefreshAfter of its idle window
//     has passed since it was sealed, so its deadline slides;
//   - an empty session (cleared, flushed, or never filled) while the request
//     carried a session cookie: deletions;
//   - a status of 500 or more: no changes are saved, but deletions still
//     go out, and a flushed session is deleted even if the handler set new
//     data after Flush: a logout is never lost to an error page.
//
// A session that could not be saved (ErrTooLarge, or a value msgpack
// cannot encode) returns the error and CommitHeaders that save nothing, so
// the request's cookie stays as it was; if it was flushed, the logout's
// deletions still go out. A session whose request carried a cookie refused
// as ErrClockSkew (or, with Config.RequireRevocationCheck, unchecked for
// ErrGuardUnavailable) is not saved over that cookie, which may be
// genuine, unless it was flushed: the error wraps that same sentinel. A session that another Codec
// loaded is an error and commits nothing. Commit consumes the change: a
// second call without new changes returns no cookies. Commit is safe to
// call while other goroutines use s.
func (c *Codec) Commit(s *Session, status int) (CommitHeaders, error) {
	if err := c.usable(); err != nil {
		return CommitHeaders{}, err
	}
	return c.commit(s, status, nil)
}

// CommitResponse commits s (see Commit) into w's header and reports its
// errors, and a session cookie that did not open, as the middleware does:
// to Config.OnError, or else to the log. Adapters for frameworks built on
// net/http call it just before the response's header goes out.
func (c *Codec) CommitResponse(w http.ResponseWriter, r *http.Request, s *Session, status int) {
	var room *headerRoom
	if s.touched() {
		// One object for the header values instead of a slice for each.
		room = new(headerRoom)
	}
	c.commitResponse(w, r, s, status, room)
}

// commitResponse is CommitResponse with per-response header storage, room
// (nil for none; see apply).
func (c *Codec) commitResponse(w http.ResponseWriter, r *http.Request, s *Session, status int, room *headerRoom) {
	var buf []string
	if room != nil {
		buf = room.setCookie[:0]
	}
	ch, err := c.commit(s, status, buf)
	ch.apply(w.Header(), room)
	if from, openErr := s.takeOpenError(); openErr != nil {
		from.report(w, r, openErr, true) // logged under the name of the cookie tried
	}
	if err != nil {
		c.report(w, r, err, false)
	}
}

// commit is Commit appending the cookies to buf, which may be nil.
func (c *Codec) commit(s *Session, status int, buf []string) (CommitHeaders, error) {
	if s.c != c { // its cookie bookkeeping is for another name
		return CommitHeaders{}, errors.New("cookiesession: Commit of a session that another Codec loaded")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.accessed {
		return CommitHeaders{}, nil
	}
	cookies, err := c.responseCookies(s, status, buf)
	s.modified = false
	s.flushed = false
	// On an error, cookies holds at most the deletions of a logout.
	return CommitHeaders{SetCookie: cookies, Vary: true, NoStore: len(cookies) > 0}, err
}

// report hands err to Config.OnError, or logs it: a rejected cookie as a
// security event, a session that could not be saved as an error. Neither
// carries a value or a key's secret.
func (c *Codec) report(w http.ResponseWriter, r *http.Request, err error, rejected bool) {
	if c.onError != nil {
		c.onError(w, r, err)
		return
	}
	if rejected {
		c.logRejected(err)
		return
	}
	ctx := context.Background()
	if r != nil {
		ctx = r.Context()
	}
	c.log().LogAttrs(ctx, slog.LevelError, "cookiesession: session not saved",
		slog.String("cookie", c.name), slog.String("error", err.Error()))
}

// responseCookies appends to out the Set-Cookie headers, if any, the
// response carries for s: the sealed session (one cookie, or its chunks) and
// deletions for every session cookie the request carried that is no longer
// needed.
func (c *Codec) responseCookies(s *Session, status int, out []string) ([]string, error) {
	now := c.unixNow() // once for the whole commit, the seal included
	dropExpired(&s.entries, now)
	empty := len(s.entries) == 0 && len(s.flashes) == 0
	if status >= 500 && s.flushed {
		empty = true // the logout stands; what was set after it is dropped
	}
	if !empty && (status >= 500 || !s.modified && !c.stale(s, now)) {
		return nil, nil
	}
	if !empty && !s.flushed && keepsCookie(s.openErr) {
		// The request's cookie may be genuine: replacing it would log
		// the user out as a deletion would. Only a logout may.
		if revocationUnchecked(s.openErr) {
			return nil, &sessionError{kind: ErrGuardUnavailable, reason: "session not saved over a cookie the Guard could not check"}
		}
		return nil, &sessionError{kind: ErrClockSkew, reason: "session not saved over a cookie sealed in the future"}
	}
	used := 0 // cookies the sealed session takes
	var saveErr error
	if !empty {
		sealed, err := c.encodeLocked(s, now, c.name)
		if err != nil && !s.flushed {
			return nil, err
		}
		if err != nil { // the logout stands; what was set after it is lost
			saveErr, sealed = err, sealOut{}
		}
		if v := sealed.value(); v != "" { // "" when it expired while the handler ran
			// s now stands for the cookie just sealed, so a second
			// Commit does not reseal it again as stale.
			s.sealed, s.deadline, s.keyID, s.legacy = now, c.deadline(s, now), c.keys.PrimaryID(), false
			if c.cookiesFor(len(v)) == 1 {
				out = append(out, sealed.line) // the line seal built around v
				used = 1
			} else {
				for i, p := range c.split(v) {
					out = append(out, c.setCookieHeader(c.chunkName(i), p, sealed.maxAge))
					used++
				}
			}
		}
	}
	// A cookie kept for clock skew or an unanswered Guard may be genuine:
	// only a logout deletes it.
	if used == 0 && (s.hadCookie || s.flushed && keepsCookie(s.openErr)) {
		out = append(out, c.deletion().String())
	}
	for i := max(used, 1); i < maxChunks; i++ {
		if s.chunksIn&(1<<i) != 0 {
			ck := c.deletion()
			ck.Name = c.chunkName(i)
			out = append(out, ck.String())
		}
	}
	out = c.appendOldNameDeletions(s, out)
	if len(out) > 0 { // the browser now holds what out leaves it
		s.hadCookie = used > 0
		s.chunksIn = (1<<used - 1) &^ 1 // bit 0 is NAME itself: hadCookie
		s.oldNameIn = 0
		// The old cookie is replaced or deleted: its ID may be revoked.
		if err := c.guardCommit(s.ctx, s); err != nil {
			c.logGuardCommit(s.ctx, err)
		}
	}
	return out, saveErr
}
