package cookiesession

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// expSealed returns a value sealed by c's clock at testStart holding user,
// with policy applied, and moves the clock on by later.
func expSealed(t *testing.T, c *Codec, clk *testClock, later time.Duration, policy func(*Session)) string {
	t.Helper()
	clk.Set(testStart)
	s := c.New()
	s.Set("user", "ada")
	s.AddFlash("welcome")
	if policy != nil {
		policy(s)
	}
	v := mustEncode(t, c, s)
	clk.Advance(later)
	return v
}

// expFlip changes one base64 character in the middle of v.
func expFlip(v string) string {
	b := []byte(v)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestDecodeExpiredOpensExpiredSessions(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		policy func(*Session)
		later  time.Duration
		why    string
	}{
		{"idle policy", Config{}, func(s *Session) { s.SetExpiry(time.Hour) }, 2 * time.Hour, "deadline 2026-01-02T04:04:05Z passed"},
		{"fixed deadline", Config{}, func(s *Session) { s.SetExpiryAt(testStart.Add(time.Minute)) }, time.Hour, "deadline 2026-01-02T03:05:05Z passed"},
		{"MaxAge", Config{MaxAge: time.Hour}, nil, time.Hour, "deadline 2026-01-02T04:04:05Z passed"},
		{"browser close, MaxAge", Config{MaxAge: time.Hour}, func(s *Session) { s.SetExpiry(0) }, 3 * time.Hour, "deadline 2026-01-02T04:04:05Z passed"},
		{"AbsoluteTimeout", Config{AbsoluteTimeout: 30 * time.Minute}, nil, time.Hour, "deadline 2026-01-02T03:34:05Z passed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clk := newTestCodec(t, tt.cfg)
			v := expSealed(t, c, clk, tt.later, tt.policy)

			if s, err := c.Decode(v); !errors.Is(err, ErrExpired) || s != nil {
				t.Fatalf("Decode = %v, %v; want nil, ErrExpired", s, err)
			}
			s, err := c.DecodeExpired(v)
			if !errors.Is(err, ErrExpired) || errors.Is(err, ErrInvalid) || errors.Is(err, ErrRevoked) {
				t.Fatalf("DecodeExpired error = %v, want ErrExpired only", err)
			}
			if !strings.Contains(err.Error(), tt.why) {
				t.Errorf("error %q does not say %q", err, tt.why)
			}
			if s == nil {
				t.Fatal("DecodeExpired returned no session for a genuine expired cookie")
			}
			if got := mustGet(t, s, "user"); got != "ada" {
				t.Errorf("user = %v, want ada", got)
			}
			if f := s.Flashes(); len(f) != 1 || f[0] != "welcome" {
				t.Errorf("flashes = %v, want [welcome]", f)
			}
			if !s.SealedAt().Equal(testStart) || s.KeyID() != "k1" {
				t.Errorf("sealed %v by %q, want %v by k1", s.SealedAt(), s.KeyID(), testStart)
			}
			if d := s.Deadline(); d.After(clk.Now()) {
				t.Errorf("Deadline %v is after now %v for an expired session", d, clk.Now())
			}
		})
	}
}

func TestDecodeExpiredLiveSession(t *testing.T) {
	c, clk := newTestCodec(t, Config{})
	v := expSealed(t, c, clk, 10*time.Minute, func(s *Session) { s.SetExpiry(time.Hour) })
	s, err := c.DecodeExpired(v)
	if err != nil || s == nil {
		t.Fatalf("DecodeExpired of a live cookie = %v, %v", s, err)
	}
	if got := mustGet(t, s, "user"); got != "ada" {
		t.Errorf("user = %v", got)
	}
	if s, err := c.DecodeExpired(""); err != nil || s == nil || s.Len() != 0 {
		t.Errorf(`DecodeExpired("") = %v, %v; want an empty session`, s, err)
	}
}

// TestDecodeExpiredKeyTTLs: a key whose own TTL passed stays gone.
func TestDecodeExpiredKeyTTLs(t *testing.T) {
	c, clk := newTestCodec(t, Config{})
	v := expSealed(t, c, clk, 3*time.Hour, func(s *Session) {
		s.SetExpiry(time.Hour)
		s.SetWithTTL("short", 1, 30*time.Minute)
		s.SetWithTTL("long", 2, 5*time.Hour)
	})
	s, err := c.DecodeExpired(v)
	if !errors.Is(err, ErrExpired) || s == nil {
		t.Fatalf("DecodeExpired = %v, %v", s, err)
	}
	if got := strings.Join(s.Keys(), ","); got != "long,user" {
		t.Errorf("keys %q, want long,user", got)
	}
}

// TestDecodeExpiredStillAuthenticates: skipping the deadline skips nothing
// else.
func TestDecodeExpiredStillAuthenticates(t *testing.T) {
	c, clk := newTestCodec(t, Config{})
	v := expSealed(t, c, clk, 2*time.Hour, func(s *Session) { s.SetExpiry(time.Hour) })

	otherKey, _ := newTestCodec(t, Config{Keys: newKeyring(t, "k1")})
	clk2 := clk.Now()
	otherName, _ := newTestCodec(t, Config{Name: "other", Keys: c.keys, Now: func() time.Time { return clk2 }})
	rotatedOut, _ := newTestCodec(t, Config{Keys: newKeyring(t, "k2"), Now: func() time.Time { return clk2 }})
	revoking, _ := newTestCodec(t, Config{Keys: c.keys, Now: func() time.Time { return clk2 }, NotBefore: testStart.Add(time.Second)})
	verifyErr := errors.New("user logged out everywhere")
	verifying, _ := newTestCodec(t, Config{Keys: c.keys, Now: func() time.Time { return clk2 }, Verify: func(*Session) error { return verifyErr }})

	garbage := []byte("not an envelope")
	var bp []byte
	clk.Set(testStart)
	badFormat, err := c.seal(c.keys.load().primary, garbage, c.unixNow(), &bp) // a genuine MAC around a bad payload
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(clk2)

	tests := []struct {
		name  string
		codec *Codec
		value string
		want  error
	}{
		{"tampered", c, expFlip(v), ErrInvalid},
		{"truncated", c, v[:len(v)-4], ErrInvalid},
		{"bad format under a genuine MAC", c, badFormat, ErrInvalid},
		{"same key ID, other secret", otherKey, v, ErrInvalid},
		{"other cookie name", otherName, v, ErrInvalid},
		{"key rotated out", rotatedOut, v, ErrUnknownKey},
		{"too large", c, "k1." + strings.Repeat("A", 5000), ErrTooLarge},
		{"NotBefore", revoking, v, ErrRevoked},
		{"Verify", verifying, v, verifyErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.codec.DecodeExpired(tt.value)
			if s != nil || !errors.Is(err, tt.want) {
				t.Errorf("DecodeExpired = %v, %v; want nil, %v", s, err, tt.want)
			}
			s, err = tt.codec.DecodeCookiesExpired([]*http.Cookie{{Name: tt.codec.Name(), Value: tt.value}})
			if tt.codec == otherName {
				return // the cookie is sent under c's name, which otherName ignores
			}
			if s != nil || !errors.Is(err, tt.want) {
				t.Errorf("DecodeCookiesExpired = %v, %v; want nil, %v", s, err, tt.want)
			}
		})
	}
}

func TestDecodeCookiesExpiredChunks(t *testing.T) {
	c, clk := newTestCodec(t, Config{MaxCookies: 3})
	clk.Set(testStart)
	s := c.New()
	s.Set("blob", strings.Repeat("x", 6000))
	s.SetExpiry(time.Hour)
	cookies, err := c.Cookies(s)
	if err != nil {
		t.Fatal(err)
	}
	var sent []*http.Cookie
	for _, ck := range cookies {
		if ck.Value != "" {
			sent = append(sent, &http.Cookie{Name: ck.Name, Value: ck.Value})
		}
	}
	if len(sent) < 2 {
		t.Fatalf("session took %d cookies, want it chunked", len(sent))
	}
	clk.Advance(2 * time.Hour)

	if _, err := c.DecodeCookies(sent); !errors.Is(err, ErrExpired) {
		t.Fatalf("DecodeCookies error = %v, want ErrExpired", err)
	}
	got, err := c.DecodeCookiesExpired(append([]*http.Cookie{{Name: "other", Value: "x"}}, sent...))
	if !errors.Is(err, ErrExpired) || got == nil {
		t.Fatalf("DecodeCookiesExpired = %v, %v; want the session and ErrExpired", got, err)
	}
	if v, _ := Get[string](got, "blob"); v != strings.Repeat("x", 6000) {
		t.Errorf("blob of %d bytes, want 6000", len(v))
	}

	missing := append([]*http.Cookie{sent[0]}, sent[2:]...)
	if got, err := c.DecodeCookiesExpired(missing); got != nil || !errors.Is(err, ErrInvalid) {
		t.Errorf("with a chunk missing: %v, %v; want nil, ErrInvalid", got, err)
	}
	if got, err := c.DecodeCookiesExpired(nil); err != nil || got == nil || got.Len() != 0 {
		t.Errorf("no cookies: %v, %v; want an empty session", got, err)
	}
}

// TestDecodeExpiredSaysWhichLimit: a session closed by the opening codec's
// tighter limits says so.
func TestDecodeExpiredSaysWhichLimit(t *testing.T) {
	sealer, clk := newTestCodec(t, Config{})
	v := expSealed(t, sealer, clk, 2*time.Hour, nil)
	now := clk.Now()
	for limit, cfg := range map[string]Config{
		"idle for longer than MaxAge": {MaxAge: time.Hour},
		"older than AbsoluteTimeout":  {AbsoluteTimeout: time.Hour},
	} {
		cfg.Keys, cfg.Now = sealer.keys, func() time.Time { return now }
		c, _ := newTestCodec(t, cfg)
		s, err := c.DecodeExpired(v)
		if s == nil || !errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), limit) {
			t.Errorf("%s: DecodeExpired = %v, %v", limit, s, err)
		}
	}
}
