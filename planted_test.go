package cookiesession

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Planted cookies (issue 13, item 1): a __Host- default name, every
// candidate tried, no deletion that can only hurt the genuine cookie, and
// the migration from the old default name.

// pcResp is what one request through the middleware gave.
type pcResp struct {
	status int
	body   string
	set    []*http.Cookie
}

// pcServe sends one request with the given Cookie header to c's middleware
// around mwApp (or h, if not nil).
func pcServe(t *testing.T, c *Codec, h http.Handler, target, cookieHeader string) pcResp {
	t.Helper()
	if h == nil {
		h = mwApp()
	}
	req := httptest.NewRequest(http.MethodGet, "https://example.com"+target, nil)
	if cookieHeader != "" {
		req.Header.Set("Cookie", cookieHeader)
	}
	rec := httptest.NewRecorder()
	c.Middleware(h).ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return pcResp{res.StatusCode, string(b), res.Cookies()}
}

// find returns the Set-Cookie for name, or nil.
func (r pcResp) find(name string) *http.Cookie {
	for _, ck := range r.set {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// wantDeleted fails unless the response deletes each of names.
func (r pcResp) wantDeleted(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if ck := r.find(n); ck == nil || ck.Value != "" || ck.MaxAge >= 0 {
			t.Errorf("no deletion of %q among %v", n, r.names())
		}
	}
}

func (r pcResp) names() []string {
	var out []string
	for _, ck := range r.set {
		out = append(out, ck.Name)
	}
	return out
}

// pcHeader joins name=value pairs into a Cookie header.
func pcHeader(pairs ...string) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		parts = append(parts, pairs[i]+"="+pairs[i+1])
	}
	return strings.Join(parts, "; ")
}

func TestName_DefaultIsHostPrefixedWhenAllowed(t *testing.T) {
	kr := newKeyring(t, "k1")
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"defaults", Config{}, DefaultHostName},
		{"Path /", Config{Path: "/"}, DefaultHostName},
		{"Insecure", Config{Insecure: true}, DefaultName},
		{"Domain", Config{Domain: "example.com"}, DefaultName},
		{"Path /app", Config{Path: "/app"}, DefaultName},
		{"explicit session", Config{Name: DefaultName}, DefaultName},
		{"explicit sid", Config{Name: "sid"}, "sid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Keys = kr
			c, err := NewCodec(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name() != tc.want {
				t.Fatalf("Name() = %q, want %q", c.Name(), tc.want)
			}
			if (c.oldName != nil) != (tc.want == DefaultHostName) {
				t.Errorf("old-name reader present: %v", c.oldName != nil)
			}
			s := c.New()
			s.Set("user", "alice")
			ck, err := c.Cookie(s)
			if err != nil {
				t.Fatal(err)
			}
			// What browsers demand of a __Host- cookie.
			if ck.Name == DefaultHostName && (!ck.Secure || ck.Path != "/" || ck.Domain != "") {
				t.Errorf("__Host- cookie %q lacks Secure, Path=/ or has a Domain", ck.String())
			}
			if got, err := c.DecodeCookies([]*http.Cookie{ck}); err != nil || GetOr(got, "user", "") != "alice" {
				t.Errorf("round trip: %v, %v", got, err)
			}
		})
	}
}

// TestPlanted_JunkBeforeTheGenuineCookie is the attack on a cookie
// without the __Host- prefix (Insecure here; Domain or a Path other than /
// give the same up): four junk cookies with the session's name sent before
// the genuine one. Before the fix the genuine one was never tried and the
// response deleted it.
func TestPlanted_JunkBeforeTheGenuineCookie(t *testing.T) {
	c, clk, lg := mwNew(t, Config{Insecure: true, MaxAge: time.Hour})
	if c.Name() != DefaultName {
		t.Fatalf("name %q", c.Name())
	}
	other, _ := newTestCodec(t, Config{Insecure: true}) // another key "k1"
	expired := mwSealed(t, c, "user", "old")
	clk.Advance(2 * time.Hour) // expired is now past MaxAge
	genuine := mwSealed(t, c, "user", "victim")
	junk := []string{
		"k1.AAAA",
		mwSealed(t, other, "user", "attacker"),
		expired,
		genuine[:len(genuine)-8] + "AAAAAAA=",
	}
	var pairs []string
	for _, j := range junk {
		pairs = append(pairs, "session", j)
	}
	attack := pcHeader(append(pairs, "session", genuine)...)

	// Middleware: the genuine session opens; nothing is deleted.
	r := pcServe(t, c, nil, "/get?k=user", attack)
	if r.body != "victim" || len(r.set) != 0 {
		t.Fatalf("body %q, Set-Cookie %v; want the victim's session and no cookie", r.body, r.names())
	}
	// DecodeCookies agrees.
	cks, err := http.ParseCookie(attack)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := c.DecodeCookies(cks); err != nil || GetOr(s, "user", "") != "victim" {
		t.Fatalf("DecodeCookies: %v, %v", s, err)
	}

	// The same junk without the genuine cookie: several candidates and none
	// opens, so nothing is deleted (a deletion could remove only a genuine
	// host-only cookie; the attacker's domain cookies would survive).
	lg.buf.Reset()
	r = pcServe(t, c, nil, "/get?k=user", pcHeader(pairs...))
	if r.body != "<none>" || len(r.set) != 0 {
		t.Fatalf("junk only: body %q, Set-Cookie %v; want an empty session and no cookie", r.body, r.names())
	}
	if len(lg.find(t, slog.LevelWarn, "cookiesession: session cookie rejected")) != 1 {
		t.Errorf("junk only: want one rejection logged, got %q", lg.String())
	}
	// Identical copies are one candidate: a lone bad cookie is deleted.
	for _, h := range []string{pcHeader("session", junk[0]), pcHeader("session", junk[0], "session", junk[0])} {
		r = pcServe(t, c, nil, "/get?k=user", h)
		if r.body != "<none>" {
			t.Fatalf("%q: body %q", h, r.body)
		}
		r.wantDeleted(t, "session")
	}
}

// TestPlanted_JunkChunkCookie is the second attack: with
// MaxCookies > 1, one junk NAME.1 next to a genuine one-cookie session, or
// before the genuine chunk of a chunked one.
func TestPlanted_JunkChunkCookie(t *testing.T) {
	c, _, _ := mwNew(t, Config{Insecure: true, MaxCookies: 4})
	small := mwSealed(t, c, "user", "victim")
	r := pcServe(t, c, nil, "/get?k=user", pcHeader("session.1", "junk", "session", small))
	if r.body != "victim" || len(r.set) != 0 {
		t.Fatalf("stray NAME.1: body %q, Set-Cookie %v; want the victim's session and no cookie", r.body, r.names())
	}
	// When the session is written, the stray chunk name is deleted: that
	// can remove only a host-only cookie of that name, never the session.
	r = pcServe(t, c, nil, "/set?k=x&v=1", pcHeader("session.1", "junk", "session", small))
	if ck := r.find("session"); ck == nil || ck.Value == "" {
		t.Fatalf("set: Set-Cookie %v, want the session resealed", r.names())
	}
	r.wantDeleted(t, "session.1")

	big := c.New()
	big.Set("user", "victim")
	big.Set("blob", lgBlob(3, 6000))
	set := lgSetCookies(lgMustCookies(t, c, big))
	if len(set) < 2 {
		t.Fatalf("setup: %d cookies", len(set))
	}
	forged := strings.Repeat("A", len(set[1].Value)) // the genuine chunk's length
	pairs := []string{set[0].Name, set[0].Value, "session.1", forged}
	for _, ck := range set[1:] {
		pairs = append(pairs, ck.Name, ck.Value)
	}
	r = pcServe(t, c, nil, "/get?k=user", pcHeader(pairs...))
	if r.body != "victim" || len(r.set) != 0 {
		t.Fatalf("forged NAME.1 first: body %q, Set-Cookie %v; want the victim's session", r.body, r.names())
	}
	// Without the genuine NAME.1, nothing opens and, NAME.1 having been
	// sent once, the set is deleted as before.
	r = pcServe(t, c, nil, "/get?k=user", pcHeader(pairs[:4]...))
	if r.body != "<none>" {
		t.Fatalf("forged NAME.1 alone: body %q", r.body)
	}
}

// pcOldNameSetup returns a codec as an upgraded application builds it (no
// Name: __Host-session) and one sealing as before the upgrade (the old
// default name "session"), sharing keys and clock.
func pcOldNameSetup(t *testing.T, cfg Config) (cur, old *Codec, lg *mwLog) {
	t.Helper()
	lg = &mwLog{}
	cfg.Keys = newKeyring(t, "k1")
	cfg.Now = newTestClock().Now
	cfg.Logger = slog.New(slog.NewJSONHandler(lg, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cur, err := NewCodec(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Name = DefaultName
	if old, err = NewCodec(cfg); err != nil {
		t.Fatal(err)
	}
	if cur.Name() != DefaultHostName || old.Name() != DefaultName {
		t.Fatalf("names %q, %q", cur.Name(), old.Name())
	}
	return cur, old, lg
}

func TestMigration_OldNameCookieIsResealedUnderTheNewName(t *testing.T) {
	cur, old, lg := pcOldNameSetup(t, Config{})
	s := old.New()
	s.Set("user", "alice")
	id := s.ID()
	v := mustEncode(t, old, s)

	r := pcServe(t, cur, nil, "/get?k=user", pcHeader("session", v))
	if r.body != "alice" {
		t.Fatalf("body %q, want the old-name session", r.body)
	}
	ck := r.find(DefaultHostName)
	if ck == nil || ck.Value == "" || !ck.Secure || ck.Path != "/" || ck.Domain != "" {
		t.Fatalf("Set-Cookie %v: want a __Host-session cookie", r.names())
	}
	r.wantDeleted(t, "session")
	if del := r.find("session"); !del.Secure || del.Path != "/" {
		t.Errorf("old-name deletion %q does not match the old-name cookie's attributes", del.String())
	}
	got, err := cur.Decode(ck.Value)
	if err != nil || GetOr(got, "user", "") != "alice" || got.ID() != id {
		t.Fatalf("the new cookie: %v, %v; want alice under the same ID", got, err)
	}
	if l := lg.String(); l != "" {
		t.Errorf("logged %q for a migration", l)
	}
	// The next request, with the new cookie only, changes nothing.
	if r := pcServe(t, cur, nil, "/get?k=user", pcHeader(DefaultHostName, ck.Value)); r.body != "alice" || len(r.set) != 0 {
		t.Errorf("after migration: %q, %v", r.body, r.names())
	}
}

func TestMigration_Rules(t *testing.T) {
	cur, old, lg := pcOldNameSetup(t, Config{})
	oldCookie := mwSealed(t, old, "user", "alice")
	current := mwSealed(t, cur, "user", "bob")

	t.Run("the __Host- cookie wins and the old-name one is left alone", func(t *testing.T) {
		r := pcServe(t, cur, nil, "/get?k=user", pcHeader("session", oldCookie, DefaultHostName, current))
		if r.body != "bob" || len(r.set) != 0 {
			t.Fatalf("body %q, Set-Cookie %v", r.body, r.names())
		}
	})
	t.Run("a 5xx keeps the old-name cookie for the next try", func(t *testing.T) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := FromContext(r.Context())
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, GetOr(s, "user", "<none>"))
		})
		r := pcServe(t, cur, h, "/", pcHeader("session", oldCookie))
		if r.body != "alice" || len(r.set) != 0 {
			t.Fatalf("body %q, Set-Cookie %v; want no cookie on a 5xx", r.body, r.names())
		}
	})
	t.Run("logout from an old-name session deletes the old-name cookie", func(t *testing.T) {
		r := pcServe(t, cur, nil, "/flush", pcHeader("session", oldCookie))
		r.wantDeleted(t, "session")
		for _, ck := range r.set {
			if ck.Value != "" {
				t.Errorf("sets %s after a flush", ck.Name)
			}
		}
	})
	t.Run("an explicit Name turns the migration off", func(t *testing.T) {
		explicit, err := NewCodec(Config{Name: DefaultHostName, Keys: cur.keys, Now: cur.now})
		if err != nil {
			t.Fatal(err)
		}
		r := pcServe(t, explicit, nil, "/get?k=user", pcHeader("session", oldCookie))
		if r.body != "<none>" || len(r.set) != 0 {
			t.Fatalf("body %q, Set-Cookie %v; want the old-name cookie ignored", r.body, r.names())
		}
	})
	t.Run("a bad old-name cookie is deleted, several are not", func(t *testing.T) {
		lg.buf.Reset()
		r := pcServe(t, cur, nil, "/get?k=user", pcHeader("session", "k1.AAAA"))
		if r.body != "<none>" {
			t.Fatalf("body %q", r.body)
		}
		r.wantDeleted(t, "session")
		if recs := lg.find(t, slog.LevelWarn, "cookiesession: session cookie rejected"); len(recs) != 1 || recs[0]["cookie"] != "session" {
			t.Errorf("want one rejection logged under the old-name name, got %q", lg.String())
		}
		r = pcServe(t, cur, nil, "/get?k=user", pcHeader("session", "k1.AAAA", "session", "k1.BBBB"))
		if r.body != "<none>" || len(r.set) != 0 {
			t.Fatalf("two bad: body %q, Set-Cookie %v", r.body, r.names())
		}
	})
	t.Run("NotBefore applies to old-name cookies", func(t *testing.T) {
		cur.SetNotBefore(cur.now().Add(time.Second))
		defer cur.SetNotBefore(time.Time{})
		if r := pcServe(t, cur, nil, "/get?k=user", pcHeader("session", oldCookie)); r.body != "<none>" {
			t.Fatalf("body %q, want the revoked old-name session refused", r.body)
		}
	})
	t.Run("Load and Commit", func(t *testing.T) {
		ls := cur.Load(context.Background(), pcHeader("session", oldCookie))
		if GetOr(ls, "user", "") != "alice" {
			t.Fatal("Load did not open the old-name cookie")
		}
		ch, err := cur.Commit(ls, http.StatusOK)
		if err != nil {
			t.Fatal(err)
		}
		var r pcResp
		for _, line := range ch.SetCookie {
			ck, err := http.ParseSetCookie(line)
			if err != nil {
				t.Fatal(err)
			}
			r.set = append(r.set, ck)
		}
		if ck := r.find(DefaultHostName); ck == nil || ck.Value == "" {
			t.Fatalf("Commit: %v, want __Host-session set", r.names())
		}
		r.wantDeleted(t, "session")
		if ch, _ := cur.Commit(ls, http.StatusOK); len(ch.SetCookie) != 0 {
			t.Errorf("a second Commit sends %q again", ch.SetCookie)
		}
	})
	t.Run("DecodeCookies and Cookies", func(t *testing.T) {
		s, err := cur.DecodeCookies([]*http.Cookie{{Name: "session", Value: oldCookie}})
		if err != nil || GetOr(s, "user", "") != "alice" || !s.Modified() {
			t.Fatalf("DecodeCookies: %v, %v (modified %v)", s, err, s != nil && s.Modified())
		}
		cks, err := cur.Cookies(s)
		if err != nil {
			t.Fatal(err)
		}
		r := pcResp{set: cks}
		if ck := r.find(DefaultHostName); ck == nil || ck.Value == "" {
			t.Fatalf("Cookies: %v, want __Host-session set", r.names())
		}
		r.wantDeleted(t, "session")
	})
}

func TestMigration_ChunkedOldNameSession(t *testing.T) {
	cur, old, _ := pcOldNameSetup(t, Config{MaxCookies: 4})
	s := old.New()
	s.Set("user", "alice")
	s.Set("blob", lgBlob(8, 6000))
	set := lgSetCookies(lgMustCookies(t, old, s))
	if len(set) < 2 {
		t.Fatalf("setup: %d cookies", len(set))
	}
	var pairs, names []string
	for _, ck := range set {
		pairs, names = append(pairs, ck.Name, ck.Value), append(names, ck.Name)
	}
	r := pcServe(t, cur, nil, "/get?k=user", pcHeader(pairs...))
	if r.body != "alice" {
		t.Fatalf("body %q", r.body)
	}
	r.wantDeleted(t, names...)
	var fresh []*http.Cookie
	for _, ck := range r.set {
		if ck.Value != "" {
			if !strings.HasPrefix(ck.Name, DefaultHostName) {
				t.Fatalf("sets %q", ck.Name)
			}
			fresh = append(fresh, &http.Cookie{Name: ck.Name, Value: ck.Value})
		}
	}
	got, err := cur.DecodeCookies(fresh)
	if err != nil || GetOr(got, "blob", "") != lgBlob(8, 6000) {
		t.Fatalf("resealed chunks: %v", err)
	}
}

// TestClockSkew_FutureCookieIsKept (item 6): a cookie sealed by a server
// whose clock runs two minutes ahead is refused as ErrClockSkew, which is
// not ErrInvalid, and the middleware neither opens nor deletes it.
func TestClockSkew_FutureCookieIsKept(t *testing.T) {
	kr := newKeyring(t, "k1")
	var logs bytes.Buffer
	server, clk := newTestCodec(t, Config{Keys: kr, MaxCookies: 4, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ahead, aheadClk := newTestCodec(t, Config{Keys: kr, MaxCookies: 4})
	aheadClk.Advance(2 * time.Minute)
	v := mwSealed(t, ahead, "user", "alice")

	s, err := server.Decode(v)
	if s != nil || !errors.Is(err, ErrClockSkew) || errors.Is(err, ErrInvalid) || errors.Is(err, ErrExpired) {
		t.Fatalf("Decode: %v, %v; want nil and ErrClockSkew alone", s, err)
	}
	if _, err := server.DecodeCookies([]*http.Cookie{{Name: "session", Value: v}}); !errors.Is(err, ErrClockSkew) {
		t.Fatalf("DecodeCookies: %v", err)
	}
	r := pcServe(t, server, nil, "/get?k=user", pcHeader("session", v))
	if r.body != "<none>" || len(r.set) != 0 {
		t.Fatalf("middleware: body %q, Set-Cookie %v; want an empty session and no deletion", r.body, r.names())
	}
	if l := logs.String(); !strings.Contains(l, "sealed in the future") || !strings.Contains(l, "clock") || strings.Contains(l, v[3:20]) {
		t.Errorf("log %q: want a clock-skew record without the value", l)
	}
	// A skewed chunked session: none of its cookies is deleted either.
	big := ahead.New()
	big.Set("blob", lgBlob(2, 6000))
	var pairs []string
	for _, ck := range lgSetCookies(lgMustCookies(t, ahead, big)) {
		pairs = append(pairs, ck.Name, ck.Value)
	}
	if r := pcServe(t, server, nil, "/get?k=blob", pcHeader(pairs...)); len(r.set) != 0 {
		t.Fatalf("chunked: Set-Cookie %v, want none", r.names())
	}
	// The cookie was fine: once this server's clock catches up, it opens.
	clk.Advance(time.Minute)
	if r := pcServe(t, server, nil, "/get?k=user", pcHeader("session", v)); r.body != "alice" {
		t.Fatalf("clock caught up: body %q", r.body)
	}
}
