package cookiesession

import (
	"errors"
	"math"
	"testing"
	"time"
)

// year9999 is the last second a deadline may name.
var year9999 = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// ---------------------------------------------------------------------------
// Django's expiry tests (SessionTestsMixin).

func TestDjango_default_expiry(t *testing.T) {
	for _, maxAge := range []time.Duration{0, time.Hour, 30 * 24 * time.Hour} {
		t.Run(maxAge.String(), func(t *testing.T) {
			c, clk := newTestCodec(t, Config{MaxAge: maxAge})
			want := maxAge
			if want == 0 {
				want = DefaultMaxAge
			}
			s := c.New()
			if got := s.ExpiryAge(); got != want {
				t.Errorf("ExpiryAge = %v, want MaxAge %v", got, want)
			}
			if got := s.ExpiryDate(); !got.Equal(clk.Now().Add(want)) {
				t.Errorf("ExpiryDate = %v, want now+MaxAge", got)
			}
			// The default policy slides: an hour later, resealed, it is
			// MaxAge again.
			s.Set("k", 1)
			v := mustEncode(t, c, s)
			clk.Advance(want / 2)
			s = mustDecode(t, c, v)
			if got := s.ExpiryAge(); got != want {
				t.Errorf("later, ExpiryAge = %v, want %v", got, want)
			}
			// So does a browser-close session (set_expiry(0)).
			s.SetExpiry(0)
			if got := s.ExpiryAge(); got != want {
				t.Errorf("after SetExpiry(0) ExpiryAge = %v, want %v", got, want)
			}
		})
	}
}

// Django's seconds and timedelta variants are one Go call; the two tests
// check SetExpiry with a duration written in several ways.
func TestDjango_custom_expiry_seconds(t *testing.T) {
	c, clk := newTestCodec(t, Config{})
	s := c.New()
	s.SetExpiry(10 * time.Second)
	if !s.Modified() {
		t.Error("SetExpiry did not mark the session modified")
	}
	if got, want := s.ExpiryDate(), clk.Now().Add(10*time.Second); !got.Equal(want) {
		t.Errorf("ExpiryDate = %v, want %v", got, want)
	}
	if got := s.ExpiryAge(); got != 10*time.Second {
		t.Errorf("ExpiryAge = %v, want 10s", got)
	}
	// The policy travels in the cookie and slides with each seal.
	s.Set("k", 1)
	v := mustEncode(t, c, s)
	clk.Advance(4 * time.Second)
	s = mustDecode(t, c, v)
	if got := s.ExpiryAge(); got != 10*time.Second {
		t.Errorf("decoded 4s later, ExpiryAge = %v, want 10s", got)
	}
	if got, want := s.ExpiryDate(), clk.Now().Add(10*time.Second); !got.Equal(want) {
		t.Errorf("decoded 4s later, ExpiryDate = %v, want %v", got, want)
	}
}

func TestDjango_custom_expiry_timedelta(t *testing.T) {
	for _, d := range []time.Duration{
		10 * time.Second,
		10000 * time.Millisecond,
		time.Duration(10e9),
		9*time.Second + time.Nanosecond, // rounds up
		9500 * time.Millisecond,         // rounds up
	} {
		t.Run(d.String(), func(t *testing.T) {
			c, clk := newTestCodec(t, Config{})
			s := c.New()
			s.SetExpiry(d)
			if got := s.ExpiryAge(); got != 10*time.Second {
				t.Errorf("ExpiryAge = %v, want 10s", got)
			}
			if got, want := s.ExpiryDate(), clk.Now().Add(10*time.Second); !got.Equal(want) {
				t.Errorf("ExpiryDate = %v, want %v", got, want)
			}
			if s.ExpiresAtBrowserClose() {
				t.Error("a custom expiry is at browser close")
			}
		})
	}
}

func TestDjango_custom_expiry_datetime(t *testing.T) {
	c, clk := newTestCodec(t, Config{})
	s := c.New()
	at := clk.Now().Add(10 * time.Second)
	s.SetExpiryAt(at)
	if got := s.ExpiryAge(); got != 10*time.Second {
		t.Errorf("ExpiryAge = %v, want 10s", got)
	}
	if got := s.ExpiryDate(); !got.Equal(at) {
		t.Errorf("ExpiryDate = %v, want %v", got, at)
	}
	// A fixed instant does not slide: resealed 4s later, 6s remain.
	s.Set("k", 1)
	v := mustEncode(t, c, s)
	clk.Advance(4 * time.Second)
	s = mustDecode(t, c, v)
	v = mustEncode(t, c, s)
	if got := s.ExpiryAge(); got != 6*time.Second {
		t.Errorf("4s later, ExpiryAge = %v, want 6s", got)
	}
	if got := s.ExpiryDate(); !got.Equal(at) {
		t.Errorf("4s later, ExpiryDate = %v, want %v", got, at)
	}
	clk.Advance(6 * time.Second)
	if _, err := c.Decode(v); !errors.Is(err, ErrExpired) {
		t.Errorf("resealed cookie at the instant: err = %v, want ErrExpired", err)
	}
	if got := s.ExpiryAge(); got != 0 {
		t.Errorf("past the instant, ExpiryAge = %v, want 0", got)
	}
}

func TestDjango_custom_expiry_reset(t *testing.T) {
	setters := map[string]func(*Session, time.Time){
		"SetExpiry(10s)":   func(s *Session, _ time.Time) { s.SetExpiry(10 * time.Second) },
		"SetExpiry(0)":     func(s *Session, _ time.Time) { s.SetExpiry(0) },
		"SetExpiry(-1s)":   func(s *Session, _ time.Time) { s.SetExpiry(-time.Second) },
		"SetExpiryAt(+1h)": func(s *Session, now time.Time) { s.SetExpiryAt(now.Add(time.Hour)) },
	}
	for name, set := range setters {
		t.Run(name, func(t *testing.T) {
			c, clk := newTestCodec(t, Config{MaxAge: 3 * time.Hour})
			s := c.New()
			s.Set("k", 1)
			set(s, clk.Now())
			if s.ExpiryAge() == 3*time.Hour && name != "SetExpiry(0)" {
				t.Fatal("the setter did not change ExpiryAge")
			}
			s = mustRoundTripIfAlive(t, c, s)
			s.ResetExpiry()
			if got := s.ExpiryAge(); got != 3*time.Hour {
				t.Errorf("after ResetExpiry ExpiryAge = %v, want MaxAge", got)
			}
			if s.ExpiresAtBrowserClose() {
				t.Error("after ResetExpiry the session expires at browser close")
			}
			s = mustRoundTrip(t, c, s)
			if got := s.ExpiryAge(); got != 3*time.Hour {
				t.Errorf("after ResetExpiry and a round trip ExpiryAge = %v, want MaxAge", got)
			}
		})
	}
}

// mustRoundTripIfAlive round-trips s unless it is already expired.
func mustRoundTripIfAlive(t *testing.T, c *Codec, s *Session) *Session {
	t.Helper()
	if s.ExpiryAge() == 0 {
		return s
	}
	return mustRoundTrip(t, c, s)
}

func TestDjango_get_expire_at_browser_close(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	s.Set("k", 1)
	if s.ExpiresAtBrowserClose() {
		t.Error("a new session expires at browser close")
	}
	s.SetExpiry(10 * time.Second)
	if s.ExpiresAtBrowserClose() {
		t.Error("SetExpiry(10s): expires at browser close")
	}
	s.SetExpiry(0)
	if !s.ExpiresAtBrowserClose() {
		t.Error("SetExpiry(0): does not expire at browser close")
	}
	if s = mustRoundTrip(t, c, s); !s.ExpiresAtBrowserClose() {
		t.Error("SetExpiry(0) did not survive a round trip")
	}
	// The cookie itself gets no Max-Age.
	if ck, err := c.Cookie(s); err != nil || ck.MaxAge != 0 || !ck.Expires.IsZero() {
		t.Errorf("browser-close cookie = %+v, %v; want no Max-Age or Expires", ck, err)
	}
	s.ResetExpiry()
	if s.ExpiresAtBrowserClose() {
		t.Error("ResetExpiry: still expires at browser close")
	}
	s.SetExpiry(0)
	s.SetExpiryAt(time.Now().Add(time.Hour))
	if s.ExpiresAtBrowserClose() {
		t.Error("SetExpiryAt: still expires at browser close")
	}
}

func TestDjango_actual_expiry(t *testing.T) {
	t.Run("SetExpiry(1s)", func(t *testing.T) {
		c, clk := newTestCodec(t, Config{})
		s := c.New()
		s.Set("foo", "bar")
		s.SetExpiry(time.Second)
		v := mustEncode(t, c, s)
		if s := mustDecode(t, c, v); !s.Has("foo") {
			t.Error("alive session lost its data")
		}
		clk.Advance(time.Second)
		if got, err := c.Decode(v); !errors.Is(err, ErrExpired) || got != nil {
			t.Errorf("at the deadline: Decode = %v, %v; want nil, ErrExpired", got, err)
		}
		clk.Advance(time.Hour)
		if _, err := c.Decode(v); !errors.Is(err, ErrExpired) {
			t.Errorf("an hour later: err = %v, want ErrExpired", err)
		}
	})
	t.Run("already past", func(t *testing.T) {
		// Django: set_expiry(-timedelta(seconds=10)), save, and the data is
		// gone. Here the expired session is not even sealed.
		c, _ := newTestCodec(t, Config{})
		s := c.New()
		s.Set("foo", "bar")
		s.SetExpiry(-10 * time.Second)
		if v := mustEncode(t, c, s); v != "" {
			t.Errorf("expired session encodes to %q", v)
		}
		ck, err := c.Cookie(s)
		if err != nil || ck.MaxAge >= 0 {
			t.Errorf("Cookie of an expired session = %+v, %v; want a deletion", ck, err)
		}
	})
	for _, maxAge := range []time.Duration{0, 90 * time.Minute} {
		t.Run("default MaxAge "+maxAge.String(), func(t *testing.T) {
			c, clk := newTestCodec(t, Config{MaxAge: maxAge})
			if maxAge == 0 {
				maxAge = DefaultMaxAge
			}
			s := c.New()
			s.Set("foo", "bar")
			v := mustEncode(t, c, s)
			clk.Advance(maxAge - time.Second)
			if s, err := c.Decode(v); err != nil || !s.Has("foo") {
				t.Errorf("one second before MaxAge: err = %v", err)
			}
			clk.Advance(time.Second)
			if _, err := c.Decode(v); !errors.Is(err, ErrExpired) {
				t.Errorf("at MaxAge: err = %v, want ErrExpired", err)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Expiry details.

func TestExpiry_BrowserCloseBoundedByMaxAge(t *testing.T) {
	c, clk := newTestCodec(t, Config{MaxAge: time.Hour})
	s := c.New()
	s.Set("k", 1)
	s.SetExpiry(0)
	v := mustEncode(t, c, s)
	// Each reseal restarts the window.
	clk.Advance(59 * time.Minute)
	s = mustDecode(t, c, v)
	v2 := mustEncode(t, c, s)
	clk.Advance(time.Minute)
	if _, err := c.Decode(v); !errors.Is(err, ErrExpired) {
		t.Errorf("browser-close cookie MaxAge after its seal: err = %v, want ErrExpired", err)
	}
	s = mustDecode(t, c, v2)
	if !s.ExpiresAtBrowserClose() {
		t.Error("resealed session lost its browser-close policy")
	}
	clk.Advance(59 * time.Minute)
	if _, err := c.Decode(v2); !errors.Is(err, ErrExpired) {
		t.Errorf("resealed browser-close cookie MaxAge after its seal: err = %v, want ErrExpired", err)
	}
}

func TestExpiry_AbsoluteTimeout(t *testing.T) {
	for name, set := range map[string]func(*Session){
		"default":       func(*Session) {},
		"browser close": func(s *Session) { s.SetExpiry(0) },
		"idle 1 week":   func(s *Session) { s.SetExpiry(7 * 24 * time.Hour) },
		"at year 3000":  func(s *Session) { s.SetExpiryAt(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)) },
	} {
		t.Run(name, func(t *testing.T) {
			const limit = 5 * time.Hour
			c, clk := newTestCodec(t, Config{AbsoluteTimeout: limit})
			start := clk.Now()
			s := c.New()
			s.Set("user", 1)
			set(s)
			v := mustEncode(t, c, s)
			// Resealed every hour, with activity every time.
			for h := 1; h < 5; h++ {
				clk.Advance(time.Hour)
				s = mustDecode(t, c, v)
				s.Set("hour", h)
				if got, want := s.ExpiryAge(), limit-time.Duration(h)*time.Hour; got != want {
					t.Errorf("hour %d: ExpiryAge = %v, want %v", h, got, want)
				}
				if got := s.ExpiryDate(); !got.Equal(start.Add(limit)) {
					t.Errorf("hour %d: ExpiryDate = %v, want %v", h, got, start.Add(limit))
				}
				ck, err := c.Cookie(s)
				if err != nil {
					t.Fatal(err)
				}
				if name != "browser close" && ck.MaxAge != int((limit-time.Duration(h)*time.Hour).Seconds()) {
					t.Errorf("hour %d: cookie Max-Age = %d", h, ck.MaxAge)
				}
				v = ck.Value
			}
			clk.Advance(time.Hour - time.Second)
			if _, err := c.Decode(v); err != nil {
				t.Errorf("one second before the limit: %v", err)
			}
			clk.Advance(time.Second)
			if _, err := c.Decode(v); !errors.Is(err, ErrExpired) {
				t.Errorf("at the limit: err = %v, want ErrExpired", err)
			}
			// Renew keeps the creation time: no way around the cap.
			s.Renew()
			if got := mustEncode(t, c, s); got != "" {
				t.Error("a session past its absolute limit still encodes")
			}
		})
	}
}

// A Codec with an AbsoluteTimeout refuses a cookie sealed by one without,
// once the limit has passed since its creation.
func TestExpiry_AbsoluteTimeoutAddedLater(t *testing.T) {
	keys := newKeyring(t, "k1")
	loose, clk := newTestCodec(t, Config{Keys: keys})
	strict, _ := newTestCodec(t, Config{Keys: keys, AbsoluteTimeout: time.Hour, Now: clk.Now})
	s := loose.New()
	s.Set("k", 1)
	clk.Advance(2 * time.Hour)
	v := mustEncode(t, loose, s) // created two hours before this seal
	if _, err := loose.Decode(v); err != nil {
		t.Fatal(err)
	}
	if _, err := strict.Decode(v); !errors.Is(err, ErrExpired) {
		t.Errorf("strict codec: err = %v, want ErrExpired", err)
	}
}

func TestExpiry_PastExpiryEncodesToNothing(t *testing.T) {
	cases := map[string]func(s *Session, now time.Time){
		"SetExpiry(-1s)":          func(s *Session, _ time.Time) { s.SetExpiry(-time.Second) },
		"SetExpiry(-1ns)":         func(s *Session, _ time.Time) { s.SetExpiry(-1) },
		"SetExpiry(MinInt64)":     func(s *Session, _ time.Time) { s.SetExpiry(math.MinInt64) },
		"SetExpiryAt(now-1s)":     func(s *Session, now time.Time) { s.SetExpiryAt(now.Add(-time.Second)) },
		"SetExpiryAt(now)":        func(s *Session, now time.Time) { s.SetExpiryAt(now) },
		"SetExpiryAt(zero)":       func(s *Session, _ time.Time) { s.SetExpiryAt(time.Time{}) },
		"SetExpiryAt(1969)":       func(s *Session, _ time.Time) { s.SetExpiryAt(time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)) },
		"SetExpiryAt(now-100yrs)": func(s *Session, now time.Time) { s.SetExpiryAt(now.AddDate(-100, 0, 0)) },
	}
	for name, set := range cases {
		t.Run(name, func(t *testing.T) {
			c, clk := newTestCodec(t, Config{})
			s := c.New()
			s.Set("k", 1)
			s.AddFlash("f")
			set(s, clk.Now())
			if v, err := c.Encode(s); v != "" || err != nil {
				t.Errorf("Encode = %q, %v; want \"\", nil", v, err)
			}
			if got := s.ExpiryAge(); got != 0 {
				t.Errorf("ExpiryAge = %v, want 0", got)
			}
			if s.ExpiryDate().After(clk.Now()) {
				t.Errorf("ExpiryDate %v is after now", s.ExpiryDate())
			}
			// The data is still readable in this request.
			if !s.Has("k") {
				t.Error("expiring the session dropped its data in memory")
			}
		})
	}
}

func TestExpiry_SubSecondRoundsUp(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want time.Duration
	}{
		{time.Nanosecond, time.Second},
		{500 * time.Millisecond, time.Second},
		{time.Second - 1, time.Second},
		{time.Second, time.Second},
		{time.Second + 1, 2 * time.Second},
		{90*time.Second + time.Millisecond, 91 * time.Second},
	} {
		t.Run(tc.d.String(), func(t *testing.T) {
			c, clk := newTestCodec(t, Config{})
			s := c.New()
			s.Set("k", 1)
			s.SetExpiry(tc.d)
			if got := s.ExpiryAge(); got != tc.want {
				t.Errorf("ExpiryAge = %v, want %v", got, tc.want)
			}
			v := mustEncode(t, c, s)
			clk.Advance(tc.want - time.Second)
			if _, err := c.Decode(v); err != nil {
				t.Errorf("one second before: %v", err)
			}
			clk.Advance(time.Second)
			if _, err := c.Decode(v); !errors.Is(err, ErrExpired) {
				t.Errorf("at %v: err = %v, want ErrExpired", tc.want, err)
			}
		})
	}
}

func TestExpiry_HugeValuesDoNotOverflow(t *testing.T) {
	cases := map[string]func(*Session){
		"SetExpiry(MaxInt64)":     func(s *Session) { s.SetExpiry(math.MaxInt64) },
		"SetExpiryAt(year 10000)": func(s *Session) { s.SetExpiryAt(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)) },
		"SetExpiryAt(max)":        func(s *Session) { s.SetExpiryAt(time.Unix(math.MaxInt64, 0)) },
	}
	for _, start := range []time.Time{testStart, time.Date(9999, 12, 1, 0, 0, 0, 0, time.UTC)} {
		for name, set := range cases {
			t.Run(start.Format("2006")+"/"+name, func(t *testing.T) {
				c, clk := newTestCodec(t, Config{})
				clk.Set(start)
				s := c.New()
				s.Set("k", 1)
				set(s)
				date := s.ExpiryDate()
				if date.After(year9999) || !date.After(clk.Now()) {
					t.Errorf("ExpiryDate = %v, want after now and no later than %v", date, year9999)
				}
				if age := s.ExpiryAge(); age <= 0 {
					t.Errorf("ExpiryAge = %v", age)
				}
				s = mustRoundTrip(t, c, s)
				if got := s.ExpiryDate(); got.After(year9999) || !got.After(clk.Now()) {
					t.Errorf("after a round trip ExpiryDate = %v", got)
				}
				clk.Advance(365 * 24 * time.Hour)
				if start == testStart {
					s = mustRoundTrip(t, c, s)
					if !s.Has("k") {
						t.Error("a year later the data is gone")
					}
				}
			})
		}
	}
}

func TestExpiry_FutureSealTime(t *testing.T) {
	keys := newKeyring(t, "k1")
	for _, tc := range []struct {
		ahead time.Duration
		ok    bool
	}{
		{0, true},
		{59 * time.Second, true},
		{60 * time.Second, true},
		{61 * time.Second, false},
		{time.Hour, false},
		{365 * 24 * time.Hour, false},
	} {
		t.Run(tc.ahead.String(), func(t *testing.T) {
			server, _ := newTestCodec(t, Config{Keys: keys})
			fast, fastClock := newTestCodec(t, Config{Keys: keys})
			fastClock.Advance(tc.ahead)
			s := fast.New()
			s.Set("k", 1)
			v := mustEncode(t, fast, s)
			got, err := server.Decode(v)
			switch {
			case tc.ok && err != nil:
				t.Errorf("sealed %v ahead: %v", tc.ahead, err)
			case tc.ok && !got.Has("k"):
				t.Errorf("sealed %v ahead: data lost", tc.ahead)
			case !tc.ok && (!errors.Is(err, ErrClockSkew) || errors.Is(err, ErrInvalid)):
				t.Errorf("sealed %v ahead: err = %v, want ErrClockSkew (not ErrInvalid)", tc.ahead, err)
			}
		})
	}
}

func TestExpiry_ShorterMaxAgeInNewCodec(t *testing.T) {
	keys := newKeyring(t, "k1")
	before, clk := newTestCodec(t, Config{Keys: keys}) // two weeks
	after, _ := newTestCodec(t, Config{Keys: keys, MaxAge: time.Hour, Now: clk.Now})

	seal := func(set func(*Session)) string {
		s := before.New()
		s.Set("k", 1)
		set(s)
		return mustEncode(t, before, s)
	}
	def := seal(func(*Session) {})
	browser := seal(func(s *Session) { s.SetExpiry(0) })
	idle := seal(func(s *Session) { s.SetExpiry(7 * 24 * time.Hour) })
	at := seal(func(s *Session) { s.SetExpiryAt(clk.Now().Add(48 * time.Hour)) })

	clk.Advance(time.Hour - time.Second)
	for _, v := range []string{def, browser, idle, at} {
		if _, err := after.Decode(v); err != nil {
			t.Errorf("59m59s after the seal: %v", err)
		}
	}
	clk.Advance(time.Second)
	for name, v := range map[string]string{"default": def, "browser close": browser} {
		if _, err := after.Decode(v); !errors.Is(err, ErrExpired) {
			t.Errorf("%s cookie, an hour old, new MaxAge an hour: err = %v, want ErrExpired", name, err)
		}
		if _, err := before.Decode(v); err != nil {
			t.Errorf("%s cookie under the old MaxAge: %v", name, err)
		}
	}
	// An explicit policy is the session's own; MaxAge does not cut it.
	for name, v := range map[string]string{"idle": idle, "at": at} {
		if _, err := after.Decode(v); err != nil {
			t.Errorf("%s cookie under the new MaxAge: %v", name, err)
		}
	}
}

func TestExpiry_CookieMaxAge(t *testing.T) {
	c, clk := newTestCodec(t, Config{MaxAge: time.Hour})
	for _, tc := range []struct {
		name string
		set  func(*Session)
		want int
	}{
		{"default", func(*Session) {}, 3600},
		{"idle", func(s *Session) { s.SetExpiry(90 * time.Second) }, 90},
		{"at", func(s *Session) { s.SetExpiryAt(clk.Now().Add(5 * time.Minute)) }, 300},
		{"browser close", func(s *Session) { s.SetExpiry(0) }, 0},
	} {
		s := c.New()
		s.Set("k", 1)
		tc.set(s)
		ck, err := c.Cookie(s)
		if err != nil {
			t.Fatal(err)
		}
		if ck.MaxAge != tc.want {
			t.Errorf("%s: cookie Max-Age = %d, want %d", tc.name, ck.MaxAge, tc.want)
		}
		if tc.want > 0 && time.Duration(ck.MaxAge)*time.Second != s.ExpiryAge() {
			t.Errorf("%s: cookie Max-Age %d disagrees with ExpiryAge %v", tc.name, ck.MaxAge, s.ExpiryAge())
		}
	}
}
