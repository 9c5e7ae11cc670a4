package cookiesession

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkGuard measures what Config.Guard costs one request through the
// middleware, with the in-memory guard: the SMALL session's cookie opened,
// a key read, a key set, sealed again. Unguarded has no Guard; Open adds the
// revocation check every opened cookie gets; Attempt and TakeOnce add one
// guarded feature each (TakeOnce also sets the value it takes, so every
// request consumes a fresh nonce).
func BenchmarkGuard(b *testing.B) {
	// The guard's clock jumps ahead on every call, so spent nonces expire
	// as fast as they are added and the guard stays small.
	var tick atomic.Int64
	guardNow := func() time.Time { return time.Unix(0, tick.Add(int64(time.Hour))) }
	for _, bc := range []struct {
		name    string
		guarded bool
		feature func(ctx context.Context, c *Codec, s *Session) error
	}{
		{"Unguarded", false, nil},
		{"Open", true, nil},
		{"Attempt", true, func(ctx context.Context, c *Codec, s *Session) error {
			return c.Attempt(ctx, s, "sms", math.MaxInt, 5*time.Minute)
		}},
		{"TakeOnce", true, func(ctx context.Context, _ *Codec, s *Session) error {
			s.SetOnce("code", "493817", 5*time.Minute)
			_, err := TakeOnce[string](ctx, s, "code")
			return err
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			k, err := GenerateKey("k1")
			if err != nil {
				b.Fatal(err)
			}
			cfg := Config{Keys: wfKeyring(b, k)}
			if bc.guarded {
				cfg.Guard = NewMemoryGuard(MemoryGuardConfig{Now: guardNow})
			}
			c, err := NewCodec(cfg)
			if err != nil {
				b.Fatal(err)
			}
			cookie := c.Name() + "=" + benchCookie(b, c, fillSmall)
			h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := FromContext(r.Context())
				if _, ok := Get[string](s, "csrf"); !ok {
					b.Fatal("csrf missing: the cookie did not open")
				}
				if bc.feature != nil {
					if err := bc.feature(r.Context(), c, s); err != nil {
						b.Fatal(err)
					}
				}
				s.Set("last_seen", int64(1700000000))
			}))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Cookie", cookie)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if len(w.Header()["Set-Cookie"]) != 1 {
					b.Fatalf("Set-Cookie %q", w.Header()["Set-Cookie"])
				}
			}
		})
	}
}
