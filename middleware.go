package cookiesession

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Middleware returns a handler that gives next a session through
// FromContext and writes the session cookie on the response.
//
// The cookie is written just before the response's headers go out: on
// WriteHeader (any status but 1xx informational ones), on the first Write,
// on Flush, before Hijack, or when next returns, whichever comes first. A
// change made after that cannot reach the browser; it is logged at error
// level, never silently dropped.
//
// What the response carries, for a handler that touched the session:
//   - a changed session: a fresh cookie with Max-Age equal to its remaining
//     life (none for a browser-close session);
//   - an unchanged session: a fresh cookie only if it was opened with a key
//     other than the primary or in wire format v1
//     (Config.RejectV1), or if Config.RefreshAfter of its idle window
//     has passed since it was sealed, so that its deadline slides;
//   - an empty session (flushed, cleared, or never filled) while the request
//     carried a cookie: a deletion cookie;
//   - Vary: Cookie, and Cache-Control: no-store with any Set-Cookie.
//
// A response with a 5xx status saves no changes (deletions still go out,
// and so does the logout of a session flushed before the error). A cookie
// that is invalid, expired or sealed with an unknown key gives the handler
// an empty session and, once the handler has touched the session, is
// deleted; the event goes to Config.OnError, or is logged with its reason,
// never with the cookie's contents. Codec.Commit documents the same policy
// for code without the middleware. If the request carries several cookies
// with the session's name, the first one that opens is used (every one is
// tried, within a budget); if none opens, none is deleted, since a deletion
// could remove only the genuine cookie and leave planted ones. A cookie
// sealed in the future (ErrClockSkew) is reported as clock skew, and
// neither deleted nor replaced by what the handler set in the empty
// session (that change is reported as not saved) unless the handler called
// Flush: a logout still goes out. Nor is one the Guard could not check
// (ErrGuardUnavailable, with Config.RequireRevocationCheck) deleted.
func (c *Codec) Middleware(next http.Handler) http.Handler {
	c.mustBeUsable("Middleware")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &sessionWriter{ResponseWriter: w}
		c.initSession(&sw.s, r.Context(), r.Header["Cookie"])
		sw.ctx = sessionContext{Context: r.Context(), s: &sw.s}
		r = r.WithContext(&sw.ctx)
		sw.r = r // OnError gets the request the handler got, session included
		next.ServeHTTP(sw, r)
		if !sw.committed {
			sw.commit(http.StatusOK)
			return
		}
		// The headers went out while next ran: any change since is lost.
		c.ReportLost(r, &sw.s)
	})
}

// sessionWriter writes the session cookie just before the response commits.
// The session, the context that carries it and the header values it adds
// all live inside it, so that the middleware allocates this one object per
// request (and the request copy that r.WithContext makes). The storage an
// opened session keeps is allocated when it opens: a request that never
// touches its session pays for no more.
type sessionWriter struct {
	http.ResponseWriter
	r         *http.Request
	s         Session
	ctx       sessionContext // carries &s; kept alive by the request only
	committed bool
	room      headerRoom
}

// headerRoom backs the header values one response gets from its session,
// so that adding them to the header map allocates nothing. Each value put in
// the map is a slice of this storage with cap == len: code that appends to
// it (h.Add, append) copies it rather than writing past it. The storage
// belongs to one response and is never shared with another, so code that
// rewrites a value in place (h["Vary"][0] = "Accept") changes only its own
// response, exactly as with a freshly allocated slice.
type headerRoom struct {
	setCookie [1]string // the usual single Set-Cookie line
	vary      [1]string
	noStore   [1]string
}

// commit adds the session's headers, once, before the status line goes out.
func (w *sessionWriter) commit(status int) {
	if w.committed {
		return
	}
	w.committed = true
	w.s.c.commitResponse(w.ResponseWriter, w.r, &w.s, status, &w.room)
}

// setCookieHeader formats the Set-Cookie header for one session cookie. It
// is http.Cookie.String without the per-byte sanitising: sealed values and
// chunk prefixes consist of cookie-safe bytes by construction, and the
// attributes were validated once by NewCodec.
func (c *Codec) setCookieHeader(name, value string, maxAge int64) string {
	tail := c.tail(maxAge)
	b := make([]byte, 0, len(name)+1+len(value)+tail.len())
	b = append(append(append(b, name...), '='), value...)
	return bytesString(tail.appendTo(b))
}

// cookieTail is what follows a session cookie's value in its Set-Cookie
// line: "; Max-Age=N" (none for a browser-close session, maxAge 0) and the
// codec's attributes.
type cookieTail struct {
	age   [20]byte
	nAge  int
	attrs string
}

func (c *Codec) tail(maxAge int64) cookieTail {
	t := cookieTail{attrs: c.attrs}
	if maxAge > 0 {
		t.nAge = len(strconv.AppendInt(t.age[:0], maxAge, 10))
	}
	return t
}

func (t *cookieTail) len() int {
	n := len(t.attrs)
	if t.nAge > 0 {
		n += len("; Max-Age=") + t.nAge
	}
	return n
}

func (t *cookieTail) appendTo(b []byte) []byte {
	if t.nAge > 0 {
		b = append(append(b, "; Max-Age="...), t.age[:t.nAge]...)
	}
	return append(b, t.attrs...)
}

// stale reports whether an unchanged session opened from a cookie should be
// sealed again: its key is no longer the primary, it is in wire format v1,
// or enough of its idle window has passed that its deadline should slide.
func (c *Codec) stale(s *Session, now int64) bool {
	if s.sealed == 0 {
		return false
	}
	if s.keyID != c.keys.PrimaryID() || s.legacy {
		return true
	}
	window, slides := c.idleWindow(&s.state)
	if !slides {
		return false // a fixed deadline does not slide
	}
	return float64(now-s.sealed) >= c.refresh*float64(window)
}

// addVary adds value to the Vary header unless it is already listed. A
// header with no Vary line gets room, which may be nil, as its value.
func addVary(h http.Header, value string, room *[1]string) {
	if len(h["Vary"]) == 0 {
		h["Vary"] = oneValue(value, room)
		return
	}
	for _, line := range h.Values("Vary") {
		for _, v := range strings.Split(line, ",") {
			if v = strings.TrimSpace(v); v == "*" || strings.EqualFold(v, value) {
				return
			}
		}
	}
	h.Add("Vary", value)
}

// addNoStore makes sure no shared cache stores a response that carries a
// session cookie, keeping whatever stricter directives are already there. A
// header with no Cache-Control line gets room, which may be nil, as its
// value.
func addNoStore(h http.Header, room *[1]string) {
	if len(h["Cache-Control"]) == 0 {
		h["Cache-Control"] = oneValue("no-store", room)
		return
	}
	// Every line, not just the first: h.Set below replaces them all.
	cc := strings.Join(h.Values("Cache-Control"), ", ")
	for _, v := range strings.Split(cc, ",") {
		if strings.EqualFold(strings.TrimSpace(v), "no-store") {
			return
		}
	}
	if cc == "" {
		h.Set("Cache-Control", "no-store")
		return
	}
	h.Set("Cache-Control", cc+", no-store")
}

// oneValue returns the header value list {value}, in room if there is one
// (see headerRoom), else freshly allocated.
func oneValue(value string, room *[1]string) []string {
	if room == nil {
		return []string{value}
	}
	room[0] = value
	return room[:]
}

func (w *sessionWriter) WriteHeader(status int) {
	// 1xx responses (but 101 Switching Protocols) are informational: the
	// final header is still to come.
	if status >= 200 || status == http.StatusSwitchingProtocols {
		w.commit(status)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *sessionWriter) Write(p []byte) (int, error) {
	w.commit(http.StatusOK)
	return w.ResponseWriter.Write(p)
}

// ReadFrom keeps io.Copy's fast paths (sendfile) working through the
// wrapper.
func (w *sessionWriter) ReadFrom(r io.Reader) (int64, error) {
	w.commit(http.StatusOK)
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
}

// Flush implements http.Flusher.
func (w *sessionWriter) Flush() { _ = w.FlushError() }

// FlushError is what http.ResponseController.Flush calls.
func (w *sessionWriter) FlushError() error {
	w.commit(http.StatusOK)
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker. The session cookie is added to the
// header map first; a handler that writes its own response on the hijacked
// connection must send those headers itself.
func (w *sessionWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.commit(http.StatusSwitchingProtocols)
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *sessionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// log returns the logger for security events and lost changes.
func (c *Codec) log() *slog.Logger {
	if c.logger != nil {
		return c.logger
	}
	return slog.Default()
}

// logRejected records why a request's session cookie did not open. The
// reason never contains the cookie's value or the session's data.
func (c *Codec) logRejected(err error) {
	if errors.Is(err, ErrClockSkew) {
		c.logClockSkew(err)
		return
	}
	if revocationUnchecked(err) {
		c.logRevocationUnchecked(context.Background(), err, false)
		return
	}
	level := slog.LevelWarn
	if errors.Is(err, ErrExpired) && !errors.Is(err, ErrRevoked) {
		level = slog.LevelInfo // routine: sessions end; a revoked one is news
	}
	attrs := []slog.Attr{slog.String("cookie", c.name), slog.String("reason", err.Error())}
	if se := (*sessionError)(nil); errors.As(err, &se) && se.keyID != "" {
		attrs = append(attrs, slog.String("key_id", se.keyID))
	}
	c.log().LogAttrs(context.Background(), level, "cookiesession: session cookie rejected", attrs...)
}

// forEachCookie calls fn with the name and value of each cookie in the
// Cookie header lines, in order, without allocating. Values keep their bytes
// as sent; a quoted value is unquoted as net/http does.
func forEachCookie(lines []string, fn func(name, value string)) {
	for _, line := range lines {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			fn(k, v)
		}
	}
}
