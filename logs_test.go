package cookiesession

// What the library logs and returns must never carry session values or
// user data: a panic inside Config.Verify and a session too large to save
// are each driven through the middleware with a slog logger writing to a
// buffer, and the buffer (and the error Encode or Decode returns) is
// searched for the secrets.

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	logEmail  = "alice.secret@example.com"
	logKey    = "cart-of-alice.secret"
	logSecret = "tok-8f3a9c2d7e1b"
)

// logCodec returns a codec with cfg whose logger writes JSON to the
// returned buffer.
func logCodec(t *testing.T, cfg Config) (*Codec, *atkLogBuf) {
	t.Helper()
	logs := &atkLogBuf{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _ := newTestCodec(t, cfg)
	return c, logs
}

// logServe runs one request through c's middleware with cookie (if any) and
// handler, and returns the response.
func logServe(c *Codec, cookie string, handler func(s *Session)) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if cookie != "" {
		req.Header.Set("Cookie", c.Name()+"="+cookie)
	}
	rec := httptest.NewRecorder()
	c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler(FromContext(r.Context()))
		fmt.Fprint(w, "ok")
	})).ServeHTTP(rec, req)
	return rec
}

// logWantNoSecrets fails if text holds any of the secrets.
func logWantNoSecrets(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s holds %q: %s", what, s, text)
		}
	}
}

// TestLog_VerifyPanicShowsNoValue: a Verify that panics with the user's
// e-mail (as a string, an error and a struct) rejects the session as
// ErrRevoked; the error and the log say "Config.Verify panicked" with the
// panic's type and never its value.
func TestLog_VerifyPanicShowsNoValue(t *testing.T) {
	type lookupFailure struct{ Email string }
	for _, tc := range []struct {
		value    any
		typeName string
	}{
		{"no account for " + logEmail, "string"},
		{errors.New("no account for " + logEmail), "*errors.errorString"},
		{lookupFailure{logEmail}, "cookiesession.lookupFailure"},
	} {
		t.Run(tc.typeName, func(t *testing.T) {
			c, logs := logCodec(t, Config{Verify: func(s *Session) error {
				panic(tc.value)
			}})
			s := c.New()
			s.Set("email", logEmail)
			s.Set(logKey, logSecret)
			v := mustEncode(t, c, s)

			got, err := c.Decode(v)
			atkWantErr(t, "Decode", got, err, ErrRevoked)
			want := "Config.Verify panicked (" + tc.typeName + ")"
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Decode error %q does not say %q", err, want)
			}
			logWantNoSecrets(t, "the error", fmt.Sprint(err), logEmail, logKey, logSecret)

			rec := logServe(c, v, func(s *Session) {
				if s.Len() != 0 {
					t.Errorf("the handler sees %d keys of a session Verify panicked on", s.Len())
				}
			})
			if rec.Code != http.StatusOK {
				t.Errorf("status %d, want 200", rec.Code)
			}
			recs := logs.rejections(t)
			if len(recs) != 1 || !strings.Contains(fmt.Sprint(recs[0]["reason"]), want) {
				t.Errorf("rejection records %v, want one saying %q", recs, want)
			}
			logWantNoSecrets(t, "the log", logs.String(), logEmail, logKey, logSecret)
		})
	}
}

// TestLog_DecoderPanicShowsNoValue: the recovery around the decoders in
// open (defence in depth: no input is known to reach it, so no cookie can
// trigger it here) reports a panic by its type alone.
func TestLog_DecoderPanicShowsNoValue(t *testing.T) {
	for _, r := range []any{
		"value " + logSecret + " of " + logEmail,
		fmt.Errorf("decoding %q", logEmail),
	} {
		err := decoderPanicked(r)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), fmt.Sprintf("decoder panicked (%T)", r)) {
			t.Errorf("decoderPanicked(%T) = %v; want ErrInvalid naming the type", r, err)
		}
		logWantNoSecrets(t, "the error", err.Error(), logEmail, logSecret)
	}
}

// TestLog_TooLargeShowsNoKey: a session too large to save is logged as
// "session not saved" with an ErrTooLarge that gives sizes and names
// neither the key nor the value. (A value that does not encode is an
// ErrUnencodable that names its key, by design: see Session.Err.)
func TestLog_TooLargeShowsNoKey(t *testing.T) {
	c, logs := logCodec(t, Config{})
	big := strings.Repeat(logSecret, 400)
	s := c.New()
	s.Set(logKey, big)
	s.Set("email", logEmail)
	_, err := c.Encode(s)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "largest entries") {
		t.Fatalf("Encode = %v; want ErrTooLarge giving the largest sizes", err)
	}
	logWantNoSecrets(t, "the error", err.Error(), logEmail, logKey, logSecret)

	logServe(c, "", func(s *Session) {
		s.Set(logKey, big)
		s.Set("email", logEmail)
	})
	text := logs.String()
	if !strings.Contains(text, "session not saved") || !strings.Contains(text, "session too large") {
		t.Errorf("log %q does not record the session not saved for its size", text)
	}
	logWantNoSecrets(t, "the log", text, logEmail, logKey, logSecret)
}
