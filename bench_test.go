package cookiesession

import (
	"strings"
	"testing"

	"github.com/cookiesession/cookiesession/internal/benchdata"
)

// fillSmall fills s with the SMALL session of internal/benchdata, the one
// the comparison benchmarks in benchmarks/ measure.
func fillSmall(s *Session) { fill(s, benchdata.Small()) }

// fillLarge fills s with the LARGE session of internal/benchdata: 40 short
// keys and a 20-item cart, about 1.5 KB of msgpack.
func fillLarge(s *Session) { fill(s, benchdata.Large()) }

func fill(s *Session, kv []benchdata.KV) {
	for _, e := range kv {
		s.Set(e.Key, e.Value)
	}
}

var benchSessions = []struct {
	name string
	fill func(*Session)
	read string // the key a request reads
}{
	{"SMALL", fillSmall, "csrf"},
	{"LARGE", fillLarge, "k10"},
}

// benchCodec is a codec as a server would run it: the real clock, a random
// key, the default limits.
func benchCodec(b *testing.B) *Codec {
	b.Helper()
	k, err := GenerateKey("k1")
	if err != nil {
		b.Fatal(err)
	}
	c, err := NewCodec(Config{Keys: wfKeyring(b, k)})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func benchCookie(b *testing.B, c *Codec, fill func(*Session)) string {
	b.Helper()
	s := c.New()
	fill(s)
	v, err := c.Encode(s)
	if err != nil || v == "" {
		b.Fatalf("Encode = %d bytes, %v", len(v), err)
	}
	return v
}

func BenchmarkEncode(b *testing.B) {
	for _, bs := range benchSessions {
		b.Run(bs.name, func(b *testing.B) {
			c := benchCodec(b)
			s := c.New()
			bs.fill(s)
			var v string
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if v, err = c.Encode(s); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(v)), "cookie-bytes")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, bs := range benchSessions {
		b.Run(bs.name, func(b *testing.B) {
			c := benchCodec(b)
			v := benchCookie(b, c, bs.fill)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Decode(v); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(v)), "cookie-bytes")
		})
	}
}

// BenchmarkRoundTrip is one request: open the cookie, read a key, change a
// key, seal it again.
func BenchmarkRoundTrip(b *testing.B) {
	for _, bs := range benchSessions {
		b.Run(bs.name, func(b *testing.B) {
			c := benchCodec(b)
			v := benchCookie(b, c, bs.fill)
			var out string
			b.ReportAllocs()
			for b.Loop() {
				s, err := c.Decode(v)
				if err != nil {
					b.Fatal(err)
				}
				if _, ok := Get[string](s, bs.read); !ok {
					b.Fatalf("%s missing", bs.read)
				}
				s.Set("last_seen", int64(1700000000))
				if out, err = c.Encode(s); err != nil || out == "" {
					b.Fatalf("Encode = %q, %v", out, err)
				}
			}
			b.ReportMetric(float64(len(out)), "cookie-bytes")
		})
	}
}

// TestBenchSessionSizes keeps the benchmark sessions what their names say:
// SMALL well under a kilobyte, LARGE about 1.5 KB of msgpack, both opening
// to what was set.
func TestBenchSessionSizes(t *testing.T) {
	c := wfCodec(t, "session", Config{})
	for _, bs := range benchSessions {
		s := c.New()
		bs.fill(s)
		p := len(wfPayload(t, c, s))
		v := mustEncode(t, c, s)
		t.Logf("%s: payload %d bytes, cookie value %d bytes", bs.name, p, len(v))
		switch bs.name {
		case "SMALL":
			if p > 300 {
				t.Errorf("SMALL payload is %d bytes", p)
			}
		case "LARGE":
			if p < 1350 || p > 1650 {
				t.Errorf("LARGE payload is %d bytes, want about 1500", p)
			}
		}
		got, err := c.Decode(v)
		if err != nil {
			t.Fatal(err)
		}
		wfSameSession(t, got, s)
	}
	s, _ := c.Decode(mustEncode(t, c, func() *Session { s := c.New(); fillLarge(s); return s }()))
	cart, ok := Get[[]benchdata.CartItem](s, "cart")
	if !ok || len(cart) != 20 || cart[19].Name != "Widget model 19, blue" || cart[19].Price != 2399 {
		t.Fatalf("LARGE cart came back as %+v, %v", cart, ok)
	}
	if v, ok := Get[int64](s, "k39"); !ok || v != 1039 {
		t.Fatalf("k39 = %v, %v", v, ok)
	}
	small, _ := c.Decode(mustEncode(t, c, func() *Session { s := c.New(); fillSmall(s); return s }()))
	if roles, ok := Get[[]string](small, "roles"); !ok || strings.Join(roles, ",") != "admin,editor" {
		t.Fatalf("SMALL roles = %v, %v", roles, ok)
	}
	if id, ok := Get[int64](small, "user_id"); !ok || id != 42 {
		t.Fatalf("SMALL user_id = %v, %v", id, ok)
	}
}

// BenchmarkChunked10KB: Cookies and DecodeCookies of a 10 KB session over
// three cookies (MaxCookies 4).
func BenchmarkChunked10KB(b *testing.B) {
	c := lgCodec(b, Config{MaxCookies: 4})
	s := c.New()
	lgFill10KB(s)
	set := lgSetCookies(lgMustCookies(b, c, s))
	b.ReportAllocs()
	for b.Loop() {
		cks, err := c.Cookies(s)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.DecodeCookies(cks[:len(set)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(lgCookieBytes(set)), "cookie-bytes") // after the loop, which resets metrics
}

// BenchmarkCompressLarge: Encode and Decode of the LARGE session with
// Compress off and on; cookie-bytes shows the size saved.
func BenchmarkCompressLarge(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(map[bool]string{false: "off", true: "on"}[on], func(b *testing.B) {
			c := lgCodec(b, Config{Compress: on})
			s := c.New()
			fillLarge(s)
			v := mustEncode(b, c, s)
			b.ReportAllocs()
			for b.Loop() {
				v, err := c.Encode(s)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Decode(v); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(c.name)+1+len(v)), "cookie-bytes")
		})
	}
}
