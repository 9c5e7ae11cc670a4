package fibersession_test

import (
	"bufio"
	"strings"
	"testing"

	"github.com/cookiesession/cookiesession/adapters/fiber"
	"github.com/cookiesession/cookiesession/internal/adaptertest"
	"github.com/gofiber/fiber/v3"
	"github.com/valyala/fasthttp"
)

func ok(c fiber.Ctx) error { return c.SendString("ok") }

// BenchmarkBare is the fiber handler with no session middleware.
func BenchmarkBare(b *testing.B) {
	_, cookie := adaptertest.Codec(b)
	app := fiber.New()
	app.Get("/", ok)
	benchFiber(b, app, cookie, false)
}

// BenchmarkUntouched adds the session middleware; the handler never
// touches the session.
func BenchmarkUntouched(b *testing.B) {
	codec, cookie := adaptertest.Codec(b)
	app := fiber.New()
	app.Use(fibersession.New(fibersession.Config{Codec: codec}))
	app.Get("/", ok)
	benchFiber(b, app, cookie, false)
}

// BenchmarkRoundTrip: the handler reads the session and changes it; the
// middleware opens and reseals the cookie.
func BenchmarkRoundTrip(b *testing.B) {
	codec, cookie := adaptertest.Codec(b)
	app := fiber.New()
	app.Use(fibersession.New(fibersession.Config{Codec: codec}))
	app.Get("/", func(c fiber.Ctx) error {
		if !adaptertest.RoundTrip(fibersession.Session(c, codec)) {
			return fiber.ErrInternalServerError
		}
		return ok(c)
	})
	benchFiber(b, app, cookie, true)
}

// benchFiber runs app's fasthttp handler on a request over and over, in
// one fasthttp.RequestCtx reset each time as fasthttp's server reuses its
// pooled ones (no connection), then checks one response: 200 "ok", with a Set-Cookie iff
// wantCookie.
func benchFiber(b *testing.B, app *fiber.App, cookie string, wantCookie bool) {
	h := app.Handler()
	// Parsed from the wire, as fasthttp's server does: a request built
	// with Header.Set("Cookie", ...) holds its cookies already split, and
	// PeekAll would rebuild the line on every call.
	var req fasthttp.Request
	wire := "GET / HTTP/1.1\r\nHost: example.com\r\nCookie: " + cookie + "\r\n\r\n"
	if err := req.Read(bufio.NewReader(strings.NewReader(wire))); err != nil {
		b.Fatal(err)
	}
	ctx := new(fasthttp.RequestCtx)
	serve := func() *fasthttp.RequestCtx {
		ctx.Response.Reset()
		req.CopyTo(&ctx.Request)
		h(ctx)
		return ctx
	}
	b.ReportAllocs()
	for b.Loop() {
		serve()
	}
	serve()
	if ctx.Response.StatusCode() != fiber.StatusOK || string(ctx.Response.Body()) != "ok" {
		b.Fatalf("%d %q", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	if got := strings.Contains(ctx.Response.Header.String(), "Set-Cookie: "); got != wantCookie {
		b.Fatalf("Set-Cookie present: %v, want %v", got, wantCookie)
	}
}
