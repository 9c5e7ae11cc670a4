package benchmarks

import (
	"strings"
	"testing"

	cs "github.com/cookiesession/cookiesession"
)

// The cost of the two ways past one cookie's 4096 bytes: compression of the
// LARGE session (cookie-bytes shows the size saved) and a session of about
// 10 KB of cookies chunked over several, each as a round trip through the
// public API a serverless handler would use.

func largeCodec(b *testing.B, cfg cs.Config) *cs.Codec {
	k, err := cs.GenerateKey("k1")
	if err != nil {
		b.Fatal(err)
	}
	if cfg.Keys, err = cs.NewKeyring(k); err != nil {
		b.Fatal(err)
	}
	cfg.Name = CookieName
	c, err := cs.NewCodec(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkLargeCompress(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(map[bool]string{false: "off", true: "on"}[on], func(b *testing.B) {
			c := largeCodec(b, cs.Config{Compress: on})
			s := c.New()
			for _, kv := range Large() {
				s.Set(kv.Key, kv.Value)
			}
			var v string
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if v, err = c.Encode(s); err != nil {
					b.Fatal(err)
				}
				if _, err := c.Decode(v); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(CookieName)+1+len(v)), "cookie-bytes")
		})
	}
}

func BenchmarkLargeChunked10KB(b *testing.B) {
	c := largeCodec(b, cs.Config{MaxCookies: 6})
	s := c.New()
	s.Set("blob", strings.Repeat("0123456789abcdef", 5600/16)) // about 10 KB of cookies once sealed
	total := 0
	b.ReportAllocs()
	for b.Loop() {
		cookies, err := c.Cookies(s)
		if err != nil {
			b.Fatal(err)
		}
		live := cookies[:0:0]
		total = 0
		for _, ck := range cookies {
			if ck.MaxAge >= 0 { // skip the deletions of unused chunk names
				live = append(live, ck)
				total += len(ck.Name) + 1 + len(ck.Value)
			}
		}
		if _, err := c.DecodeCookies(live); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total), "cookie-bytes")
}
