package cookiesession

import (
	"log/slog"
	"net/http"
)

// ReportLost logs, at error level, a change made to s after its response's
// header went out, as Codec.Middleware does: no cookie can carry it any
// more. Framework adapters call it when the handler returns after they
// committed the session (CommitResponse or Commit) earlier, on the first
// byte or a flush. A change that leaves nothing to save where the request
// had nothing (an empty session flushed) is not a loss. ReportLost reports
// whether a change was lost; it logs the cookie's name and the request's
// path, never the session's contents.
func (c *Codec) ReportLost(r *http.Request, s *Session) bool {
	s.mu.Lock()
	lost := s.modified && (len(s.entries) > 0 || len(s.flashes) > 0 || s.hadCookie || s.chunksIn != 0 || s.oldNameIn != 0)
	s.mu.Unlock()
	if lost {
		c.log().LogAttrs(r.Context(), slog.LevelError,
			"cookiesession: session changed after the response headers were sent; the change is lost",
			slog.String("cookie", c.name), slog.String("path", r.URL.Path))
	}
	return lost
}

// Logger returns the logger the codec reports to: Config.Logger, or
// slog.Default() when that is unset. Adapters for frameworks without
// net/http, whose errors cannot reach Config.OnError, log them here.
func (c *Codec) Logger() *slog.Logger { return c.log() }
