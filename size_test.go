package cookiesession

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lgSizeConfigs are the codecs the size tests run under: one cookie, a few
// chunks, and many short chunks (two-digit count prefix) with another name
// and a longer key ID.
func lgSizeConfigs(t testing.TB) map[string]Config {
	return map[string]Config{
		"one cookie":     {},
		"MaxCookies 4":   {Name: "x", MaxCookies: 4},
		"16 short":       {Name: "a_longer_name", MaxCookies: 16, MaxLength: 1337, Keys: newKeyring(t, "key-2026-01-long")},
		"one long":       {Name: "sid", MaxLength: 20000},
		"MaxCookies 16":  {MaxCookies: 16},
		"browser 2-of-4": {Name: "__Host-s", MaxCookies: 2},
	}
}

// lgSizeSessions are the sessions the size tests measure.
var lgSizeSessions = []struct {
	name string
	fill func(*Session)
}{
	{"empty", func(*Session) {}},
	{"SMALL", lgFillSmall},
	{"LARGE", lgFillLarge},
	{"10KB", lgFill10KB},
}

// lgActualSize encodes s with c and returns the name=value bytes of what
// would be set (Encode for one cookie, Codec.Cookies otherwise, deletion
// cookies excluded), checking that every cookie is within MaxLength.
func lgActualSize(t testing.TB, c *Codec, s *Session) (int, error) {
	n, _, err := lgActualCookies(t, c, s)
	return n, err
}

// lgActualCookies is lgActualSize that also returns the number of cookies.
func lgActualCookies(t testing.TB, c *Codec, s *Session) (int, int, error) {
	t.Helper()
	v, err := c.Encode(s)
	if err != nil {
		return 0, 0, err
	}
	cks, err := c.Cookies(s)
	if err != nil {
		t.Fatalf("Encode worked, Cookies did not: %v", err)
	}
	for _, ck := range lgSetCookies(cks) {
		if l := len(ck.Name) + 1 + len(ck.Value); l > c.maxLength {
			t.Fatalf("cookie %s is %d bytes of name=value, limit %d", ck.Name, l, c.maxLength)
		}
	}
	parts := c.split(v) // what Encode returned, cut as Cookies cuts it
	if v != "" && strings.Join(parts, "") != v && strings.Join(parts, "") != fmt.Sprintf("%d:%s", len(parts), v) {
		t.Fatalf("split does not cut Encode's value into its parts")
	}
	for i, p := range parts {
		if l := len(c.chunkName(i)) + 1 + len(p); l > c.maxLength {
			t.Fatalf("Encode's value cuts into a cookie of %d bytes, limit %d", l, c.maxLength)
		}
	}
	if v == "" {
		if len(lgSetCookies(cks)) != 0 {
			t.Fatalf("Encode returned nothing, Cookies set %v", lgNames(cks))
		}
		return 0, 0, nil
	}
	count := len(lgSetCookies(cks))
	if c.chunks == 1 {
		if n := lgCookieBytes(cks); n != len(c.name)+1+len(v) {
			t.Fatalf("Cookies takes %d bytes, Encode's value %d", n, len(c.name)+1+len(v))
		}
		return len(c.name) + 1 + len(v), count, nil
	}
	return lgCookieBytes(cks), count, nil
}

// TestSize_MatchesCookies: Size is exactly the name=value bytes of the
// cookies Encode and Cookies produce, before and after a round trip, and 0
// for a session that encodes to nothing.
func TestSize_MatchesCookies(t *testing.T) {
	for cname, cfg := range lgSizeConfigs(t) {
		c := lgCodec(t, cfg)
		for _, sc := range lgSizeSessions {
			t.Run(cname+"/"+sc.name, func(t *testing.T) {
				s := c.New()
				sc.fill(s)
				size := s.Size()
				actual, err := lgActualSize(t, c, s)
				if errors.Is(err, ErrTooLarge) {
					if s.Room() >= 0 || c.chunks == 1 && size <= c.maxLength {
						t.Fatalf("ErrTooLarge, yet Size() = %d and Room() = %d", size, s.Room())
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if size != actual {
					t.Fatalf("Size() = %d, cookies take %d", size, actual)
				}
				if sc.name == "empty" {
					if size != 0 {
						t.Fatalf("Size() of an empty session = %d", size)
					}
					return
				}
				if s.Room() < 0 {
					t.Fatalf("Room() = %d for a session that encodes", s.Room())
				}
				got := mustRoundTrip(t, c, s)
				if gs := got.Size(); gs != size {
					t.Fatalf("after a round trip Size() = %d, before %d", gs, size)
				}
				if again, err := lgActualSize(t, c, got); err != nil || again != size {
					t.Fatalf("resealed after a round trip: %d bytes, %v; want %d", again, err, size)
				}
				if got.Room() != s.Room() {
					t.Fatalf("Room() %d after a round trip, %d before", got.Room(), s.Room())
				}
			})
		}
	}
}

// TestSize_ZeroWhenNothingToSeal: empty, flushed, cleared and already
// expired sessions are 0 bytes.
func TestSize_ZeroWhenNothingToSeal(t *testing.T) {
	c := lgCodec(t, Config{MaxCookies: 4})
	for name, prep := range map[string]func(*Session){
		"new":     func(*Session) {},
		"flushed": func(s *Session) { lgFill10KB(s); s.Flush() },
		"cleared": func(s *Session) { lgFillLarge(s); s.Clear() },
		"expired": func(s *Session) { lgFillSmall(s); s.SetExpiryAt(testStart.Add(-time.Hour)) },
		"deleted": func(s *Session) { s.Set("a", 1); s.Delete("a") },
	} {
		s := c.New()
		prep(s)
		if n := s.Size(); n != 0 {
			t.Errorf("%s: Size() = %d, want 0", name, n)
		}
		if v, err := c.Encode(s); v != "" || err != nil {
			t.Errorf("%s: Encode = %d bytes, %v", name, len(v), err)
		}
	}
	// A flash alone is something to seal.
	s := c.New()
	s.AddFlash("saved")
	if n, v := s.Size(), mustEncode(t, c, s); n != len(c.name)+1+len(v) {
		t.Fatalf("flash only: Size() = %d, cookie %d", n, len(c.name)+1+len(v))
	}
}

// TestSize_SweepChunkBoundaries grows a session byte by byte around every
// chunk boundary (1 to 2 cookies, 9 to 10 with the longer count prefix,
// and past the last), and in coarse steps between them: Size always matches
// the cookies, every cookie stays within MaxLength, and Encode fails exactly
// when Room turns negative.
func TestSize_SweepChunkBoundaries(t *testing.T) {
	for _, cfg := range []Config{
		{MaxCookies: 4},
		{Name: "sid", MaxCookies: 16, MaxLength: 600},
		{MaxLength: 700},
	} {
		t.Run(fmt.Sprintf("%s-%d-%d", cfg.Name, cfg.MaxCookies, cfg.MaxLength), func(t *testing.T) {
			c := lgCodec(t, cfg)
			s := c.New()
			s.Set("user_id", int64(7))
			// check sets a blob of l bytes and returns how many cookies the
			// session takes, or MaxCookies+1 if it does not fit.
			check := func(l int) int {
				t.Helper()
				s.Set("blob", strings.Repeat("z", l))
				room := s.Room()
				actual, count, err := lgActualCookies(t, c, s)
				switch {
				case errors.Is(err, ErrTooLarge):
					if room >= 0 {
						t.Fatalf("length %d: ErrTooLarge, yet Room() = %d", l, room)
					}
					return c.chunks + 1
				case err != nil:
					t.Fatalf("length %d: %v", l, err)
				case room < 0:
					t.Fatalf("length %d encodes, yet Room() = %d", l, room)
				}
				if size := s.Size(); size != actual {
					t.Fatalf("length %d: Size() = %d, cookies take %d", l, size, actual)
				}
				return count
			}
			hi := 256
			for check(hi) <= c.chunks {
				hi *= 2
			}
			seen := map[int]bool{}
			for k := 2; k <= c.chunks+1; k++ {
				lo, up := 0, hi // smallest length taking k cookies or more lies in (lo, up]
				for up-lo > 1 {
					if mid := (lo + up) / 2; check(mid) >= k {
						up = mid
					} else {
						lo = mid
					}
				}
				for l := max(0, up-12); l <= up+12; l++ {
					if got := check(l); got >= k != (l >= up) {
						t.Fatalf("length %d takes %d cookies; the boundary to %d lies at %d", l, got, k, up)
					}
				}
				seen[k] = true
				if k == c.chunks+1 { // the very end: Room steps from 0 to -1
					check(up - 1)
					if r := s.Room(); r != 0 {
						t.Fatalf("largest blob (%d bytes): Room() = %d, want 0", up-1, r)
					}
					check(up)
					if r := s.Room(); r != -1 {
						t.Fatalf("blob of %d bytes, one past the largest: Room() = %d, want -1", up, r)
					}
					t.Logf("largest blob: %d bytes", up-1)
				}
			}
			for l := 0; l < hi; l += 197 {
				check(l)
			}
			if len(seen) != c.chunks {
				t.Fatalf("found %d boundaries, want %d", len(seen), c.chunks)
			}
		})
	}
}

// TestRoom_ExactBoundary: a session filled to Room() == 0 encodes; one more
// byte gives Room() == -1 and ErrTooLarge.
func TestRoom_ExactBoundary(t *testing.T) {
	for cname, cfg := range lgSizeConfigs(t) {
		t.Run(cname, func(t *testing.T) {
			c := lgCodec(t, cfg)
			s := c.New()
			lgFillSmall(s)
			const start = 300 // a str16 from here on: the header stays 3 bytes
			s.Set("pad", strings.Repeat("p", start))
			r := s.Room()
			if r <= 0 {
				t.Fatalf("Room() = %d with a 300-byte pad", r)
			}
			s.Set("pad", strings.Repeat("p", start+r))
			if got := s.Room(); got != 0 {
				t.Fatalf("after adding Room() = %d bytes, Room() = %d, want 0", r, got)
			}
			if _, err := lgActualSize(t, c, s); err != nil {
				t.Fatalf("at Room() == 0: %v", err)
			}
			lgSameData(t, mustRoundTrip(t, c, s), s)
			s.Set("pad", strings.Repeat("p", start+r+1))
			if got := s.Room(); got != -1 {
				t.Fatalf("one byte past: Room() = %d, want -1", got)
			}
			if v, err := c.Encode(s); !errors.Is(err, ErrTooLarge) || v != "" {
				t.Fatalf("one byte past: Encode = %d bytes, %v; want ErrTooLarge", len(v), err)
			}
			if _, err := c.Cookies(s); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("one byte past: Cookies: %v; want ErrTooLarge", err)
			}
		})
	}
}

// TestRoom_DecreasesByMsgpackSize: each new key costs exactly its key's and
// value's msgpack bytes, plus the 2 bytes by which the map header grows at
// the 16th key; a TTL also costs the key again and its deadline.
func TestRoom_DecreasesByMsgpackSize(t *testing.T) {
	c := lgCodec(t, Config{MaxCookies: 4})
	s := c.New()
	values := []any{"hello", int64(42), int64(1 << 40), []string{"a", "b"}, strings.Repeat("v", 40), true, map[string]int{"n": 1}, []byte{1, 2, 3}}
	prev := s.Room()
	for i := 0; i < 24; i++ {
		key := fmt.Sprintf("key%02d", i)
		v := values[i%len(values)]
		raw, err := encodeValue(v)
		if err != nil {
			t.Fatal(err)
		}
		cost := len(appendString(nil, key)) + len(raw)
		if i == 15 {
			cost += 2 // fixmap (15 entries) -> map16 (16)
		}
		s.Set(key, v)
		if got := prev - s.Room(); got != cost {
			t.Fatalf("adding %s=%v (entry %d): Room() fell by %d, want %d", key, v, i+1, got, cost)
		}
		prev = s.Room()
	}
	// Replacing a value costs the difference.
	s.Set("key00", "hello, world")
	if got := prev - s.Room(); got != len("hello, world")-len("hello") {
		t.Fatalf("replacing a value: Room() fell by %d, want %d", got, 7)
	}
	prev = s.Room()
	// A TTL adds the key and its deadline to the TTL map.
	s.SetWithTTL("otp", "493817", 5*time.Minute)
	deadline := appendInt(nil, c.unixNow()+300)
	want := 2*len(appendString(nil, "otp")) + len(appendString(nil, "493817")) + len(deadline)
	if got := prev - s.Room(); got != want {
		t.Fatalf("adding a key with a TTL: Room() fell by %d, want %d", got, want)
	}
}

// TestRoom_NegativeWhenOver: Room says by how many bytes a session is too
// large; removing exactly that much makes it fit.
func TestRoom_NegativeWhenOver(t *testing.T) {
	for _, chunks := range []int{1, 4} {
		c := lgCodec(t, Config{MaxCookies: chunks})
		s := c.New()
		lgFillSmall(s)
		n := 3000 * chunks
		s.Set("blob", strings.Repeat("b", n))
		r := s.Room()
		if r >= 0 {
			t.Fatalf("MaxCookies %d: Room() = %d for a session that cannot fit", chunks, r)
		}
		if _, err := c.Encode(s); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("MaxCookies %d: Encode: %v, want ErrTooLarge", chunks, err)
		}
		s.Set("blob", strings.Repeat("b", n+r))
		if s.Room() != 0 {
			t.Fatalf("MaxCookies %d: after removing %d bytes Room() = %d, want 0", chunks, -r, s.Room())
		}
		if _, err := c.Encode(s); err != nil {
			t.Fatalf("MaxCookies %d: after removing %d bytes: %v", chunks, -r, err)
		}
	}
	// A session far over: past the 64 KiB payload limit.
	c := lgCodec(t, Config{MaxCookies: 16})
	s := c.New()
	s.Set("blob", strings.Repeat("b", 100000))
	if r := s.Room(); r > -60000 {
		t.Fatalf("100 KB session: Room() = %d", r)
	}
}

// TestRoom_EmptySession: Room of an empty session is what a first key may
// take, exactly.
func TestRoom_EmptySession(t *testing.T) {
	c := lgCodec(t, Config{})
	s := c.New()
	r := s.Room()
	key := appendString(nil, "blob")
	// A str16 header is 3 bytes: fill exactly r bytes of key+value.
	n := r - len(key) - 3
	s.Set("blob", strings.Repeat("e", n))
	if s.Room() != 0 {
		t.Fatalf("empty Room() = %d; after %d bytes of key and value Room() = %d", r, r, s.Room())
	}
	v := mustEncode(t, c, s)
	// One more payload byte grows the doubly base64-encoded value by 0, 4
	// or 8 bytes.
	if l := len(c.name) + 1 + len(v); l > c.maxLength || l <= c.maxLength-8 {
		t.Fatalf("session filled to Room() == 0 is %d bytes, limit %d: want within 8", l, c.maxLength)
	}
	s.Set("blob", strings.Repeat("e", n+1))
	if _, err := c.Encode(s); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("one byte more: %v", err)
	}
}

// TestErrTooLarge_GivesLargestSizes: the error gives the sizes of the
// biggest entries, biggest first, and names no key (key names can be user
// data, and the middleware logs the error).
func TestErrTooLarge_GivesLargestSizes(t *testing.T) {
	size := func(key string, v any) int {
		raw, err := encodeValue(v)
		if err != nil {
			t.Fatal(err)
		}
		return len(key) + len(raw)
	}
	for _, cfg := range []Config{{}, {MaxCookies: 4}, {MaxCookies: 16}, {Compress: true, MaxCookies: 16}} {
		c := lgCodec(t, cfg)
		s := c.New()
		s.Set("x", 1)
		token := lgBlob(8, 600)
		s.Set("token", token)
		for i := 0; i < 8; i++ {
			s.Set(fmt.Sprintf("a%d", i), "tiny") // smaller than token, bigger than x
		}
		cart := make([]lgCartItem, 3000)
		for i := range cart {
			cart[i] = lgCartItem{SKU: fmt.Sprintf("SKU-%05d", i), Name: lgBlob(uint64(i), 12), Qty: i, Price: i * 7}
		}
		s.Set("cart", cart)
		_, err := c.Encode(s)
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("%+v: Encode: %v, want ErrTooLarge", cfg, err)
		}
		msg := err.Error()
		want := fmt.Sprintf("; largest entries (key and value, of 11): %d, %d, %d B of msgpack",
			size("cart", cart), size("token", token), size("a0", "tiny"))
		if !strings.HasSuffix(msg, want) {
			t.Fatalf("%+v: message %q does not end with %q", cfg, msg, want)
		}
		for _, key := range []string{"cart", "token", "a0", "x"} {
			if strings.Contains(msg, strconv.Quote(key)) {
				t.Fatalf("%+v: message %q names the key %q", cfg, msg, key)
			}
		}
		_, err = c.Cookies(s)
		if err == nil || err.Error() != msg {
			t.Fatalf("Cookies: %v; want the same error as Encode", err)
		}
	}
	// With two keys, both are given, biggest first.
	c := lgCodec(t, Config{})
	s := c.New()
	s.Set("x", 1)
	cart := lgBlob(9, 5000)
	s.Set("cart", cart)
	_, err := c.Encode(s)
	want := fmt.Sprintf("; largest entries (key and value, of 2): %d, %d B of msgpack", size("cart", cart), size("x", 1))
	if !errors.Is(err, ErrTooLarge) || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("Encode: %v; want ErrTooLarge ending with %q", err, want)
	}
}
