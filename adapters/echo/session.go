// Package echosession is cookiesession's middleware for echo (v4): the
// rules of cookiesession.Codec.Middleware (lazy open, the cookie written
// before the first byte, a 5xx or a panic saving nothing, key-rotation
// reseal, sliding refresh, chunk cleanup, Vary and Cache-Control), kept by
// the root package's commit API.
package echosession

import (
	"bufio"
	"net"
	"net/http"

	"github.com/cookiesession/cookiesession"
	"github.com/labstack/echo/v4"
)

// Middleware returns an echo middleware that gives every request codec's
// session, in the request's context (Session, codec.Session(c.Request())),
// and writes its cookie just before the response's header goes out: on
// WriteHeader, the first Write, Flush or Hijack, with the status echo
// sends.
//
// An error the handler returns is handed to echo's error handler here
// (c.Error, as echo's own logger middleware does), so that the session is
// committed with the status that handler really sends: an
// echo.NewHTTPError(500) saves no change. The error is then returned as
// usual; echo's default error handler leaves a committed response alone
// (a custom one should check c.Response().Committed, as echo documents).
//
// A change made after the header went out is logged as lost (see
// cookiesession.Codec.ReportLost). Errors reach Config.OnError or the log
// as with codec.Middleware. A panic unwinding through the middleware
// commits nothing until a recovery middleware outside it writes its 500,
// which saves no change.
func Middleware(codec *cookiesession.Codec) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			s := codec.Load(req.Context(), req.Header["Cookie"]...)
			req = req.WithContext(codec.NewContext(req.Context(), s))
			c.SetRequest(req)
			resp := c.Response()
			w := &writer{ResponseWriter: resp.Writer, codec: codec, r: req, s: s}
			resp.Writer = w

			err := next(c)
			if err != nil && !resp.Committed {
				c.Error(err)
			}
			if !w.committed {
				w.commit(resp.Status)
			} else {
				codec.ReportLost(req, s)
			}
			return err
		}
	}
}

// Session returns codec's session of the request, put there by
// Middleware(codec). It panics if the handler is not behind that
// middleware: a wiring mistake that would otherwise drop every change.
func Session(c echo.Context, codec *cookiesession.Codec) *cookiesession.Session {
	return codec.Session(c.Request())
}

// writer commits the session once, before the response's header goes out.
// It sits under echo's Response, so it also sees echo's Flush and Hijack,
// which bypass Response.WriteHeader.
type writer struct {
	http.ResponseWriter
	codec     *cookiesession.Codec
	r         *http.Request
	s         *cookiesession.Session
	committed bool
}

func (w *writer) commit(status int) {
	if w.committed {
		return
	}
	w.committed = true
	w.codec.CommitResponse(w.ResponseWriter, w.r, w.s, status)
}

func (w *writer) WriteHeader(status int) {
	// 1xx responses (but 101 Switching Protocols) are informational: the
	// final header is still to come.
	if status >= 200 || status == http.StatusSwitchingProtocols {
		w.commit(status)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *writer) Write(p []byte) (int, error) {
	w.commit(http.StatusOK)
	return w.ResponseWriter.Write(p)
}

// FlushError is what http.ResponseController.Flush, and so echo's
// Response.Flush, calls.
func (w *writer) FlushError() error {
	w.commit(http.StatusOK)
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *writer) Flush() { _ = w.FlushError() }

// Hijack adds the session's headers to the header map first; a handler
// that writes its own response on the connection must send them itself.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.commit(http.StatusSwitchingProtocols)
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
