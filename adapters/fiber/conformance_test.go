package fibersession_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/adapters/fiber"
	"github.com/cookiesession/cookiesession/conformance"
	"github.com/gofiber/fiber/v3"
	recoverer "github.com/gofiber/fiber/v3/middleware/recover"
)

// TestConformance runs the shared suite through fiber over a real
// listener, with fiber's recover middleware outside the session
// middleware; a handler's error is a *fiber.Error (or a plain error, which
// fiber answers with a 500).
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Stack{
		Name:     "fiber",
		Buffered: true,
		Serve: func(t *testing.T, codec *cookiesession.Codec, routes map[string]conformance.Handler) string {
			return serve(t, codec, routes)
		},
	})
}

func serve(t *testing.T, codec *cookiesession.Codec, routes map[string]conformance.Handler) string {
	t.Helper()
	// Room in the request header for a session of three 4 KB cookies.
	app := fiber.New(fiber.Config{ReadBufferSize: 16 << 10})
	app.Use(recoverer.New(), fibersession.New(fibersession.Config{Codec: codec}))
	for path, h := range routes {
		app.All(path, func(c fiber.Ctx) error {
			err := h(fibersession.Session(c, codec), response{c})
			if se := (*conformance.StatusError)(nil); errors.As(err, &se) {
				return fiber.NewError(se.Code)
			}
			return err
		})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() {
		if err := app.Shutdown(); err != nil {
			t.Errorf("fiber Shutdown: %v", err)
		}
		ln.Close() // in case Listener had not started serving yet
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("fiber's Listener did not return after Shutdown")
		}
	})
	return "http://" + ln.Addr().String()
}

// response answers through fiber's own calls. fasthttp sends the response
// when the handler returns, so there is nothing to flush.
type response struct{ c fiber.Ctx }

func (r response) SetHeader(key, value string) { r.c.Set(key, value) }
func (r response) WriteHeader(code int)        { r.c.Status(code) }
func (r response) WriteString(body string)     { _, _ = r.c.WriteString(body) }
func (r response) Flush()                      {}
