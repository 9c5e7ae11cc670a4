package cookiesession

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
)

// maxCookieTries bounds how many cookies with the session's name one request
// may make the server try to open.
const maxCookieTries = 4

type contextKey struct{}

// FromContext returns the session of the request whose context is ctx.
//
// The session is opened from the request's cookie the first time one of its
// methods is called, so a handler that never touches it costs nothing.
//
// FromContext panics if ctx does not come from a request that went through
// Codec.Middleware: that is a wiring mistake, and a session that silently
// dropped every change would hide it. With several Codec.Middleware in one chain,
// FromContext returns the innermost one's session.
func FromContext(ctx context.Context) *Session {
	s, ok := ctx.Value(contextKey{}).(*Session)
	if !ok {
		panic("cookiesession: FromContext: no session in this context; wrap the handler with Codec.Middleware")
	}
	return s
}

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
//     other than the primary, or if Config.RefreshAfter of its idle window
//     has passed since it was sealed, so that its deadline slides;
//   - an empty session (flushed, cleared, or never filled) while the request
//     carried a cookie: a deletion cookie;
//   - Vary: Cookie, and Cache-Control: no-store with any Set-Cookie.
//
// A response with a 5xx status saves no changes (deletions still go out).
// A cookie that is invalid, expired or sealed with an unknown key gives the
// handler an empty session and, once the handler has touched the session,
// is deleted; the event is logged with its
// reason, never with the cookie's contents. If the request carries several
// cookies with the session's name, the first one that opens is used.
func (c *Codec) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &sessionWriter{ResponseWriter: w, c: c}
		sw.s.c = c
		sw.s.header = r.Header["Cookie"]
		sw.s.unopened = true
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), contextKey{}, &sw.s)))
		if !sw.committed {
			sw.commit(http.StatusOK)
			return
		}
		// The headers went out while next ran: any change since is lost,
		// unless it left nothing to save where there was nothing before.
		sw.s.mu.Lock()
		s := &sw.s
		lost := s.modified && (len(s.entries) > 0 || len(s.flashes) > 0 || s.hadCookie || s.chunksIn != 0)
		sw.s.mu.Unlock()
		if lost {
			c.log().LogAttrs(r.Context(), slog.LevelError,
				"cookiesession: session changed after the response headers were sent; the change is lost",
				slog.String("cookie", c.name), slog.String("path", r.URL.Path))
		}
	})
}

// sessionWriter writes the session cookie just before the response commits.
// The session lives inside it so that a request costs one allocation here.
type sessionWriter struct {
	http.ResponseWriter
	c         *Codec
	s         Session
	committed bool
}

// commit adds the session's headers, once, before the status line goes out.
func (w *sessionWriter) commit(status int) {
	if w.committed {
		return
	}
	w.committed = true
	s := &w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.accessed {
		return
	}
	h := w.ResponseWriter.Header()
	addVary(h, "Cookie")
	cookies, err := w.c.responseCookies(s, status)
	s.modified = false
	if err != nil {
		w.c.log().LogAttrs(context.Background(), slog.LevelError,
			"cookiesession: session not saved", slog.String("cookie", w.c.name), slog.String("error", err.Error()))
		return
	}
	for _, ck := range cookies {
		h.Add("Set-Cookie", ck.String())
	}
	if len(cookies) > 0 {
		addNoStore(h)
	}
}

// responseCookies decides what cookies, if any, the response carries for s:
// the sealed session (one cookie, or its chunks) and deletions for every
// session cookie the request carried that is no longer needed.
func (c *Codec) responseCookies(s *Session, status int) ([]*http.Cookie, error) {
	now := c.unixNow()
	dropExpired(&s.entries, now)
	empty := len(s.entries) == 0 && len(s.flashes) == 0
	if !empty && (status >= 500 || !s.modified && !c.stale(s, now)) {
		return nil, nil
	}
	var parts []string
	var maxAge int64
	if !empty {
		v, age, err := c.encodeLocked(s)
		if err != nil {
			return nil, err
		}
		if v != "" { // "" when it expired while the handler ran
			parts, maxAge = c.split(v), age
		}
	}
	var out []*http.Cookie
	for i, p := range parts {
		ck := c.sealedCookie(p, maxAge)
		ck.Name = c.chunkName(i)
		out = append(out, ck)
	}
	if len(parts) == 0 && s.hadCookie {
		out = append(out, c.deletion())
	}
	for i := max(len(parts), 1); i < maxChunks; i++ {
		if s.chunksIn&(1<<i) != 0 {
			ck := c.deletion()
			ck.Name = c.chunkName(i)
			out = append(out, ck)
		}
	}
	return out, nil
}

// stale reports whether an unchanged session opened from a cookie should be
// sealed again: its key is no longer the primary, or enough of its idle
// window has passed that its deadline should slide.
func (c *Codec) stale(s *Session, now int64) bool {
	if s.sealed == 0 {
		return false
	}
	if s.keyID != c.keys.PrimaryID() {
		return true
	}
	if s.mode == expiryAt {
		return false // a fixed deadline does not slide
	}
	window := c.maxAge
	if s.mode == expiryIdle {
		window = s.expArg
	}
	return float64(now-s.sealed) >= c.refresh*float64(window)
}

// addVary adds value to the Vary header unless it is already listed.
func addVary(h http.Header, value string) {
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
// session cookie, keeping whatever stricter directives are already there.
func addNoStore(h http.Header) {
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
	level := slog.LevelWarn
	if errors.Is(err, ErrExpired) {
		level = slog.LevelInfo // routine: sessions end
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
