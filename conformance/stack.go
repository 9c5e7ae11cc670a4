// Package conformance is the test suite that every web stack's session
// middleware must pass: the same scenarios, driven over real HTTP, through
// net/http, chi, gin, echo and fiber alike.
//
// A stack under test mounts a set of routes (each a Handler, written once
// here) behind its session middleware and serves them; Run then checks the
// middleware's rules through a real client: lazy open, the cookie written
// before the first byte, 5xx and panics saving nothing, a logout surviving
// an error page, key-rotation reseal, sliding refresh, chunk cleanup,
// Vary and Cache-Control, tampered cookies, errors reported, flashes shown
// once.
//
// The package uses only the standard library and cookiesession, so every
// adapter's module can import it from its tests.
package conformance

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/cookiesession/cookiesession"
)

// A Handler is one route of a scenario. It gets the request's session, as
// the stack's middleware provides it, and answers through w. A non-nil
// error ends the request through the stack's own error path (an
// *echo.HTTPError, a *fiber.Error, gin's AbortWithStatus, http.Error) with
// the status Code gives.
type Handler func(s *cookiesession.Session, w Response) error

// Response is how a Handler answers, each method mapped by the stack onto
// its own idiom.
type Response interface {
	// SetHeader sets a response header; it is called before anything is
	// written.
	SetHeader(key, value string)
	// WriteHeader sets the response's status.
	WriteHeader(code int)
	// WriteString writes to the response's body.
	WriteString(body string)
	// Flush sends what was written so far to the client, on a stack that
	// streams; a Buffered stack does nothing.
	Flush()
}

// StatusError is the error a Handler returns to fail with a given status.
type StatusError struct{ Code int }

func (e *StatusError) Error() string {
	return "conformance: handler failed with status " + strconv.Itoa(e.Code)
}

// Code returns the status a stack answers a Handler's error with: the
// Code of a *StatusError, 500 for any other error.
func Code(err error) int {
	if se := (*StatusError)(nil); errors.As(err, &se) {
		return se.Code
	}
	return http.StatusInternalServerError
}

// A Stack is a web stack under test.
type Stack struct {
	// Name names the stack in failure messages.
	Name string
	// Buffered is true for a stack that sends nothing before the handler
	// returns (fasthttp and so fiber): there is no first byte to commit
	// before, so a change made after writing the body is saved, where a
	// streaming stack must lose it (and log the loss).
	Buffered bool
	// Serve starts a server on the loopback interface that runs every
	// route (path to Handler, any method) behind the stack's session
	// middleware for codec, and returns its base URL ("http://host:port").
	// It stops the server when t ends. A route that panics must be
	// recovered by the stack's usual recovery middleware into a 500.
	Serve func(t *testing.T, codec *cookiesession.Codec, routes map[string]Handler) (baseURL string)
}

// NewServer serves h over HTTP on the loopback interface until t ends and
// returns its base URL: Stack.Serve for a stack built on net/http.
func NewServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// ServeHTTP runs h for a stack built on net/http: it answers through w and
// turns h's error into http.Error with its status. The stack passes the
// session its middleware put into the request.
func ServeHTTP(h Handler, s *cookiesession.Session, w http.ResponseWriter) {
	if err := h(s, NewResponse(w)); err != nil {
		code := Code(err)
		http.Error(w, http.StatusText(code), code)
	}
}

// NewResponse returns a Response that answers through w.
func NewResponse(w http.ResponseWriter) Response { return httpResponse{w} }

type httpResponse struct{ w http.ResponseWriter }

func (r httpResponse) SetHeader(key, value string) { r.w.Header().Set(key, value) }
func (r httpResponse) WriteHeader(code int)        { r.w.WriteHeader(code) }
func (r httpResponse) WriteString(body string)     { _, _ = io.WriteString(r.w, body) }
func (r httpResponse) Flush()                      { _ = http.NewResponseController(r.w).Flush() }
