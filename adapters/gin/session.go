// Package ginsession is cookiesession's middleware for gin: the rules of
// cookiesession.Codec.Middleware (lazy open, the cookie written before the
// first byte, a 5xx or a panic saving nothing, key-rotation reseal,
// sliding refresh, chunk cleanup, Vary and Cache-Control), kept by the
// root package's commit API.
package ginsession

import (
	"bufio"
	"net"
	"net/http"

	"github.com/cookiesession/cookiesession"
	"github.com/gin-gonic/gin"
)

// Middleware returns a gin middleware that gives every request codec's
// session, in c.Request's context (Session, codec.Session(c.Request)), and
// writes its cookie just before the response's header goes out: on
// WriteHeaderNow, the first Write or WriteString, Flush, Hijack, or when
// the handlers return, with the status the response then has. gin's
// WriteHeader (c.Status) only records the status, so a change made after
// it and before the first byte is still saved.
//
// A change made after the header went out is logged as lost (see
// cookiesession.Codec.ReportLost). Errors reach Config.OnError or the log
// as with codec.Middleware. A panic unwinding through the middleware
// leaves its writer in place, so a recovery middleware outside it
// (gin.Recovery) commits the session with its 500, which saves no change.
func Middleware(codec *cookiesession.Codec) gin.HandlerFunc {
	return func(c *gin.Context) {
		w := &writer{ResponseWriter: c.Writer, codec: codec, s: codec.Load(c.Request.Context(), c.Request.Header["Cookie"]...)}
		c.Request = c.Request.WithContext(codec.NewContext(c.Request.Context(), w.s))
		w.r = c.Request
		c.Writer = w
		c.Next()
		if !w.committed {
			w.commit(w.Status())
		} else {
			codec.ReportLost(w.r, w.s)
		}
		c.Writer = w.ResponseWriter
	}
}

// Session returns codec's session of the request, put there by
// Middleware(codec). It panics if the handler is not behind that
// middleware: a wiring mistake that would otherwise drop every change.
func Session(c *gin.Context, codec *cookiesession.Codec) *cookiesession.Session {
	return codec.Session(c.Request)
}

// writer commits the session once, before the response's header goes out.
type writer struct {
	gin.ResponseWriter
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

func (w *writer) WriteHeaderNow() {
	w.commit(w.Status())
	w.ResponseWriter.WriteHeaderNow()
}

func (w *writer) Write(p []byte) (int, error) {
	w.commit(w.Status())
	return w.ResponseWriter.Write(p)
}

func (w *writer) WriteString(s string) (int, error) {
	w.commit(w.Status())
	return w.ResponseWriter.WriteString(s)
}

func (w *writer) Flush() {
	w.commit(w.Status())
	w.ResponseWriter.Flush()
}

// Hijack adds the session's headers to the header map first; a handler
// that writes its own response on the connection must send them itself.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.commit(http.StatusSwitchingProtocols)
	return w.ResponseWriter.Hijack()
}

// Unwrap lets http.ResponseController reach gin's writer.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
