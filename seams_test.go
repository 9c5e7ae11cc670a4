package cookiesession

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
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
	// The session now stands for the cookie just sent (SealedAt, Deadline).
	if !s.SealedAt().Equal(clk.Now()) || !s.Deadline().Equal(clk.Now().Add(time.Hour)) {
		t.Errorf("after Commit: SealedAt %v, Deadline %v; want now and an hour later", s.SealedAt(), s.Deadline())
	}
	if second, _ := c.Commit(s, 200); len(second.SetCookie) != 0 {
		t.Errorf("second Commit without changes: %v; want no cookies", second.SetCookie)
	}
}

// One Session used by several goroutines of a handler at once, committed
// while they run (run with -race): no data race, no panic, and a one-time
// value handed out at most once.
func TestSeam_ConcurrentSessionUse(t *testing.T) {
	clk := newTestClock()
	c, _ := newTestCodec(t, Config{Guard: NewMemoryGuard(MemoryGuardConfig{Now: clk.Now}), Now: clk.Now, MaxCookies: 4})
	seed := c.New()
	seed.Set("user", "alice")
	seed.SetOnce("code", "123456", time.Minute)
	v := mustEncode(t, c, seed)
	s := c.Load(context.Background(), c.Name()+"="+v)

	var wg sync.WaitGroup
	var taken atomic.Int32
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				key := fmt.Sprintf("k%d", g)
				s.Set(key, i)
				if got, ok := Get[int](s, key); !ok || got < 0 {
					t.Errorf("Get[int](%s) = %v, %v", key, got, ok)
				}
				s.AddFlashTo("c", i)
				_ = FlashesFrom[int](s, "c")
				_ = s.CSRFToken()
				if _, err := TakeOnce[string](context.Background(), s, "code"); err == nil {
					taken.Add(1)
				}
				if _, err := c.Commit(s, 200); err != nil {
					t.Errorf("Commit: %v", err)
				}
				_, _ = c.Cookies(s)
			}
		}()
	}
	wg.Wait()
	if n := taken.Load(); n != 1 {
		t.Errorf("the one-time value was taken %d times, want once", n)
	}
}

// Config.Guard: &MemoryGuard{} is what a user writes who skips
// NewMemoryGuard. It must not turn every genuine cookie into "payload does
// not decode" (a panic in the revocation check, recovered as ErrInvalid,
// which deletes the cookie): the zero MemoryGuard works, and a nil one is
// refused by NewCodec.
func TestSeam_ZeroMemoryGuard(t *testing.T) {
	c, _ := newTestCodec(t, Config{Guard: &MemoryGuard{}})
	v := mwSealed(t, c, "user", "alice")
	s := c.Load(context.Background(), c.Name()+"="+v)
	if GetOr(s, "user", "") != "alice" {
		t.Fatalf("a genuine cookie did not open with a zero MemoryGuard: %v", s.OpenError())
	}
	s.SetOnce("code", "123", time.Minute)
	if got, err := TakeOnce[string](context.Background(), s, "code"); err != nil || got != "123" {
		t.Errorf("TakeOnce: %q, %v", got, err)
	}
	if err := c.Attempt(context.Background(), s, "sms", 1, time.Minute); err != nil {
		t.Errorf("Attempt: %v", err)
	}

	var nilGuard *MemoryGuard
	if _, err := NewCodec(Config{Keys: newKeyring(t, "k1"), Guard: nilGuard}); err == nil {
		t.Error("NewCodec accepted a nil *MemoryGuard as Config.Guard")
	}
}

// OnError + ErrClockSkew + planted cookies: with Config.OnError set, a
// request carrying a junk cookie and a genuine one sealed by a server whose
// clock is ahead gets no deletion, and OnError learns of the skew (its doc
// lists what it receives).
func TestSeam_OnErrorClockSkewPlanted(t *testing.T) {
	kr := newKeyring(t, "k1")
	var got []error
	server, _ := newTestCodec(t, Config{Keys: kr, OnError: func(w http.ResponseWriter, r *http.Request, err error) {
		got = append(got, err)
	}})
	ahead, aheadClk := newTestCodec(t, Config{Keys: kr})
	aheadClk.Advance(2 * time.Minute)
	v := mwSealed(t, ahead, "user", "alice")

	r := pcServe(t, server, nil, "/get?k=user", pcHeader("session", "junk", "session", v))
	if r.body != "<none>" || len(r.set) != 0 {
		t.Fatalf("body %q, Set-Cookie %v; want an empty session and no deletion", r.body, r.names())
	}
	if len(got) != 1 || !errors.Is(got[0], ErrClockSkew) || errors.Is(got[0], ErrInvalid) {
		t.Fatalf("OnError got %v; want one ErrClockSkew", got)
	}
}

// Old-name migration + chunks + Commit called twice: the first Commit
// reseals under the new name and deletes every old-name cookie; the second
// sends nothing; the new cookies open the session.
func TestSeam_OldNameChunksCommitTwice(t *testing.T) {
	cur, old, _ := seamGuardCodecs(t, Config{MaxCookies: 4})
	s := old.New()
	s.Set("blob", lgBlob(7, 6000))
	var header []string
	for _, ck := range lgSetCookies(lgMustCookies(t, old, s)) {
		header = append(header, ck.Name+"="+ck.Value)
	}
	if len(header) < 2 {
		t.Fatalf("want a chunked old-name session, got %d cookies", len(header))
	}
	ls := cur.Load(context.Background(), strings.Join(header, "; "))
	if !ls.Has("blob") {
		t.Fatalf("old-name chunked session did not open: %v", ls.OpenError())
	}
	first, err := cur.Commit(ls, 200)
	if err != nil {
		t.Fatal(err)
	}
	var fresh []*http.Cookie
	deleted := map[string]bool{}
	for _, line := range first.SetCookie {
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatal(err)
		}
		if ck.MaxAge < 0 {
			deleted[ck.Name] = true
		} else {
			fresh = append(fresh, ck)
		}
	}
	for _, h := range header {
		if name, _, _ := strings.Cut(h, "="); !deleted[name] {
			t.Errorf("old-name cookie %q not deleted: %v", name, first.SetCookie)
		}
	}
	if got, err := cur.DecodeCookies(fresh); err != nil || GetOr(got, "blob", "") != GetOr(s, "blob", "") {
		t.Errorf("the new cookies do not open the session: %v", err)
	}
	if second, err := cur.Commit(ls, 200); err != nil || len(second.SetCookie) != 0 {
		t.Errorf("second Commit: %v, %v; want nothing", second.SetCookie, err)
	}
}

// Flush + AddFlash + 5xx with a Guard: the logout goes out (deletion) and
// the old ID is revoked, so a copy of the old cookie no longer opens.
func TestSeam_FlushFlash5xxRevokes(t *testing.T) {
	cur, _, clk := seamGuardCodecs(t, Config{})
	v := mwSealed(t, cur, "user", "alice")
	s := cur.Load(context.Background(), cur.Name()+"="+v)
	s.Flush()
	s.AddFlash("bye")
	ch, err := cur.Commit(s, http.StatusInternalServerError)
	if err != nil || len(ch.SetCookie) != 1 || !strings.Contains(ch.SetCookie[0], "Max-Age=0") {
		t.Fatalf("Commit(500) after Flush: %v, %v; want one deletion", ch.SetCookie, err)
	}
	clk.Advance(time.Second)
	replay := cur.Load(context.Background(), cur.Name()+"="+v)
	if replay.Has("user") || !errors.Is(replay.OpenError(), ErrRevoked) {
		t.Errorf("the flushed cookie still opens after a 5xx logout: %v", replay.OpenError())
	}
}

// Flush, then a value that cannot be saved (unencodable, or too large):
// the logout must still go out, as it does on a 5xx. Otherwise the
// logged-in cookie stays and, with a Guard, its ID is never revoked.
func TestSeam_FlushThenUnsavableKeepsTheLogout(t *testing.T) {
	for name, set := range map[string]func(*Session){
		"unencodable": func(s *Session) { s.Set("ch", make(chan int)) },
		"too large":   func(s *Session) { s.Set("blob", lgBlob(3, 8000)) },
	} {
		t.Run(name, func(t *testing.T) {
			cur, _, clk := seamGuardCodecs(t, Config{})
			v := mwSealed(t, cur, "user", "alice")
			s := cur.Load(context.Background(), cur.Name()+"="+v)
			s.Flush()
			set(s)
			ch, err := cur.Commit(s, http.StatusOK)
			if err == nil {
				t.Fatal("Commit saved a session that cannot be sealed")
			}
			if len(ch.SetCookie) != 1 || !strings.Contains(ch.SetCookie[0], "Max-Age=0") {
				t.Fatalf("Commit after Flush and an unsavable value: %v; want the logout's deletion", ch.SetCookie)
			}
			clk.Advance(time.Second)
			replay := cur.Load(context.Background(), cur.Name()+"="+v)
			if replay.Has("user") {
				t.Errorf("the flushed cookie still opens: %v", replay.OpenError())
			}

			// Through the middleware, too.
			r := pcServe(t, cur, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := FromContext(r.Context())
				s.Flush()
				set(s)
			}), "/", pcHeader(cur.Name(), mwSealed(t, cur, "user", "bob")))
			r.wantDeleted(t, cur.Name())
		})
	}
}

// Compress + CSRF: SECURITY.md says the session ID is sealed outside the
// compressed stream, so the cookie's length does not depend on whether a
// value an attacker sets matches it. The CSRF secret lives in the data
// (compressed); it must not carry a copy of the ID there.
func TestSeam_CompressCSRFKeepsTheIDOutOfTheWindow(t *testing.T) {
	c, _ := newTestCodec(t, Config{Compress: true})
	random := func(n int) []byte {
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	length := func(id [sessionIDLen]byte, secret, guess []byte) int {
		s := c.New()
		s.mu.Lock()
		s.id, s.hasID = id, true
		s.mu.Unlock()
		s.CSRFToken()
		if secret != nil { // the same secret for both measurements
			raw, _ := Get[[]byte](s, CSRFKey)
			copy(raw[len(raw)-len(secret):], secret)
			s.Set(CSRFKey, raw)
		}
		s.Set("note", guess)
		s.Set("pad", strings.Repeat("ab", 40))
		return len(mustEncode(t, c, s))
	}
	leaks := 0
	for range 20 {
		var id [sessionIDLen]byte
		copy(id[:], random(sessionIDLen))
		secret := random(csrfSecretLen)
		if length(id, secret, id[:]) < length(id, secret, random(sessionIDLen)) {
			leaks++
		}
	}
	if leaks > 2 { // a chance 3-byte match may shorten a trial or two
		t.Fatalf("in %d of 20 trials a value equal to the session ID made the cookie shorter", leaks)
	}
}

// Two codecs, one handler without the middleware: committing one codec's
// session with the other would seal its data under the wrong cookie name
// (the two-codec mix-up of issue 11). Commit refuses it, as NewContext does.
func TestSeam_CommitForeignSession(t *testing.T) {
	a, _ := newTestCodec(t, Config{Name: "a"})
	b, _ := newTestCodec(t, Config{Name: "b"})
	s := a.Load(context.Background())
	s.Set("user", "alice")
	ch, err := b.Commit(s, http.StatusOK)
	if err == nil || len(ch.SetCookie) != 0 {
		t.Errorf("Commit of another codec's session: %v, %v; want an error and no cookie", ch.SetCookie, err)
	}
	if ch, err := a.Commit(s, http.StatusOK); err != nil || len(ch.SetCookie) != 1 {
		t.Errorf("its own codec: %v, %v", ch.SetCookie, err)
	}
}

// SetOnce with a ttl meant as "no limit" (the longest Duration): the spent
// mark's ttl in the Guard must not overflow into a negative Duration, which
// would make TakeOnce fail as if the Guard were down, for ever.
func TestSeam_TakeOnceLongTTL(t *testing.T) {
	clk := newTestClock()
	c, _ := newTestCodec(t, Config{Guard: NewMemoryGuard(MemoryGuardConfig{Now: clk.Now}), Now: clk.Now})
	s := c.New()
	s.SetOnce("invite", "abc", time.Duration(math.MaxInt64))
	s = mustRoundTrip(t, c, s)
	if got, err := TakeOnce[string](context.Background(), s, "invite"); err != nil || got != "abc" {
		t.Fatalf("TakeOnce: %q, %v", got, err)
	}
}

// ErrClockSkew + a handler that writes: a cookie refused only because it
// was sealed in the future must not be replaced by the fresh session the
// handler filled (a CSRF token on a form page, a flash), which would log
// the user out as surely as a deletion. The change is reported as not
// saved; an explicit logout (Flush) still goes through.
func TestSeam_ClockSkewCookieNotOverwritten(t *testing.T) {
	kr := newKeyring(t, "k1")
	var reported []error
	server, _ := newTestCodec(t, Config{Keys: kr, OnError: func(w http.ResponseWriter, r *http.Request, err error) {
		reported = append(reported, err)
	}})
	ahead, aheadClk := newTestCodec(t, Config{Keys: kr})
	aheadClk.Advance(2 * time.Minute)
	v := mwSealed(t, ahead, "user", "alice")

	r := pcServe(t, server, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).CSRFToken() // a form page
	}), "/", pcHeader("session", v))
	if len(r.set) != 0 {
		t.Fatalf("Set-Cookie %v: the skewed genuine cookie was replaced", r.names())
	}
	if len(reported) != 2 || !errors.Is(reported[0], ErrClockSkew) || !errors.Is(reported[1], ErrClockSkew) {
		t.Errorf("OnError got %v; want the skew, then the unsaved change", reported)
	}

	r = pcServe(t, server, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Flush()
		FromContext(r.Context()).Set("user", "bob")
	}), "/", pcHeader("session", v))
	if ck := r.find("session"); ck == nil || ck.Value == "" {
		t.Errorf("Set-Cookie %v: a new session after Flush must be saved", r.names())
	}
}

// A wire format v1 cookie was sealed by the release before flash
// categories, when every flash was a plain value. A flash that was a
// 2-element array starting with a string (AddFlash([]string{"warning",
// "disk full"})) has the bytes of a categorised flash today; from a v1
// cookie it must still come back from Flashes, not vanish into a category
// nobody reads (and stay in the cookie for good).
func TestSeam_V1FlashIsNotCategorised(t *testing.T) {
	k := wfKey("k1")
	c := wfCodec(t, "session", Config{Keys: wfKeyring(t, k)})
	s := c.New()
	s.Set("user", "ann")
	s.AddFlashTo("warning", "disk full") // the same bytes as the old AddFlash([]string{"warning", "disk full"})
	v1 := wfSealV1(k, c.Name(), c.unixNow(), wfRandIV(t), wfV1Payload(t, wfPayload(t, c, s)))

	got, err := c.Decode(v1)
	if err != nil {
		t.Fatal(err)
	}
	flashes := got.Flashes()
	if len(flashes) != 1 {
		t.Fatalf("Flashes() of a v1 cookie = %#v; want the old flash", flashes)
	}
	if pair, _ := flashes[0].([]any); len(pair) != 2 || pair[0] != "warning" || pair[1] != "disk full" {
		t.Errorf("the v1 flash came back as %#v", flashes[0])
	}
	// Resealed as v2, it stays a plain flash.
	again := c.New()
	again.AddFlash([]string{"warning", "disk full"})
	if got := mustRoundTrip(t, c, again).Flashes(); len(got) != 1 {
		t.Errorf("v2 round trip of a [string, value] flash: %#v", got)
	}
}

// MaxExpiry + a browser-close session + sliding refresh: the cookie never
// gets a Max-Age, a read after a quarter of MaxExpiry reseals it (so an
// active user stays in), and one idle for MaxExpiry is over.
func TestSeam_MaxExpiryBrowserCloseRefresh(t *testing.T) {
	c, clk := newTestCodec(t, Config{MaxExpiry: time.Hour})
	s := c.New()
	s.Set("user", "alice")
	s.SetExpiry(0)
	ch, err := c.Commit(s, http.StatusOK)
	if err != nil || len(ch.SetCookie) != 1 || strings.Contains(ch.SetCookie[0], "Max-Age") {
		t.Fatalf("browser-close cookie: %v, %v", ch.SetCookie, err)
	}
	cookie := strings.SplitN(ch.SetCookie[0], ";", 2)[0]
	for range 5 { // 5 × 20 min of activity: longer than MaxExpiry
		clk.Advance(20 * time.Minute)
		s := c.Load(context.Background(), cookie)
		if !s.Has("user") {
			t.Fatalf("an active browser-close session ended: %v", s.OpenError())
		}
		ch, err := c.Commit(s, http.StatusOK)
		if err != nil || len(ch.SetCookie) != 1 || strings.Contains(ch.SetCookie[0], "Max-Age") {
			t.Fatalf("refresh: %v, %v; want a reseal without Max-Age", ch.SetCookie, err)
		}
		cookie = strings.SplitN(ch.SetCookie[0], ";", 2)[0]
	}
	clk.Advance(time.Hour)
	if s := c.Load(context.Background(), cookie); s.Has("user") || !errors.Is(s.OpenError(), ErrExpired) {
		t.Errorf("idle for MaxExpiry: %v", s.OpenError())
	}
}

// Config.OnError gets the request: an error page that reads the session
// (a flash, a CSRF token for a retry form) finds it there, as the handler
// did, instead of panicking in FromContext.
func TestSeam_OnErrorSeesTheSession(t *testing.T) {
	var c *Codec
	var found bool
	c, _ = newTestCodec(t, Config{OnError: func(w http.ResponseWriter, r *http.Request, err error) {
		defer func() {
			if p := recover(); p != nil {
				t.Errorf("OnError: FromContext panicked: %v", p)
			}
		}()
		found = FromContext(r.Context()) == c.Session(r)
	}})
	r := pcServe(t, c, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Set("ch", make(chan int)) // cannot be saved: OnError runs
	}), "/", "")
	if !found || r.status != http.StatusOK {
		t.Errorf("OnError did not find the session (status %d)", r.status)
	}
}

// A serverless handler that opens the cookie with Decode or DecodeCookies
// (not Load) and then commits: a logout (Flush) must still send the
// deletion, or the logged-in cookie stays.
func TestSeam_DecodeThenCommitLogout(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	v := mwSealed(t, c, "user", "alice")
	for name, open := range map[string]func() (*Session, error){
		"Decode":        func() (*Session, error) { return c.Decode(v) },
		"DecodeCookies": func() (*Session, error) { return c.DecodeCookies([]*http.Cookie{{Name: c.Name(), Value: v}}) },
	} {
		s, err := open()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s.Flush()
		ch, err := c.Commit(s, http.StatusOK)
		if err != nil || len(ch.SetCookie) != 1 || !strings.Contains(ch.SetCookie[0], "Max-Age=0") {
			t.Errorf("%s, Flush, Commit: %v, %v; want the deletion", name, ch.SetCookie, err)
		}
	}
}

// Config.Subject and Config.Verify are both the application's code run on
// opening: a panic in either rejects the session as ErrRevoked, named, and
// not as a payload that "does not decode".
func TestSeam_SubjectPanicIsLikeVerifyPanic(t *testing.T) {
	clk := newTestClock()
	c, _ := newTestCodec(t, Config{
		Now:     clk.Now,
		Guard:   NewMemoryGuard(MemoryGuardConfig{Now: clk.Now}),
		Subject: func(s *Session) string { panic("subject lookup failed for alice@example.com") },
	})
	v := mwSealed(t, c, "user", "alice")
	_, err := c.Decode(v)
	if !errors.Is(err, ErrRevoked) || errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "Config.Subject panicked") {
		t.Errorf("Decode with a panicking Subject: %v; want ErrRevoked naming Config.Subject", err)
	}
	if err != nil && strings.Contains(err.Error(), "alice@example.com") {
		t.Errorf("the panic value reached the error: %v", err)
	}
}

// Renew + CSRF + TakeOnce, the SMS login of the README with a Guard: the
// form's token passes, the code is taken once, Renew ends the pre-login
// cookie; the pre-login token no longer passes, the code cannot be taken
// again from any copy, and the post-login token does.
func TestSeam_RenewCSRFTakeOnce(t *testing.T) {
	cur, _, clk := seamGuardCodecs(t, Config{})
	ctx := context.Background()
	commit := func(s *Session) string {
		t.Helper()
		ch, err := cur.Commit(s, http.StatusOK)
		if err != nil || len(ch.SetCookie) != 1 {
			t.Fatalf("Commit: %v, %v", ch.SetCookie, err)
		}
		return strings.SplitN(ch.SetCookie[0], ";", 2)[0]
	}
	// "Send code": a form page with a token, and the code.
	s := cur.Load(ctx)
	formToken := s.CSRFToken()
	s.SetOnce("sms", "424242", 5*time.Minute)
	preLogin := commit(s)
	clk.Advance(time.Second)

	// "Verify": the POST.
	s = cur.Load(ctx, preLogin)
	if err := s.CheckCSRFToken(formToken); err != nil {
		t.Fatalf("form token: %v", err)
	}
	if code, err := TakeOnce[string](ctx, s, "sms"); err != nil || code != "424242" {
		t.Fatalf("TakeOnce: %q, %v", code, err)
	}
	s.Renew()
	s.Set("user", "alice")
	afterToken := s.CSRFToken()
	loggedIn := commit(s)
	clk.Advance(time.Second)

	replay := cur.Load(ctx, preLogin)
	if !errors.Is(replay.OpenError(), ErrRevoked) {
		t.Errorf("the pre-login cookie still opens: %v", replay.OpenError())
	}
	if _, err := TakeOnce[string](ctx, replay, "sms"); err == nil {
		t.Error("the code was taken again from the pre-login cookie")
	}
	s = cur.Load(ctx, loggedIn)
	if GetOr(s, "user", "") != "alice" {
		t.Fatalf("logged-in cookie: %v", s.OpenError())
	}
	if err := s.CheckCSRFToken(formToken); !errors.Is(err, ErrCSRF) {
		t.Errorf("the pre-login token passes after login: %v", err)
	}
	if err := s.CheckCSRFToken(afterToken); err != nil {
		t.Errorf("the post-login token: %v", err)
	}
}

// Load with several Cookie header lines (HTTP/2 sends one per cookie): a
// planted cookie in the first line does not hide the genuine one in a
// later line, and nothing is deleted on the way.
func TestSeam_LoadSeveralHeaderLines(t *testing.T) {
	c, _ := newTestCodec(t, Config{Name: DefaultHostName})
	v := mwSealed(t, c, "user", "alice")
	s := c.Load(context.Background(), "theme=dark; "+c.Name()+"=k1.AAAA", "lang=en", c.Name()+"="+v)
	if GetOr(s, "user", "") != "alice" {
		t.Fatalf("the genuine cookie in a later line did not open: %v", s.OpenError())
	}
	s.Set("seen", true)
	ch, err := c.Commit(s, http.StatusOK)
	if err != nil || len(ch.SetCookie) != 1 || strings.Contains(ch.SetCookie[0], "Max-Age=0") {
		t.Errorf("Commit: %v, %v; want one fresh cookie, no deletion", ch.SetCookie, err)
	}
}

// A logout on a server whose clock is behind: the request's cookie was
// refused only as sealed in the future, and the handler calls Flush. The
// deletion must go out (the user asked to leave), where a mere read or a
// filled session must not touch the cookie.
func TestSeam_ClockSkewLogoutDeletes(t *testing.T) {
	kr := newKeyring(t, "k1")
	server, _ := newTestCodec(t, Config{Keys: kr, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ahead, aheadClk := newTestCodec(t, Config{Keys: kr})
	aheadClk.Advance(2 * time.Minute)
	v := mwSealed(t, ahead, "user", "alice")
	r := pcServe(t, server, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Flush()
	}), "/", pcHeader("session", v))
	r.wantDeleted(t, "session")
}

// DecodeExpired + a v1 cookie past its deadline: the session comes back
// with ErrExpired (for the CLI's open -allow-expired), and RejectV1 still
// refuses it outright.
func TestSeam_DecodeExpiredV1(t *testing.T) {
	k := wfKey("k1")
	clk := newTestClock()
	c := wfCodec(t, "session", Config{Keys: wfKeyring(t, k), Now: clk.Now})
	v1, _ := wfV1Cookie(t, c, k)
	clk.Advance(DefaultMaxAge + time.Hour)
	s, err := c.DecodeExpired(v1)
	if s == nil || !errors.Is(err, ErrExpired) || GetOr(s, "user", "") != "ann" {
		t.Fatalf("DecodeExpired of an expired v1 cookie: %v, %v", s, err)
	}
	strict := wfCodec(t, "session", Config{Keys: wfKeyring(t, k), Now: clk.Now, RejectV1: true})
	if s, err := strict.DecodeExpired(v1); s != nil || !errors.Is(err, ErrInvalid) {
		t.Errorf("RejectV1: %v, %v; want ErrInvalid", s, err)
	}
}

// MaxExpiry + RevokeSubject: with MaxExpiry set, no session opens more
// than MaxExpiry after its last seal, so "log out everywhere" can hold for
// every session of the subject, also one whose SetExpiry reaches past
// MaxAge and that sits unused while MaxAge passes.
func TestSeam_RevokeSubjectCoversMaxExpiry(t *testing.T) {
	subject := func(s *Session) string { return GetOr(s, "user", "") }
	clk := newTestClock()
	c, _ := newTestCodec(t, Config{
		Now: clk.Now, MaxAge: time.Hour, MaxExpiry: 24 * time.Hour,
		Guard: NewMemoryGuard(MemoryGuardConfig{Now: clk.Now}), Subject: subject,
	})
	s := c.New()
	s.Set("user", "alice")
	s.SetExpiry(24 * time.Hour) // "remember me"
	v := mustEncode(t, c, s)
	clk.Advance(time.Minute)
	if err := c.RevokeSubject(context.Background(), "alice", clk.Now()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Hour) // past MaxAge, well within the cookie's life
	if got, err := c.Decode(v); !errors.Is(err, ErrRevoked) {
		t.Errorf("a revoked subject's remember-me session opens after MaxAge: %v, %v", got, err)
	}
}

// Zero values give errors that say what is wrong, never a panic: an empty
// Keyring, no Keyring, a nil *MemoryGuard (TestSeam_ZeroMemoryGuard).
func TestSeam_ZeroValuesClearErrors(t *testing.T) {
	if _, err := NewCodec(Config{}); err == nil || !strings.Contains(err.Error(), "Config.Keys is required") {
		t.Errorf("no keys: %v", err)
	}
	if _, err := NewCodec(Config{Keys: &Keyring{}}); err == nil || !strings.Contains(err.Error(), "no key") {
		t.Errorf("an empty Keyring: %v; want it said that the keyring holds no key", err)
	}
}

// Flashes + categories + Flashes, across a round trip: each reader takes
// only what is its own (its category, its type) and leaves the rest, in
// order, for the next.
func TestSeam_FlashReaders(t *testing.T) {
	type note struct{ Level, Text string }
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	s.AddFlash("plain")
	s.AddFlash(note{"info", "saved"})
	s.AddFlash([]any{"warning", 3}) // looks like [category, value]; is not one
	s.AddFlashTo("error", note{"error", "bad password"})
	s.AddFlash(int8(7))
	s = mustRoundTrip(t, c, s)

	if got := Flashes[int](s); len(got) != 1 || got[0] != 7 {
		t.Errorf("Flashes[int] = %v", got)
	}
	if got := FlashesFrom[note](s, "error"); len(got) != 1 || got[0].Text != "bad password" {
		t.Errorf("FlashesFrom[note](error) = %v", got)
	}
	if got := Flashes[note](s); len(got) != 1 || got[0].Text != "saved" {
		t.Errorf("Flashes[note] = %v", got)
	}
	got := s.Flashes()
	if len(got) != 2 || got[0] != "plain" {
		t.Fatalf("Flashes() = %#v; want the string and the pair, in order", got)
	}
	if pair, _ := got[1].([]any); len(pair) != 2 || pair[0] != "warning" || pair[1] != int64(3) {
		t.Errorf("the [string, string] flash came back as %#v", got[1])
	}
	if v, err := c.Encode(s); err != nil || v != "" {
		t.Errorf("every flash read: Encode = %q, %v; want no cookie", v, err)
	}
}

// The Get[T] doc's warning holds: a struct T takes a slice value of
// fitting elements, so Flashes[struct] also takes such flashes.
func TestSeam_GetStructFromArray(t *testing.T) {
	type pair struct{ A, B string }
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	s.Set("p", []string{"x", "y"})
	if got, ok := Get[pair](s, "p"); !ok || got != (pair{"x", "y"}) {
		t.Errorf("Get[pair] of a []string = %v, %v; the doc says it decodes field by field", got, ok)
	}
}

// The __Host- default name with SameSite=None (a cross-site embed): the
// cookie keeps every attribute a __Host- cookie needs, and chunks too.
func TestSeam_HostDefaultSameSiteNone(t *testing.T) {
	c, err := NewCodec(Config{Keys: newKeyring(t, "k1"), SameSite: http.SameSiteNoneMode, MaxCookies: 3})
	if err != nil {
		t.Fatal(err)
	}
	s := c.Load(context.Background())
	s.Set("blob", lgBlob(9, 5000))
	ch, err := c.Commit(s, http.StatusOK)
	if err != nil || len(ch.SetCookie) < 2 {
		t.Fatalf("Commit: %d cookies, %v; want a chunked session", len(ch.SetCookie), err)
	}
	for _, line := range ch.SetCookie {
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(ck.Name, DefaultHostName) || !ck.Secure || ck.Path != "/" || ck.Domain != "" || ck.SameSite != http.SameSiteNoneMode {
			t.Errorf("%q: not a valid __Host- cookie with SameSite=None", line)
		}
	}
	if _, err := NewCodec(Config{Keys: newKeyring(t, "k1"), SameSite: http.SameSiteNoneMode, Insecure: true}); err == nil {
		t.Error("SameSite=None without Secure was accepted")
	}
}

// panickyGuard is a Guard whose RevokedAt has a bug.
type panickyGuard struct{ *MemoryGuard }

func (panickyGuard) RevokedAt(context.Context, ...string) ([]time.Time, error) {
	panic("guard bug")
}

// A Guard whose revocation check panics is a Guard that cannot answer:
// the session opens (fail open, as for an unreachable store) and the
// failure is logged, rather than the genuine cookie being refused as a
// payload that "does not decode" and deleted.
func TestSeam_GuardPanicFailsOpen(t *testing.T) {
	var logs strings.Builder
	c, _ := newTestCodec(t, Config{
		Guard:  panickyGuard{NewMemoryGuard(MemoryGuardConfig{})},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	v := mwSealed(t, c, "user", "alice")
	s, err := c.Decode(v)
	if err != nil || GetOr(s, "user", "") != "alice" {
		t.Fatalf("Decode with a panicking Guard: %v", err)
	}
	if !strings.Contains(logs.String(), "guard unavailable") || !strings.Contains(logs.String(), "panicked") {
		t.Errorf("log %q: want the guard failure", logs.String())
	}
}

// Typed Get of values from a v1 cookie (the previous release wrote the
// same msgpack): the untyped Get gives int64 and UTC times, Get[T]
// converts to the narrow types the previous release's callers asked for.
func TestSeam_TypedGetFromV1(t *testing.T) {
	k := wfKey("k1")
	c := wfCodec(t, "session", Config{Keys: wfKeyring(t, k)})
	s := c.New()
	s.Set("n", int8(-5))
	s.Set("u", uint16(300))
	s.Set("at", time.Date(2026, 5, 6, 7, 8, 9, 10, time.FixedZone("X", 3600)))
	v1 := wfSealV1(k, c.Name(), c.unixNow(), wfRandIV(t), wfV1Payload(t, wfPayload(t, c, s)))
	got := mustDecode(t, c, v1)
	if v, _ := got.Get("n"); v != int64(-5) {
		t.Errorf("Get(n) = %#v, want int64(-5)", v)
	}
	if v, ok := Get[int8](got, "n"); !ok || v != -5 {
		t.Errorf("Get[int8](n) = %v, %v", v, ok)
	}
	if v, ok := Get[uint8](got, "u"); ok {
		t.Errorf("Get[uint8](300) = %v, true; want false", v)
	}
	if v, ok := Get[time.Time](got, "at"); !ok || v.Location() != time.UTC || !v.Equal(time.Date(2026, 5, 6, 6, 8, 9, 10, time.UTC)) {
		t.Errorf("Get[time.Time] = %v, %v", v, ok)
	}
}

// SetOnce, then Set of the same key: the key now holds a plain value (Set
// replaces "any value and TTL it had"), so TakeOnce finds no one-time
// value there, and Get still reads it.
func TestSeam_SetAfterSetOnceIsPlain(t *testing.T) {
	clk := newTestClock()
	c, _ := newTestCodec(t, Config{Guard: NewMemoryGuard(MemoryGuardConfig{Now: clk.Now}), Now: clk.Now})
	s := c.New()
	s.SetOnce("code", "111111", 5*time.Minute)
	s.Set("code", "plain")
	s = mustRoundTrip(t, c, s)
	if _, err := TakeOnce[string](context.Background(), s, "code"); !errors.Is(err, ErrNoValue) {
		t.Errorf("TakeOnce of a value Set over a one-time one: %v; want ErrNoValue", err)
	}
	if GetOr(s, "code", "") != "plain" {
		t.Error("the plain value is gone")
	}
}
