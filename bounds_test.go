package cookiesession

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingGuard counts RevokedAt calls on top of a MemoryGuard.
type countingGuard struct {
	*MemoryGuard
	revokedAt atomic.Int64
}

func (g *countingGuard) RevokedAt(ctx context.Context, keys ...string) ([]time.Time, error) {
	g.revokedAt.Add(1)
	return g.MemoryGuard.RevokedAt(ctx, keys...)
}

// TestRevokedCookiesBoundGuardCalls: a client that sends many genuine but
// revoked cookies at once makes at most maxRevokedTries Verify calls and
// Guard round trips, not one per cookie.
func TestRevokedCookiesBoundGuardCalls(t *testing.T) {
	g := &countingGuard{MemoryGuard: NewMemoryGuard(MemoryGuardConfig{})}
	var verifies atomic.Int64
	c, _ := newTestCodec(t, Config{Insecure: true, Guard: g, Verify: func(*Session) error {
		verifies.Add(1)
		return errors.New("user disabled")
	}})
	var parts []string
	for i := range 20 {
		s := c.New()
		s.Set("n", i)
		parts = append(parts, c.Name()+"="+mustEncode(t, c, s))
	}
	err := c.Load(context.Background(), strings.Join(parts, "; ")).OpenError()
	if !errors.Is(err, ErrRevoked) {
		t.Fatalf("OpenError = %v, want ErrRevoked", err)
	}
	if n := verifies.Load(); n > maxRevokedTries {
		t.Errorf("%d Verify calls for one request, want at most %d", n, maxRevokedTries)
	}
	if n := g.revokedAt.Load(); n > maxRevokedTries {
		t.Errorf("%d Guard RevokedAt calls for one request, want at most %d", n, maxRevokedTries)
	}

	// A genuine cookie that is not revoked, sent after one revoked copy,
	// still opens.
	verifies.Store(0)
	ok, _ := newTestCodec(t, Config{Insecure: true, Keys: c.keys, Guard: g, Verify: func(s *Session) error {
		if GetOr(s, "n", int64(-1)) == 0 {
			return errors.New("this one is disabled")
		}
		return nil
	}})
	s := ok.Load(context.Background(), parts[0]+"; "+parts[1])
	if err := s.OpenError(); err != nil || GetOr(s, "n", int64(-1)) != 1 {
		t.Errorf("second genuine cookie: OpenError %v, n=%v", err, GetOr(s, "n", int64(-1)))
	}
}

// TestZeroCodec: a Codec that NewCodec did not make answers with a clear
// error where it can, and panics with a clear message where it cannot
// (New, Load, Middleware: wiring mistakes), never with a nil dereference.
func TestZeroCodec(t *testing.T) {
	good, _ := newTestCodec(t, Config{})
	s := good.New()
	s.Set("a", 1)
	for _, c := range []*Codec{nil, {}} {
		if _, err := c.Encode(s); !errors.Is(err, errZeroCodec) {
			t.Errorf("Encode: %v", err)
		}
		if _, err := c.Decode("k1.abc"); !errors.Is(err, errZeroCodec) {
			t.Errorf("Decode: %v", err)
		}
		if _, err := c.Decode(""); !errors.Is(err, errZeroCodec) {
			t.Errorf(`Decode(""): %v`, err)
		}
		if _, err := c.DecodeCookies(nil); !errors.Is(err, errZeroCodec) {
			t.Errorf("DecodeCookies: %v", err)
		}
		if _, err := c.DecodeExpired("k1.abc"); !errors.Is(err, errZeroCodec) {
			t.Errorf("DecodeExpired: %v", err)
		}
		if _, err := c.Cookie(s); !errors.Is(err, errZeroCodec) {
			t.Errorf("Cookie: %v", err)
		}
		if _, err := c.Cookies(s); !errors.Is(err, errZeroCodec) {
			t.Errorf("Cookies: %v", err)
		}
		if _, err := c.Commit(s, 200); !errors.Is(err, errZeroCodec) {
			t.Errorf("Commit: %v", err)
		}
		for name, f := range map[string]func(){
			"New":        func() { c.New() },
			"Load":       func() { c.Load(context.Background()) },
			"Middleware": func() { c.Middleware(nil) },
		} {
			func() {
				defer func() {
					r := recover()
					if msg, _ := r.(string); !strings.Contains(msg, "NewCodec") {
						t.Errorf("%s: panic %v, want one that says to use NewCodec", name, r)
					}
				}()
				f()
			}()
		}
	}
}
