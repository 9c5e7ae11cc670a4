package redisguard

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/redisguard/redistest"
	"github.com/redis/go-redis/v9"
)

func TestNewRequiresContextTimeout(t *testing.T) {
	for _, c := range []redis.UniversalClient{
		redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}),
		redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}}),
		redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}}),
		redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"127.0.0.1:1"}}),
	} {
		if _, err := New(c); !errors.Is(err, ErrNoContextTimeout) {
			t.Errorf("New(%T without ContextTimeoutEnabled) = %v, want ErrNoContextTimeout", c, err)
		}
		c.Close()
	}
	c := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true})
	defer c.Close()
	if _, err := New(c); err != nil {
		t.Errorf("New with ContextTimeoutEnabled: %v", err)
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
}

// TestKeysBoundedAndExpiring runs every operation, with short and very long
// keys, then reads what is in Redis: every key under the prefix, no longer
// than the bound, each with a TTL.
func TestKeysBoundedAndExpiring(t *testing.T) {
	srv := redistest.Start(t)
	g, err := New(srv.Client(t), WithPrefix("bounded:"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range []string{"short", strings.Repeat("x", maxRawKey), strings.Repeat("y", maxRawKey+1), strings.Repeat("z", 1<<20)} {
		if _, err := g.Consume(ctx, k, time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := g.Count(ctx, k, time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := g.Count(ctx, k, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := g.Revoke(ctx, k, time.Now(), time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := g.Revoke(ctx, k, time.Now().Add(-time.Hour), time.Second); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := srv.Client(t).Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 4*3 {
		t.Errorf("Redis holds %d keys, want 12 (4 keys × 3 kinds): %q", len(keys), keys)
	}
	limit := len("bounded:") + len(kindRevoked) + 1 + 64
	for _, k := range keys {
		if !strings.HasPrefix(k, "bounded:") {
			t.Errorf("key %q is outside the prefix", k)
		}
		if len(k) > limit {
			t.Errorf("key of %d bytes, longer than %d: %.80q…", len(k), limit, k)
		}
		ttl, err := srv.Client(t).PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 0 || ttl > time.Minute {
			t.Errorf("key %q has TTL %v, want one in (0, 1m]", k, ttl)
		}
	}
}

// TestCountRestoresLostTTL checks that a counter whose TTL was removed
// behind the Guard's back gets one again on its next increment.
func TestCountRestoresLostTTL(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	g, err := New(c, WithPrefix("persist:"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := g.Count(ctx, "k", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.Persist(ctx, g.key(kindCount, "k")).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := g.Count(ctx, "k", time.Minute); err != nil || n != 2 {
		t.Fatalf("Count = %d, %v; want 2", n, err)
	}
	if ttl := c.PTTL(ctx, g.key(kindCount, "k")).Val(); ttl <= 0 {
		t.Fatalf("counter TTL after Count = %v, want positive", ttl)
	}
}

func TestNonPositiveDuration(t *testing.T) {
	srv := redistest.Start(t)
	g := testGuard(t, srv)
	ctx := context.Background()
	for _, d := range []time.Duration{0, -time.Second} {
		if first, err := g.Consume(ctx, "k", d); err == nil || first {
			t.Errorf("Consume with ttl %v = %v, %v; want an error", d, first, err)
		}
		if _, err := g.Count(ctx, "k", d); err == nil {
			t.Errorf("Count with window %v succeeded", d)
		}
		if err := g.Revoke(ctx, "k", time.Now(), d); err == nil {
			t.Errorf("Revoke with ttl %v succeeded", d)
		}
	}
	// Nothing was written: the first real Consume is the first.
	if first, err := g.Consume(ctx, "k", time.Minute); err != nil || !first {
		t.Fatalf("Consume after the refused calls = %v, %v; want true", first, err)
	}
}

func TestMillisecondsRoundUp(t *testing.T) {
	for d, want := range map[time.Duration]int64{
		time.Nanosecond:                      1,
		time.Millisecond:                     1,
		time.Millisecond + time.Nanosecond:   2,
		1500 * time.Microsecond:              2,
		5 * time.Minute:                      300_000,
		5*time.Minute - time.Nanosecond:      300_000,
		5*time.Minute + 999*time.Microsecond: 300_001,
	} {
		if got, err := milliseconds("test", d); err != nil || got != want {
			t.Errorf("milliseconds(%v) = %d, %v; want %d", d, got, err, want)
		}
	}
}

func TestTimeEncodingKeepsOrderAndNanoseconds(t *testing.T) {
	times := []time.Time{
		minTime,
		time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Unix(-1, 999_999_999),
		time.Unix(0, 0),
		time.Unix(0, 1),
		time.Unix(1_700_000_000, 123_456_789),
		time.Unix(1_700_000_000, 123_456_790),
		maxTime,
	}
	var prev string
	for i, tm := range times {
		enc, err := encodeTime(tm)
		if err != nil {
			t.Fatalf("encodeTime(%v): %v", tm, err)
		}
		if len(enc) != timeDigits {
			t.Errorf("encodeTime(%v) = %q, %d digits", tm, enc, len(enc))
		}
		if i > 0 && enc <= prev {
			t.Errorf("encodeTime(%v) = %q sorts before the earlier time's %q", tm, enc, prev)
		}
		prev = enc
		back, err := decodeTime(enc)
		if err != nil || !back.Equal(tm) {
			t.Errorf("decodeTime(encodeTime(%v)) = %v, %v", tm, back, err)
		}
	}
	for _, tm := range []time.Time{{}, minTime.Add(-time.Nanosecond), maxTime.Add(time.Nanosecond)} {
		if enc, err := encodeTime(tm); err == nil {
			t.Errorf("encodeTime(%v) = %q, want an error", tm, enc)
		}
	}
	for _, s := range []string{"", "1", "abc", "-0000000000000000001", "184467440737095516150"} {
		if _, err := decodeTime(s); err == nil {
			t.Errorf("decodeTime(%q) succeeded", s)
		}
	}
}

// TestForeignRecordIsUnavailable checks that a revocation record this
// package did not write is an error (fail closed), not the zero Time.
func TestForeignRecordIsUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	g, err := New(c, WithPrefix("foreign:"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Set(ctx, g.key(kindRevoked, "k"), "yesterday", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := g.RevokedAt(ctx, "other", "k"); !errors.Is(err, cookiesession.ErrGuardUnavailable) {
		t.Fatalf("RevokedAt over a foreign record = %v, %v; want ErrGuardUnavailable", got, err)
	}
}

// TestKindsSeparate uses one key with every operation: a spent nonce, a
// counter and a revocation under the same key are three Redis keys, which
// cookiesession's key kinds already ensure and the Guard does again.
func TestKindsSeparate(t *testing.T) {
	g := testGuard(t, redistest.Start(t))
	ctx := context.Background()
	if first, err := g.Consume(ctx, "k", time.Minute); err != nil || !first {
		t.Fatalf("Consume = %v, %v", first, err)
	}
	if n, err := g.Count(ctx, "k", time.Minute); err != nil || n != 1 {
		t.Fatalf("first Count of a consumed key = %d, %v; want 1", n, err)
	}
	at := time.Unix(1_700_000_000, 1)
	if err := g.Revoke(ctx, "k", at, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, err := g.RevokedAt(ctx, "k"); err != nil || !got[0].Equal(at) {
		t.Fatalf("RevokedAt = %v, %v; want %v", got, err, at)
	}
	if first, err := g.Consume(ctx, "k", time.Minute); err != nil || first {
		t.Fatalf("second Consume = %v, %v; want false", first, err)
	}
	if n, err := g.Count(ctx, "k", time.Minute); err != nil || n != 2 {
		t.Fatalf("second Count = %d, %v; want 2", n, err)
	}
}

// TestRevokedAtNanoseconds checks that revocation times come back exactly,
// beyond the millisecond the Guard contract asks for.
func TestRevokedAtNanoseconds(t *testing.T) {
	g := testGuard(t, redistest.Start(t))
	ctx := context.Background()
	at := time.Unix(1_700_000_000, 123_456_789)
	if err := g.Revoke(ctx, "k", at, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := g.Revoke(ctx, "k", at.Add(-time.Nanosecond), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, err := g.RevokedAt(ctx, "k"); err != nil || !got[0].Equal(at) {
		t.Fatalf("RevokedAt = %v, %v; want exactly %v", got, err, at)
	}
	if err := g.Revoke(ctx, "k", at.Add(time.Nanosecond), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, err := g.RevokedAt(ctx, "k"); err != nil || !got[0].Equal(at.Add(time.Nanosecond)) {
		t.Fatalf("RevokedAt after a revocation 1 ns later = %v, %v; want %v", got, err, at.Add(time.Nanosecond))
	}
}

// TestErrorReplyIsUnavailable puts a value of the wrong type where the
// Guard keeps its records: Redis answers with an error, which fails closed.
func TestErrorReplyIsUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	g, err := New(c, WithPrefix("wrongtype:"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range []string{g.key(kindCount, "k"), g.key(kindRevoked, "k")} {
		if err := c.LPush(ctx, k, "x").Err(); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := g.Count(ctx, "k", time.Minute); !errors.Is(err, cookiesession.ErrGuardUnavailable) || !strings.Contains(err.Error(), "WRONGTYPE") {
		t.Errorf("Count over a list = %d, %v; want ErrGuardUnavailable with Redis's WRONGTYPE", n, err)
	}
	if err := g.Revoke(ctx, "k", time.Now(), time.Minute); !errors.Is(err, cookiesession.ErrGuardUnavailable) {
		t.Errorf("Revoke over a list = %v; want ErrGuardUnavailable", err)
	}
	if got, err := g.RevokedAt(ctx, "k"); !errors.Is(err, cookiesession.ErrGuardUnavailable) {
		t.Errorf("RevokedAt over a list = %v, %v; want ErrGuardUnavailable", got, err)
	}
}

// TestPrefixesSeparate checks that Guards with different prefixes on one
// Redis share nothing, and that the default prefix is DefaultPrefix.
func TestPrefixesSeparate(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	a, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(c, WithPrefix("other-app:"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []*Guard{a, b} {
		if first, err := g.Consume(ctx, "k", time.Minute); err != nil || !first {
			t.Fatalf("first Consume through prefix %q = %v, %v; want true", g.prefix, first, err)
		}
	}
	for _, want := range []string{DefaultPrefix + "once:k", "other-app:once:k"} {
		if n := c.Exists(ctx, want).Val(); n != 1 {
			t.Errorf("Redis key %q missing", want)
		}
	}
}

// TestFullRedisFailsClosed fills Redis (maxmemory below what it uses,
// policy noeviction): writes are refused with OOM, and every operation that
// writes fails closed instead of forgetting what it guards.
func TestFullRedisFailsClosed(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	g := testGuard(t, srv)
	ctx := context.Background()
	if first, err := g.Consume(ctx, "spent", time.Minute); err != nil || !first {
		t.Fatalf("Consume = %v, %v", first, err)
	}
	if err := c.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	if first, err := g.Consume(ctx, "new", time.Minute); !errors.Is(err, cookiesession.ErrGuardUnavailable) || first || !strings.Contains(err.Error(), "OOM") {
		t.Errorf("Consume in a full Redis = %v, %v; want ErrGuardUnavailable with Redis's OOM", first, err)
	}
	if _, err := g.Count(ctx, "new", time.Minute); !errors.Is(err, cookiesession.ErrGuardUnavailable) {
		t.Errorf("Count in a full Redis = %v; want ErrGuardUnavailable", err)
	}
	if err := g.Revoke(ctx, "new", time.Now(), time.Minute); !errors.Is(err, cookiesession.ErrGuardUnavailable) {
		t.Errorf("Revoke in a full Redis = %v; want ErrGuardUnavailable", err)
	}
	// What was recorded before is still there.
	if first, err := g.Consume(ctx, "spent", time.Minute); first {
		t.Errorf("a nonce spent before Redis filled up was consumed again (%v)", err)
	}
}
