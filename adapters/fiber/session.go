// Package fibersession is cookiesession's middleware for fiber (v3, on
// fasthttp, without net/http): the rules of cookiesession.Codec.Middleware
// (lazy open, a 5xx or a panic saving nothing, key-rotation reseal,
// sliding refresh, chunk cleanup, Vary and Cache-Control), kept by the root
// package's commit API.
package fibersession

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/cookiesession/cookiesession"
	"github.com/gofiber/fiber/v3"
	"github.com/valyala/fasthttp"
)

// Config configures the middleware.
type Config struct {
	// Codec seals and opens the session cookie. Required.
	Codec *cookiesession.Codec
	// OnError, if set, receives why the request's session cookie did not
	// open (an error wrapping cookiesession.ErrInvalid, ErrExpired,
	// ErrUnknownKey, ErrTooLarge, ErrClockSkew or, with
	// RequireRevocationCheck, ErrGuardUnavailable) and why a changed session
	// could not be saved: cookiesession.Config.OnError takes net/http's writer and
	// request, which fiber does not have. It runs after the handler, before
	// the response is sent, and may change the response. Default: log to
	// Codec.Logger(), with the reason and never the cookie's value.
	OnError func(c fiber.Ctx, err error)
}

// New returns a fiber middleware that gives every request the codec's
// session, in c.Context() (Session, codec.FromContext(c.Context())), and
// adds its Set-Cookie, Vary and Cache-Control lines to the response once
// the handler has run. fasthttp sends nothing before the handler returns,
// so the whole response, and every change the handler made, is committed
// at once.
//
// An error the handler returns is handed to the app's error handler here,
// as fiber's logger middleware does, so that the session is committed with
// the status that handler really sets (a fiber.NewError(500) saves no
// change); New's handler then returns nil. A panic unwinding through it
// commits nothing; a recovery middleware outside it answers with a 500.
//
// The Set-Cookie lines are the codec's own, added verbatim: SameSite,
// Max-Age and a __Host- name reach the browser exactly as
// cookiesession.Codec.Middleware would send them. A session spanning
// several cookies (Config.MaxCookies) needs fiber.Config.ReadBufferSize
// above fasthttp's default 4096 bytes, which limits a request's header.
func New(config Config) fiber.Handler {
	codec := config.Codec
	if codec == nil {
		panic("fibersession: New: Config.Codec is nil")
	}
	report := func(c fiber.Ctx, err error, rejected bool) {
		if config.OnError != nil {
			config.OnError(c, err)
			return
		}
		logError(c, codec, err, rejected)
	}
	return func(c fiber.Ctx) error {
		var lines []string
		for _, v := range c.Request().Header.PeekAll(fiber.HeaderCookie) {
			lines = append(lines, string(v)) // a copy: fasthttp reuses its buffers
		}
		s := codec.Load(c.Context(), lines...)
		c.SetContext(codec.NewContext(c.Context(), s))

		if err := c.Next(); err != nil {
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				_ = c.SendStatus(fiber.StatusInternalServerError)
			}
		}

		ch, err := codec.Commit(s, c.Response().StatusCode())
		apply(&c.Response().Header, ch)
		if ch.Vary { // the handler touched the session, so it is open
			if openErr := s.OpenError(); openErr != nil {
				report(c, openErr, true)
			}
		}
		if err != nil {
			report(c, err, false)
		}
		return nil
	}
}

// Session returns codec's session of the request, put there by New. It
// panics if the handler is not behind that middleware: a wiring mistake
// that would otherwise drop every change.
func Session(c fiber.Ctx, codec *cookiesession.Codec) *cookiesession.Session {
	return codec.FromContext(c.Context())
}

// commitHeaders are the headers CommitHeaders.Apply merges with what the
// handler set.
var commitHeaders = [...]string{"Vary", "Cache-Control"}

// apply adds ch to a fasthttp response header, merging Vary and
// Cache-Control exactly as CommitHeaders.Apply does for net/http.
func apply(h *fasthttp.ResponseHeader, ch cookiesession.CommitHeaders) {
	if !ch.Vary && !ch.NoStore && len(ch.SetCookie) == 0 {
		return
	}
	if len(h.PeekAll("Vary")) == 0 && len(h.PeekAll("Cache-Control")) == 0 {
		// Nothing of the handler's to merge with (the common case): what
		// Apply would add to an empty header, without building one.
		if ch.Vary {
			h.Set("Vary", "Cookie")
		}
		if ch.NoStore {
			h.Set("Cache-Control", "no-store")
		}
	} else {
		merge(h, ch)
	}
	for _, line := range ch.SetCookie {
		h.Add(fiber.HeaderSetCookie, line) // verbatim: fasthttp keeps a Set-Cookie line as given
	}
}

// merge adds ch's Vary and Cache-Control to the handler's own lines through
// CommitHeaders.Apply, so that the rules live in one place.
func merge(h *fasthttp.ResponseHeader, ch cookiesession.CommitHeaders) {
	ch.SetCookie = nil // added verbatim by apply
	merged := http.Header{}
	for _, key := range commitHeaders {
		for _, v := range h.PeekAll(key) {
			merged.Add(key, string(v))
		}
	}
	ch.Apply(merged)
	// Both deleted before either is added back: fasthttp's Del moves the
	// last line into the deleted one's place.
	for _, key := range commitHeaders {
		h.Del(key)
	}
	for _, key := range commitHeaders {
		for _, v := range merged[key] {
			h.Add(key, v)
		}
	}
}

// logError logs a session error as cookiesession.Codec.Middleware does
// without Config.OnError: a rejected cookie as a security event (an expired
// one as routine), a session not saved as an error; the cookie's name and
// the reason, never a value.
func logError(c fiber.Ctx, codec *cookiesession.Codec, err error, rejected bool) {
	level, msg := slog.LevelError, "cookiesession: session not saved"
	if rejected {
		level, msg = slog.LevelWarn, "cookiesession: session cookie rejected"
		if errors.Is(err, cookiesession.ErrExpired) {
			level = slog.LevelInfo
		}
	}
	codec.Logger().LogAttrs(c.Context(), level, msg,
		slog.String("cookie", codec.Name()), slog.String("reason", err.Error()))
}
