package cookiesession

// Config.MaxExpiry: a server-side cap on every expiry policy, applied when
// a cookie is opened (so lowering it ends sessions already sealed) and when
// one is sealed (the sealed deadline and Max-Age). And what ends a stolen
// cookie that is used often enough never to go idle: AbsoluteTimeout.

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const year = 365 * 24 * time.Hour

// capQuiet returns a logger that drops the rejections the middleware tests
// provoke.
func capQuiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// capPolicies are the expiry policies a session can be sealed under, each
// asking for far more than an hour.
var capPolicies = []struct {
	name string
	set  func(s *Session, now time.Time)
}{
	{"SetExpiry(365 days)", func(s *Session, _ time.Time) { s.SetExpiry(year) }},
	{"SetExpiryAt(in 365 days)", func(s *Session, now time.Time) { s.SetExpiryAt(now.Add(year)) }},
	{"default policy (MaxAge 30 days)", func(s *Session, _ time.Time) {}},
	{"browser-close (MaxAge 30 days)", func(s *Session, _ time.Time) { s.SetExpiry(0) }},
}

// TestMaxExpiry_LoweredCapEndsSealedCookies: cookies sealed by a codec
// without a cap, under policies of up to a year, stop opening once a codec
// with MaxExpiry of one hour reads them an hour after their seal, and open
// just before. The uncapped codec still opens them: the cap decides.
func TestMaxExpiry_LoweredCapEndsSealedCookies(t *testing.T) {
	for _, p := range capPolicies {
		t.Run(p.name, func(t *testing.T) {
			loose, clk := newTestCodec(t, Config{MaxAge: 30 * 24 * time.Hour})
			capped, _ := newTestCodec(t, Config{Keys: loose.keys, Now: clk.Now, MaxAge: 30 * 24 * time.Hour, MaxExpiry: time.Hour})
			s := loose.New()
			s.Set("user", "alice")
			p.set(s, clk.Now())
			v := mustEncode(t, loose, s)

			clk.Advance(time.Hour - time.Second)
			if got := mustDecode(t, capped, v); GetOr(got, "user", "") != "alice" {
				t.Fatalf("capped codec, 1 s before the cap: user %v", GetOr(got, "user", ""))
			} else if want := testStart.Add(time.Hour); !got.Deadline().Equal(want) {
				t.Errorf("capped codec: Deadline() = %v, want %v", got.Deadline(), want)
			}
			clk.Advance(time.Second)
			got, err := capped.Decode(v)
			atkWantErr(t, "capped codec, at the cap", got, err, ErrExpired)
			if err == nil || !strings.Contains(err.Error(), "MaxExpiry") {
				t.Errorf("error %v does not name MaxExpiry", err)
			}
			clk.Advance(24 * time.Hour)
			if got := mustDecode(t, loose, v); GetOr(got, "user", "") != "alice" {
				t.Fatal("control: the uncapped codec does not open the cookie a day later")
			}
		})
	}
}

// TestMaxExpiry_CapsSealing: a codec with MaxExpiry seals no deadline and
// sends no Max-Age past the cap, whatever the policy asked; an uncapped
// codec reading the cookie (which trusts the sealed deadline) sees the
// capped deadline.
func TestMaxExpiry_CapsSealing(t *testing.T) {
	for _, p := range capPolicies {
		t.Run(p.name, func(t *testing.T) {
			capped, clk := newTestCodec(t, Config{MaxAge: 30 * 24 * time.Hour, MaxExpiry: time.Hour})
			loose, _ := newTestCodec(t, Config{Keys: capped.keys, Now: clk.Now, MaxAge: 30 * 24 * time.Hour})
			s := capped.New()
			s.Set("user", "alice")
			p.set(s, clk.Now())
			if got := s.ExpiryAge(); got != time.Hour {
				t.Errorf("ExpiryAge() = %v, want 1h", got)
			}
			if got, want := s.ExpiryDate(), testStart.Add(time.Hour); !got.Equal(want) {
				t.Errorf("ExpiryDate() = %v, want %v", got, want)
			}
			ck, err := capped.Cookie(s)
			if err != nil {
				t.Fatal(err)
			}
			wantMaxAge := 3600
			if s.ExpiresAtBrowserClose() {
				wantMaxAge = 0 // no Max-Age: the cookie lives until the browser closes
			}
			if ck.MaxAge != wantMaxAge {
				t.Errorf("Max-Age %d, want %d", ck.MaxAge, wantMaxAge)
			}
			if got := mustDecode(t, loose, ck.Value).Deadline(); !got.Equal(testStart.Add(time.Hour)) {
				t.Errorf("uncapped codec reads a sealed deadline of %v, want %v", got, testStart.Add(time.Hour))
			}
		})
	}
}

// capSend sends one request with cookie (a session cookie value, or "")
// through c's middleware to a handler that reads "user" and, on /login,
// sets it. It returns the user the handler saw and the cookie the response
// set (nil if none).
func capSend(t *testing.T, c *Codec, path, cookie string, policy func(s *Session)) (string, *http.Cookie) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", c.Name()+"="+cookie)
	}
	rec := httptest.NewRecorder()
	var user string
	c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		if path == "/login" {
			s.Set("user", "alice")
			policy(s)
		}
		user = GetOr(s, "user", "")
	})).ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == c.Name() {
			return user, ck
		}
	}
	return user, nil
}

// TestMaxExpiry_SlidesWithActivity: under the middleware, a session whose
// policy asks for a year stays alive while it is used more often than
// MaxExpiry (the middleware reseals it in time), and ends after MaxExpiry
// without a request. The cookie's Max-Age never exceeds the cap.
func TestMaxExpiry_SlidesWithActivity(t *testing.T) {
	for _, p := range capPolicies[:2] {
		t.Run(p.name, func(t *testing.T) {
			c, clk := newTestCodec(t, Config{MaxExpiry: time.Hour, Logger: capQuiet()})
			_, ck := capSend(t, c, "/login", "", func(s *Session) { p.set(s, clk.Now()) })
			if ck == nil {
				t.Fatal("login set no cookie")
			}
			cookie := ck.Value
			for i := 1; i <= 15; i++ { // 5 hours, a request every 20 minutes
				clk.Advance(20 * time.Minute)
				user, ck := capSend(t, c, "/", cookie, nil)
				if user != "alice" {
					t.Fatalf("request %d, %v after login: the session did not open", i, time.Duration(i)*20*time.Minute)
				}
				if ck != nil {
					if ck.MaxAge > 3600 || ck.MaxAge <= 0 {
						t.Fatalf("request %d: Max-Age %d, want within the 1 h cap", i, ck.MaxAge)
					}
					cookie = ck.Value
				}
			}
			clk.Advance(time.Hour)
			if user, ck := capSend(t, c, "/", cookie, nil); user != "" || ck == nil || ck.MaxAge >= 0 {
				t.Fatalf("an hour idle: user %q, Set-Cookie %v; want an empty session and a deletion", user, ck)
			}
		})
	}
}

// TestAbsoluteTimeout_StolenCookieUsedHourly: a thief who replays a stolen
// cookie every hour, always with the freshest cookie the server handed
// back, keeps a SetExpiry(365 days) session sliding, but only until
// AbsoluteTimeout after its creation: resealing keeps the creation time.
func TestAbsoluteTimeout_StolenCookieUsedHourly(t *testing.T) {
	c, clk := newTestCodec(t, Config{AbsoluteTimeout: 24 * time.Hour, RefreshAfter: 0.0001, Logger: capQuiet()})
	_, ck := capSend(t, c, "/login", "", func(s *Session) { s.SetExpiry(year) })
	if ck == nil {
		t.Fatal("login set no cookie")
	}
	stolen := ck.Value
	resealed := 0
	for h := 1; h < 24; h++ {
		clk.Advance(time.Hour)
		user, ck := capSend(t, c, "/", stolen, nil)
		if user != "alice" {
			t.Fatalf("hour %d: the stolen cookie did not open", h)
		}
		if ck != nil {
			resealed++
			if left := 24 - h; ck.MaxAge > left*3600 {
				t.Fatalf("hour %d: Max-Age %d runs past the absolute timeout (%d h left)", h, ck.MaxAge, left)
			}
			stolen = ck.Value
		}
	}
	if resealed < 20 {
		t.Fatalf("the cookie was resealed only %d times: the test does not slide it", resealed)
	}
	clk.Advance(time.Hour)
	got, err := c.Decode(stolen)
	atkWantErr(t, "24 h after login", got, err, ErrExpired)
	// Every reseal carried the deadline of the login plus 24 h.
	if want := testStart.Add(24 * time.Hour).UTC().Format(time.RFC3339); err == nil || !strings.Contains(err.Error(), "deadline "+want) {
		t.Errorf("error %v does not give the deadline %s", err, want)
	}
	if user, _ := capSend(t, c, "/", stolen, nil); user != "" {
		t.Fatal("the middleware still opens the stolen cookie after AbsoluteTimeout")
	}
}

// TestMaxExpiry_NewCodecRefusesBadValues: negative and sub-second caps are
// configuration errors; zero is no cap.
func TestMaxExpiry_NewCodecRefusesBadValues(t *testing.T) {
	kr := newKeyring(t, "k1")
	for _, d := range []time.Duration{-time.Second, time.Millisecond} {
		if _, err := NewCodec(Config{Keys: kr, MaxExpiry: d}); err == nil || !strings.Contains(err.Error(), "MaxExpiry") {
			t.Errorf("MaxExpiry %v: NewCodec error %v, want one naming MaxExpiry", d, err)
		}
	}
	c, clk := newTestCodec(t, Config{Keys: kr})
	s := c.New()
	s.Set("user", "alice")
	s.SetExpiry(year)
	v := mustEncode(t, c, s)
	clk.Advance(year - time.Hour)
	if _, err := c.Decode(v); err != nil {
		t.Fatalf("no cap: a one-year session does not open after 364 days: %v", err)
	}
}
