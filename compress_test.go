package cookiesession

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// TestCompress_LargeIsShorterAndRoundTrips: the LARGE session, repetitive
// as real sessions are, seals shorter with Compress on, carries the 0xc1
// marker, and opens into byte-identical values.
func TestCompress_LargeIsShorterAndRoundTrips(t *testing.T) {
	kr := newKeyring(t, "k1")
	off := lgCodec(t, Config{Keys: kr})
	on := lgCodec(t, Config{Keys: kr, Compress: true})
	s := off.New()
	lgFillLarge(s)
	vOff, vOn := mustEncode(t, off, s), mustEncode(t, on, s)
	t.Logf("LARGE: %d bytes of cookie value uncompressed, %d compressed: ratio %.3f, %d bytes saved",
		len(vOff), len(vOn), float64(len(vOn))/float64(len(vOff)), len(vOff)-len(vOn))
	if len(vOn) >= len(vOff)*3/4 {
		t.Fatalf("compressed LARGE is %d bytes, uncompressed %d: want at least 25%% shorter", len(vOn), len(vOff))
	}
	if p := lgUnseal(t, on, vOn); p[0] != compressedMarker {
		t.Fatalf("compressed payload starts with %#x, want the marker 0xc1", p[0])
	}
	if p := lgUnseal(t, off, vOff); p[0] == compressedMarker || !bytes.Equal(p, lgEnvelope(off, s)) {
		t.Fatalf("uncompressed payload is not the envelope")
	}
	got := mustDecode(t, on, vOn)
	lgSameData(t, got, s)
	if got.ID() != s.ID() || !got.CreatedAt().Equal(s.CreatedAt()) {
		t.Fatalf("ID or creation time changed across the compressed round trip")
	}
	var cart []lgCartItem
	if cart, _ = Get[[]lgCartItem](got, "cart"); len(cart) != 20 || cart[19].Name != "Widget model 19, blue" {
		t.Fatalf("cart after the round trip: %+v", cart)
	}
	// Size is the uncompressed upper bound.
	if sz := s.Size(); sz != len(off.name)+1+len(vOff) {
		t.Fatalf("Size() = %d, want the uncompressed %d", sz, len(off.name)+1+len(vOff))
	}
	if szOn := got.Size(); szOn < len(on.name)+1+len(vOn) {
		t.Fatalf("with Compress, Size() = %d is below the actual %d", szOn, len(on.name)+1+len(vOn))
	}
}

// TestCompress_IncompressibleStaysPlain: random bytes do not shrink, so the
// payload is sealed as is: no marker, same length as with Compress off.
func TestCompress_IncompressibleStaysPlain(t *testing.T) {
	kr := newKeyring(t, "k1")
	off := lgCodec(t, Config{Keys: kr})
	on := lgCodec(t, Config{Keys: kr, Compress: true})
	for _, n := range []int{16, 200, 2000} {
		s := on.New()
		s.Set("rnd", lgRandomBytes(uint64(n), n))
		vOn, vOff := mustEncode(t, on, s), mustEncode(t, off, s)
		p := lgUnseal(t, on, vOn)
		if p[0] == compressedMarker || !bytes.Equal(p, lgEnvelope(on, s)) {
			t.Fatalf("%d random bytes: payload starts with %#x; want the plain envelope", n, p[0])
		}
		if len(vOn) != len(vOff) {
			t.Fatalf("%d random bytes: %d bytes with Compress, %d without; want equal", n, len(vOn), len(vOff))
		}
		lgSameData(t, mustDecode(t, on, vOn), s)
	}
}

// TestCompress_CodecsOpenEachOther: turning Compress on or off logs nobody
// out.
func TestCompress_CodecsOpenEachOther(t *testing.T) {
	kr := newKeyring(t, "k1")
	off := lgCodec(t, Config{Keys: kr})
	on := lgCodec(t, Config{Keys: kr, Compress: true})
	s := off.New()
	lgFillLarge(s)
	for _, tc := range []struct {
		name       string
		seal, open *Codec
	}{{"on->off", on, off}, {"off->on", off, on}, {"on->on", on, on}} {
		v := mustEncode(t, tc.seal, s)
		got, err := tc.open.Decode(v)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		lgSameData(t, got, s)
	}
}

// lgRawDeflate is 0xc1 followed by the raw DEFLATE stream of p.
func lgRawDeflate(t testing.TB, p []byte, level int) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteByte(compressedMarker)
	w, err := flate.NewWriter(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestCompress_BombIsCheap: a sealed, genuine cookie whose payload inflates
// to 10 MB of zeros (after a valid envelope head) is ErrInvalid, and
// opening it allocates under 1 MiB.
func TestCompress_BombIsCheap(t *testing.T) {
	var b bytes.Buffer
	b.WriteByte(compressedMarker)
	b.Write(append([]byte{0x90 | envelopeFields}, wfCat(wfFields()[:7]...)...)) // the head
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	zeros := make([]byte, 64<<10)
	for i := 0; i < (10<<20)/len(zeros); i++ {
		w.Write(zeros)
	}
	w.Close()
	bomb := b.Bytes()
	for _, compress := range []bool{false, true} {
		c := lgCodec(t, Config{MaxLength: 64 << 10, Compress: compress})
		v := lgSealRaw(t, c, bomb)
		t.Logf("bomb: %d bytes of DEFLATE, %d bytes sealed", len(bomb), len(v))
		if _, err := c.Decode(v); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "inflates past") {
			t.Fatalf("warm-up Decode of the bomb: %v", err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.GC() // empties the pools too: the reader is allocated afresh
		runtime.ReadMemStats(&before)
		s, err := c.Decode(v)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrInvalid) || s != nil {
			t.Fatalf("Decode of the bomb: %v, %v; want ErrInvalid", s, err)
		}
		delta := after.TotalAlloc - before.TotalAlloc
		t.Logf("Compress=%v: Decode of the bomb allocated %d bytes", compress, delta)
		if delta >= 1<<20 {
			t.Fatalf("Decode of the bomb allocated %d bytes, want under 1 MiB", delta)
		}
	}
}

// lgBlobEnvelope returns a session of c holding one string under "blob"
// whose envelope is exactly n bytes long.
func lgBlobEnvelope(t testing.TB, c *Codec, n int) *Session {
	t.Helper()
	s := c.New()
	s.Set("blob", strings.Repeat("a", 1000))
	l := 1000 + n - len(lgEnvelope(c, s))
	s.Set("blob", strings.Repeat("a", l))
	if got := len(lgEnvelope(c, s)); got != n {
		t.Fatalf("envelope is %d bytes, want %d", got, n)
	}
	return s
}

// TestCompress_InflateLimit: a payload that inflates to exactly 64 KiB
// opens; one byte more is ErrInvalid. On the sealing side, Encode takes an
// envelope of exactly 64 KiB and refuses one byte more with ErrTooLarge,
// even though it would compress into one cookie, and even with MaxCookies
// 16.
func TestCompress_InflateLimit(t *testing.T) {
	for _, cfg := range []Config{{Compress: true}, {Compress: true, MaxCookies: 16}, {Compress: true, MaxCookies: 16, MaxLength: 1 << 20}} {
		c := lgCodec(t, cfg)
		at := lgBlobEnvelope(t, c, maxPayload)
		over := lgBlobEnvelope(t, c, maxPayload+1)

		// Opening: seal the compressed envelopes directly.
		v := lgSealRaw(t, c, deflate(lgEnvelope(c, at)))
		got, err := c.Decode(v)
		if err != nil {
			t.Fatalf("MaxCookies %d: Decode of a payload inflating to exactly %d bytes: %v", cfg.MaxCookies, maxPayload, err)
		}
		lgSameData(t, got, at)
		v = lgSealRaw(t, c, deflate(lgEnvelope(c, over)))
		if _, err := c.Decode(v); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "inflates past") {
			t.Fatalf("Decode of a payload inflating to %d bytes: %v, want ErrInvalid", maxPayload+1, err)
		}

		// Sealing.
		v, err = c.Encode(at)
		if err != nil {
			t.Fatalf("MaxCookies %d: Encode of a %d-byte envelope: %v", cfg.MaxCookies, maxPayload, err)
		}
		if len(c.name)+1+len(v) > c.maxLength {
			t.Fatalf("compressed 64 KiB envelope does not fit one cookie: %d bytes", len(v))
		}
		lgSameData(t, mustDecode(t, c, v), at)
		v, err = c.Encode(over)
		if !errors.Is(err, ErrTooLarge) || v != "" || !strings.Contains(err.Error(), "65537") || !strings.Contains(err.Error(), `"blob"`) {
			t.Fatalf("MaxCookies %d: Encode of a %d-byte envelope: %q, %v; want ErrTooLarge naming the size and \"blob\"", cfg.MaxCookies, maxPayload+1, v, err)
		}
		// Room ignores compression; with room enough for 64 KiB uncompressed
		// it is exact at the payload limit.
		if over.Room() >= 0 || cfg.MaxLength == 1<<20 && (at.Room() != 0 || over.Room() != -1) {
			t.Fatalf("MaxCookies %d: Room() %d at the limit, %d over it", cfg.MaxCookies, at.Room(), over.Room())
		}
	}
}

// TestCompress_MalformedStreams: trailing bytes, truncation and garbage
// after the marker are ErrInvalid.
func TestCompress_MalformedStreams(t *testing.T) {
	c := lgCodec(t, Config{Compress: true})
	s := c.New()
	lgFillLarge(s)
	good := deflate(lgEnvelope(c, s))
	if good[0] != compressedMarker {
		t.Fatal("LARGE did not compress")
	}
	lgSameData(t, mustDecode(t, c, lgSealRaw(t, c, good)), s) // the control
	for name, p := range map[string][]byte{
		"one trailing byte":    append(bytes.Clone(good), 0),
		"trailing stream":      append(bytes.Clone(good), good[1:]...),
		"truncated by 1":       good[:len(good)-1],
		"truncated to half":    good[:len(good)/2],
		"marker alone":         {compressedMarker},
		"garbage":              {compressedMarker, 0xff, 0xff, 0xff, 0xff},
		"stored empty stream":  {compressedMarker, 0x01, 0x00, 0x00, 0xff, 0xff},
		"not msgpack inflated": lgRawDeflate(t, []byte("hello, world, hello, world"), flate.BestCompression),
		"nested marker":        lgRawDeflate(t, good, flate.NoCompression),
	} {
		s, err := c.Decode(lgSealRaw(t, c, p))
		if !errors.Is(err, ErrInvalid) || s != nil {
			t.Errorf("%s: %v, %v; want ErrInvalid", name, s, err)
		}
	}
}

// TestCompress_SessionIDOutsideTheWindow: with Compress, the cookie's
// length does not depend on whether a value an attacker sets matches the
// session ID, because the ID is sealed outside the DEFLATE stream: two
// sessions that differ only in their ID, one of them equal to the
// attacker's value, give cookies of the same length. Values inside the
// session are another matter (SECURITY.md): the same measurement tells
// whether the attacker's value matches a token stored under another key,
// which shows the measurement can see a match.
func TestCompress_SessionIDOutsideTheWindow(t *testing.T) {
	k := wfKey("k1")
	c := wfCodec(t, "session", Config{Keys: wfKeyring(t, k), Compress: true})
	random := func(n int) []byte {
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	length := func(id []byte, data map[string]any) int {
		s := c.New()
		s.mu.Lock()
		copy(s.id[:], id)
		s.hasID = true
		s.mu.Unlock()
		for key, v := range data {
			s.Set(key, v)
		}
		v := mustEncode(t, c, s)
		_, sealed, _ := strings.Cut(v, ".")
		var buf []byte
		plain, _, err := unseal(c.keys.load().primary, c.namePipe, sealed, &buf, nil)
		if err != nil || plain[0] != compressedMarker {
			t.Fatalf("cookie not compressed (%v)", err)
		}
		return len(v)
	}
	for range 20 {
		id, other := random(sessionIDLen), random(sessionIDLen)
		token := hex.EncodeToString(random(16))
		data := func(guess string) map[string]any {
			return map[string]any{"user": "alice", "csrf": token, "note": guess, "pad": strings.Repeat("ab", 40)}
		}
		if match, miss := length(id, data(string(id))), length(other, data(string(id))); match != miss {
			t.Fatalf("a value equal to the session ID gives a cookie of %d bytes, a different ID %d", match, miss)
		}
		if match, miss := length(id, data(token)), length(id, data(hex.EncodeToString(random(16)))); match >= miss {
			t.Fatalf("guessing the csrf token: match %d bytes, miss %d; the measurement sees no match", match, miss)
		}
	}
}
