package cookiesession

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Seams: bugs found where two features meet (old-name migration and the
// Guard, Commit and key rotation, ...). Each test names the features it
// crosses.

// seamGuardCodecs returns a codec under the default __Host- name, the codec
// of the old default name beside it (as the previous release had it), both
// on one MemoryGuard, and the clock they read.
func seamGuardCodecs(t *testing.T, cfg Config) (cur, old *Codec, clk *testClock) {
	t.Helper()
	clk = newTestClock()
	cfg.Keys = newKeyring(t, "k1")
	cfg.Now = clk.Now
	cfg.Guard = NewMemoryGuard(MemoryGuardConfig{Now: clk.Now})
	cur, err := NewCodec(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Name = DefaultName
	if old, err = NewCodec(cfg); err != nil {
		t.Fatal(err)
	}
	if cur.Name() != DefaultHostName {
		t.Fatalf("name %q, want the default %q", cur.Name(), DefaultHostName)
	}
	return cur, old, clk
}

// A logout (Flush) of a session opened from an old-name cookie revokes its
// ID; a copy of that old-name cookie must not open afterwards.
func TestSeam_OldNameMigrationFlushRevokesTheOldNameCookie(t *testing.T) {
	cur, old, clk := seamGuardCodecs(t, Config{})
	s := old.New()
	s.Set("user", "alice")
	v := mustEncode(t, old, s)
	clk.Advance(time.Minute)

	ctx := context.Background()
	s1 := cur.Load(ctx, DefaultName+"="+v)
	if GetOr(s1, "user", "") != "alice" {
		t.Fatalf("the old-name cookie did not open: %v", s1.OpenError())
	}
	s1.Flush()
	ch, err := cur.Commit(s1, 200)
	if err != nil || len(ch.SetCookie) == 0 {
		t.Fatalf("Commit after Flush: %v, %v", ch.SetCookie, err)
	}
	clk.Advance(time.Second)

	replay := cur.Load(ctx, DefaultName+"="+v)
	if u, ok := replay.Get("user"); ok {
		t.Fatalf("a copy of the flushed old-name cookie still opens (user %v)", u)
	}
	if err := replay.OpenError(); !errors.Is(err, ErrRevoked) {
		t.Errorf("OpenError %v, want ErrRevoked", err)
	}
}

// RevokeSubject ("log out everywhere") also ends sessions that still ride
// on a cookie of the old default name.
func TestSeam_OldNameMigrationRevokeSubject(t *testing.T) {
	subject := func(s *Session) string { return GetOr(s, "user", "") }
	cur, old, clk := seamGuardCodecs(t, Config{Subject: subject})
	s := old.New()
	s.Set("user", "alice")
	v := mustEncode(t, old, s)
	clk.Advance(time.Minute)

	ctx := context.Background()
	if err := cur.RevokeSubject(ctx, "alice", clk.Now()); err != nil {
		t.Fatal(err)
	}
	replay := cur.Load(ctx, DefaultName+"="+v)
	if u, ok := replay.Get("user"); ok {
		t.Fatalf("an old-name session of a revoked subject still opens (user %v)", u)
	}
	if err := replay.OpenError(); !errors.Is(err, ErrRevoked) {
		t.Errorf("OpenError %v, want ErrRevoked", err)
	}
}

// Commit consumes the change (its doc): a session resealed because its key
// is no longer the primary, or because it is in wire format v1, or because
// its deadline should slide, is resealed once, not on every Commit.
func TestSeam_CommitTwiceAfterRotationResealsOnce(t *testing.T) {
	k0, _ := GenerateKey("k0")
	k1, _ := GenerateKey("k1")
	before, err := NewKeyring(k0)
	if err != nil {
		t.Fatal(err)
	}
	after, err := NewKeyring(k1, k0)
	if err != nil {
		t.Fatal(err)
	}
	clk := newTestClock()
	oldC, err := NewCodec(Config{Keys: before, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCodec(Config{Keys: after, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	v := mwSealed(t, oldC, "user", "alice")
	s := c.Load(context.Background(), c.Name()+"="+v)
	if GetOr(s, "user", "") != "alice" {
		t.Fatalf("did not open: %v", s.OpenError())
	}
	first, err := c.Commit(s, 200)
	if err != nil || len(first.SetCookie) != 1 {
		t.Fatalf("first Commit: %v, %v; want the reseal under the primary", first.SetCookie, err)
	}
	second, err := c.Commit(s, 200)
	if err != nil || len(second.SetCookie) != 0 {
		t.Errorf("second Commit without changes: %v, %v; want no cookies", second.SetCookie, err)
	}
}

func TestSeam_CommitTwiceAfterRefreshResealsOnce(t *testing.T) {
	c, clk := newTestCodec(t, Config{MaxAge: time.Hour})
	v := mwSealed(t, c, "user", "alice")
	clk.Advance(30 * time.Minute) // past RefreshAfter's quarter
	s := c.Load(context.Background(), c.Name()+"="+v)
	if GetOr(s, "user", "") != "alice" {
		t.Fatalf("did not open: %v", s.OpenError())
	}
	if first, _ := c.Commit(s, 200); len(first.SetCookie) != 1 {
		t.Fatalf("first Commit: %v; want a refresh", first.SetCookie)
	}
	if second, _ := c.Commit(s, 200); len(second.SetCookie) != 0 {
		t.Errorf("second Commit without changes: %v; want no cookies", second.SetCookie)
	}
}
