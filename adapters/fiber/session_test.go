package fibersession_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/adapters/fiber"
	"github.com/cookiesession/cookiesession/internal/adaptertest"
	"github.com/gofiber/fiber/v3"
)

// storeChannel is a route that touches the session and stores a value
// msgpack cannot encode.
func storeChannel(codec *cookiesession.Codec) fiber.Handler {
	return func(c fiber.Ctx) error {
		fibersession.Session(c, codec).Set("ch", make(chan int))
		return c.SendString("ok")
	}
}

// TestOnError: the hook gets the rejected cookie's error and the save
// error, with the fiber context, and can change the response; nothing is
// saved.
func TestOnError(t *testing.T) {
	codec := adaptertest.NewCodec(t, cookiesession.Config{})
	var got []error
	app := fiber.New()
	app.Use(fibersession.New(fibersession.Config{Codec: codec, OnError: func(c fiber.Ctx, err error) {
		got = append(got, err)
		c.Status(fiber.StatusInternalServerError)
	}}))
	app.Get("/", storeChannel(codec))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", codec.Name()+"=k1.dGFtcGVyZWQ")
	resp, err := app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !errors.Is(got[0], cookiesession.ErrInvalid) || errors.Is(got[1], cookiesession.ErrInvalid) {
		t.Fatalf("OnError got %v, want the rejected cookie, then the encoding failure", got)
	}
	if resp.StatusCode != fiber.StatusInternalServerError {
		t.Errorf("status %d, want the 500 OnError set", resp.StatusCode)
	}
	if sc := resp.Header.Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("a session that could not be saved sent %q", sc)
	}
}

// TestDefaultLog: without OnError, both errors go to the codec's logger,
// with the cookie's name and never the cookie's value.
func TestDefaultLog(t *testing.T) {
	var buf bytes.Buffer
	codec := adaptertest.NewCodec(t, cookiesession.Config{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	app := fiber.New()
	app.Use(fibersession.New(fibersession.Config{Codec: codec}))
	app.Get("/", storeChannel(codec))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", codec.Name()+"=k1.c2VjcmV0LWNvb2tpZS12YWx1ZQ")
	if _, err := app.Test(req); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"level=WARN msg=\"cookiesession: session cookie rejected\"", "level=ERROR msg=\"cookiesession: session not saved\"", "cookie=" + codec.Name()} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "c2VjcmV0LWNvb2tpZS12YWx1ZQ") {
		t.Errorf("log carries the cookie's value:\n%s", out)
	}
}

// TestChunkedNeedsReadBuffer: a session over three cookies does not fit in
// fasthttp's default 4096-byte request header (README's advice), and does
// with a larger fiber.Config.ReadBufferSize.
func TestChunkedNeedsReadBuffer(t *testing.T) {
	codec := adaptertest.NewCodec(t, cookiesession.Config{MaxCookies: 3})
	s := codec.New()
	s.Set("blob", strings.Repeat("x", 5000))
	cookies, err := codec.Cookies(s)
	if err != nil || len(cookies) < 2 {
		t.Fatalf("Cookies: %d cookies, %v", len(cookies), err)
	}
	for _, size := range []int{0, 16 << 10} {
		app := fiber.New(fiber.Config{ReadBufferSize: size})
		app.Use(fibersession.New(fibersession.Config{Codec: codec}))
		app.Get("/", func(c fiber.Ctx) error {
			return c.SendString(strconv.Itoa(len(cookiesession.GetOr(fibersession.Session(c, codec), "blob", ""))))
		})
		req := httptest.NewRequest("GET", "/", nil)
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		ok := false // fasthttp refuses the request, or fiber answers with an error
		if resp, err := app.Test(req); err == nil {
			body, _ := io.ReadAll(resp.Body)
			ok = resp.StatusCode == fiber.StatusOK && string(body) == "5000"
		}
		if want := size > 0; ok != want {
			t.Errorf("ReadBufferSize %d: the chunked session was read: %v, want %v", size, ok, want)
		}
	}
}

// TestTwoCodecs: two codecs' middleware in one chain; each handler call
// lands in its own codec's cookie.
func TestTwoCodecs(t *testing.T) {
	auth := adaptertest.NewCodec(t, cookiesession.Config{Name: "auth"})
	prefs := adaptertest.NewCodec(t, cookiesession.Config{Name: "prefs"})
	app := fiber.New()
	app.Use(fibersession.New(fibersession.Config{Codec: auth}), fibersession.New(fibersession.Config{Codec: prefs}))
	app.Get("/", func(c fiber.Ctx) error {
		fibersession.Session(c, auth).Set("user", "ada")
		fibersession.Session(c, prefs).Set("theme", "dark")
		return c.SendString("ok")
	})
	resp, err := app.Test(httptest.NewRequest("GET", "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	adaptertest.CheckTwoCodecs(t, resp.Cookies(), auth, prefs)
}
