package cookiesession

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// mwCkConfig returns a Config with a keyring and cfg's cookie attributes.
func mwCkConfig(t *testing.T, cfg Config) Config {
	t.Helper()
	if cfg.Keys == nil {
		cfg.Keys = newKeyring(t, "k1")
	}
	return cfg
}

func TestCookie_NewCodecRejectsAttributes(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"__Host- with Domain", Config{Name: "__Host-session", Domain: "example.com"}},
		{"__Host- with Path /x", Config{Name: "__Host-session", Path: "/x"}},
		{"__Host- with Insecure", Config{Name: "__Host-session", Insecure: true}},
		{"__host- (any case) with Insecure", Config{Name: "__host-session", Insecure: true}},
		{"__Secure- with Insecure", Config{Name: "__Secure-session", Insecure: true}},
		{"SameSite None with Insecure", Config{SameSite: http.SameSiteNoneMode, Insecure: true}},
		{"SameSite out of range", Config{SameSite: http.SameSite(99)}},
		{"SameSite negative", Config{SameSite: http.SameSite(-1)}},

		{"name with space", Config{Name: "a b"}},
		{"name with ;", Config{Name: "a;b"}},
		{"name with =", Config{Name: "a=b"}},
		{"name with ,", Config{Name: "a,b"}},
		{"name with quote", Config{Name: `a"b`}},
		{"non-ASCII name", Config{Name: "é"}},
		{"name with tab", Config{Name: "a\tb"}},
		{"name with NUL", Config{Name: "a\x00b"}},
		{"name with (", Config{Name: "(a)"}},

		{"Domain with space", Config{Domain: "exa mple.com"}},
		{"Domain with ;", Config{Domain: "example.com;Secure"}},
		{"Domain with empty label", Config{Domain: "example..com"}},
		{"Domain with _", Config{Domain: "ex_ample.com"}},
		{"Domain starting with -", Config{Domain: "-example.com"}},
		{"Domain non-ASCII", Config{Domain: "exämple.com"}},
		{"Domain all digits, not an IP", Config{Domain: "123.456"}},
		{"Domain too long", Config{Domain: strings.Repeat("a", 256)}},

		{"Path with ;", Config{Path: "/a;b"}},
		{"Path with NUL", Config{Path: "/a\x00b"}},
		{"Path with newline", Config{Path: "/a\nb"}},
		{"Path with DEL", Config{Path: "/a\x7fb"}},
		{"Path non-ASCII", Config{Path: "/é"}},
		{"Path relative", Config{Path: "app"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCodec(mwCkConfig(t, tc.cfg))
			if err == nil {
				ck, _ := c.Cookie(mwNewSessionWith(c, "k", "v"))
				t.Fatalf("NewCodec accepted %+v; its cookie would be %q", tc.cfg, ck.String())
			}
			if c != nil {
				t.Error("a non-nil Codec came with the error")
			}
			if !strings.HasPrefix(err.Error(), "cookiesession: ") {
				t.Errorf("error %q does not name the package", err)
			}
		})
	}
}

// mwNewSessionWith returns a new session of c holding k=v.
func mwNewSessionWith(c *Codec, k string, v any) *Session {
	s := c.New()
	s.Set(k, v)
	return s
}

func TestCookie_NewCodecAcceptsAttributes(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // in the cookie's String()
	}{
		{"defaults", Config{}, "session="},
		{"__Host-session with defaults", Config{Name: "__Host-session"}, "__Host-session="},
		{"__Secure- with Domain and Path", Config{Name: "__Secure-s", Domain: "example.com", Path: "/app/"}, "; Path=/app/; Domain=example.com"},
		{"leading-dot Domain", Config{Domain: ".example.com"}, "; Domain=example.com"},
		{"IPv4 Domain", Config{Domain: "192.0.2.1"}, "; Domain=192.0.2.1"},
		{"Insecure", Config{Insecure: true}, "; HttpOnly; SameSite=Lax"},
		{"SameSite None, Secure", Config{SameSite: http.SameSiteNoneMode}, "; SameSite=None"},
		{"SameSite Strict", Config{SameSite: http.SameSiteStrictMode}, "; SameSite=Strict"},
		{"token punctuation in the name", Config{Name: "s!#$%&'*+-.^_`|~1"}, "s!#$%&'*+-.^_`|~1="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCodec(mwCkConfig(t, tc.cfg))
			if err != nil {
				t.Fatalf("NewCodec: %v", err)
			}
			ck, err := c.Cookie(mwNewSessionWith(c, "k", "v"))
			if err != nil {
				t.Fatal(err)
			}
			if err := ck.Valid(); err != nil {
				t.Errorf("cookie %q is not Valid: %v", ck, err)
			}
			s := ck.String()
			if !strings.Contains(s, tc.want) {
				t.Errorf("cookie %q lacks %q", s, tc.want)
			}
			// What goes out must come back intact through net/http.
			back, err := http.ParseSetCookie(s)
			if err != nil {
				t.Fatalf("ParseSetCookie(%q): %v", s, err)
			}
			if back.Name != ck.Name || back.Value != ck.Value || back.Path != ck.Path || back.Secure != ck.Secure || back.SameSite != ck.SameSite {
				t.Errorf("round trip through Set-Cookie changed the cookie: %q", s)
			}
		})
	}
}

func TestCookie_CodecCookieForSessionWithData(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := mwNewSessionWith(c, "user", "ann")
	ck, err := c.Cookie(s)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Name != "session" || ck.Path != "/" || ck.Domain != "" || !ck.HttpOnly || !ck.Secure ||
		ck.SameSite != http.SameSiteLaxMode || ck.MaxAge != 1209600 || !ck.Expires.IsZero() {
		t.Errorf("cookie %+v", ck)
	}
	back, err := c.Decode(ck.Value)
	if err != nil {
		t.Fatalf("Decode of Cookie's value: %v", err)
	}
	if v, _ := Get[string](back, "user"); v != "ann" {
		t.Errorf("user=%q", v)
	}
	str := ck.String()
	for _, want := range []string{"session=" + ck.Value, "; Path=/", "; Max-Age=1209600", "; HttpOnly", "; Secure", "; SameSite=Lax"} {
		if !strings.Contains(str, want) {
			t.Errorf("%q lacks %q", str, want)
		}
	}
	if strings.Contains(str, "Expires") || strings.Contains(str, "Domain") {
		t.Errorf("%q has attributes it should not", str)
	}

	t.Run("expiry policies", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			set    func(*Session)
			maxAge int
		}{
			{"SetExpiry 10m", func(s *Session) { s.SetExpiry(10 * time.Minute) }, 600},
			{"SetExpiry 1.5s rounds up", func(s *Session) { s.SetExpiry(1500 * time.Millisecond) }, 2},
			{"browser close", func(s *Session) { s.SetExpiry(0) }, 0},
		} {
			s := mwNewSessionWith(c, "k", "v")
			tc.set(s)
			ck, err := c.Cookie(s)
			if err != nil {
				t.Fatal(err)
			}
			if ck.MaxAge != tc.maxAge || !ck.Expires.IsZero() {
				t.Errorf("%s: MaxAge %d Expires %v, want %d and none", tc.name, ck.MaxAge, ck.Expires, tc.maxAge)
			}
			if tc.maxAge == 0 && strings.Contains(ck.String(), "Max-Age") {
				t.Errorf("%s: %q", tc.name, ck.String())
			}
		}
	})

	t.Run("custom attributes", func(t *testing.T) {
		c, _ := newTestCodec(t, Config{Name: "__Secure-sid", Domain: "example.com", Path: "/app/", SameSite: http.SameSiteStrictMode, MaxAge: time.Hour})
		ck, err := c.Cookie(mwNewSessionWith(c, "k", "v"))
		if err != nil {
			t.Fatal(err)
		}
		if ck.Name != "__Secure-sid" || ck.Domain != "example.com" || ck.Path != "/app/" || ck.SameSite != http.SameSiteStrictMode || ck.MaxAge != 3600 || !ck.Secure || !ck.HttpOnly {
			t.Errorf("cookie %q", ck.String())
		}
	})

	t.Run("nil session", func(t *testing.T) {
		if ck, err := c.Cookie(nil); err == nil || ck != nil {
			t.Errorf("Cookie(nil) = %v, %v; want an error", ck, err)
		}
	})
}

func TestCookie_CodecCookieDeletion(t *testing.T) {
	c, clk := newTestCodec(t, Config{Domain: "example.com", Path: "/app/", SameSite: http.SameSiteStrictMode})
	sealed := mustEncode(t, c, mwNewSessionWith(c, "user", "ann"))
	for _, tc := range []struct {
		name    string
		session func(t *testing.T) *Session
	}{
		{"new, empty", func(*testing.T) *Session { return c.New() }},
		{"flushed", func(t *testing.T) *Session {
			s, err := c.Decode(sealed)
			if err != nil {
				t.Fatal(err)
			}
			s.Flush()
			return s
		}},
		{"cleared", func(t *testing.T) *Session {
			s, err := c.Decode(sealed)
			if err != nil {
				t.Fatal(err)
			}
			s.Clear()
			return s
		}},
		{"last key deleted", func(t *testing.T) *Session {
			s, err := c.Decode(sealed)
			if err != nil {
				t.Fatal(err)
			}
			s.Delete("user")
			return s
		}},
		{"expired by SetExpiry(-1)", func(*testing.T) *Session {
			s := mwNewSessionWith(c, "k", "v")
			s.SetExpiry(-1)
			return s
		}},
		{"only key's TTL passed", func(*testing.T) *Session {
			s := c.New()
			s.SetWithTTL("otp", "1234", time.Second)
			clk.Advance(2 * time.Second)
			return s
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ck, err := c.Cookie(tc.session(t))
			if err != nil {
				t.Fatal(err)
			}
			if ck.Name != "session" || ck.Value != "" || ck.MaxAge >= 0 {
				t.Errorf("not a deletion: %+v", ck)
			}
			if ck.Path != "/app/" || ck.Domain != "example.com" || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
				t.Errorf("deletion does not match the cookie it deletes: %q", ck.String())
			}
			str := ck.String()
			for _, want := range []string{"session=;", "; Max-Age=0", "; Path=/app/", "; Domain=example.com", "; Expires=Thu, 01 Jan 1970 00:00:01 GMT"} {
				if !strings.Contains(str, want) {
					t.Errorf("%q lacks %q", str, want)
				}
			}
			if err := ck.Valid(); err != nil {
				t.Errorf("deletion cookie not Valid: %v", err)
			}
		})
	}
}

// validCookieName must agree with net/http, which sends and parses only
// token names: a name it refuses would be dropped from every Set-Cookie.
func TestCookie_ValidCookieNameMatchesNetHTTP(t *testing.T) {
	for b := 0; b < 256; b++ {
		name := "a" + string([]byte{byte(b)}) + "b"
		ours := validCookieName(name)
		theirs := (&http.Cookie{Name: name, Value: "x"}).Valid() == nil
		if ours != theirs {
			t.Errorf("name %q: validCookieName %v, http.Cookie.Valid %v", name, ours, theirs)
		}
	}
	if validCookieName("") {
		t.Error("the empty name is valid")
	}
}

// setCookieHeader skips http.Cookie.String's per-byte sanitising; what it
// writes must still parse to the same cookie, for every attribute set.
func TestCookie_SetCookieHeaderMatchesNetHTTP(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Insecure: true},
		{Name: "__Host-s", SameSite: http.SameSiteStrictMode},
		{Name: "sid", Path: "/app/", Domain: "example.com", SameSite: http.SameSiteNoneMode},
	} {
		c, _ := newTestCodec(t, cfg)
		s := c.New()
		s.Set("user", "alice")
		want, err := c.Cookie(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, maxAge := range []int64{int64(want.MaxAge), 0} {
			want.MaxAge = int(maxAge)
			got, err := http.ParseSetCookie(c.setCookieHeader(want.Name, want.Value, maxAge))
			if err != nil {
				t.Fatalf("%+v: %v", cfg, err)
			}
			ref, _ := http.ParseSetCookie(want.String())
			if got.Name != ref.Name || got.Value != ref.Value || got.Path != ref.Path || got.Domain != ref.Domain ||
				got.MaxAge != ref.MaxAge || got.HttpOnly != ref.HttpOnly || got.Secure != ref.Secure || got.SameSite != ref.SameSite {
				t.Errorf("%+v, Max-Age %d:\n got %q\nwant %q", cfg, maxAge, c.setCookieHeader(want.Name, want.Value, maxAge), want.String())
			}
		}
	}
}
