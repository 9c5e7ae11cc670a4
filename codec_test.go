package cookiesession

// Wire-format tests: the sealed value against gorilla/securecookie, both
// ways and byte for byte; strict decoding; errors. Helpers shared by the
// wire-format files (hostile_test.go, fuzz_test.go, format_test.go,
// bench_test.go) live here and are all prefixed wf.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
)

// wfNow is the fixed instant of the wire-format tests (2023-11-14T22:13:20Z).
const wfNow = 1700000000

// wfKey returns a Key whose secret is fixed by its ID, so that cookies made
// in one process (a fuzz worker, a committed corpus file) open in another.
func wfKey(id string) Key {
	sum := sha256.Sum256([]byte("cookiesession wire-format test secret " + id))
	return Key{ID: id, Secret: sum[:]}
}

func wfKeyring(tb testing.TB, primary Key, accepted ...Key) *Keyring {
	tb.Helper()
	kr, err := NewKeyring(primary, accepted...)
	if err != nil {
		tb.Fatalf("NewKeyring: %v", err)
	}
	return kr
}

// wfCodec returns a codec named name that seals with wfKey("k1") and reads a
// clock stopped at wfNow. cfg's other fields are kept.
func wfCodec(tb testing.TB, name string, cfg Config) *Codec {
	tb.Helper()
	cfg.Name = name
	if cfg.Keys == nil {
		cfg.Keys = wfKeyring(tb, wfKey("k1"))
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Unix(wfNow, 0) }
	}
	c, err := NewCodec(cfg)
	if err != nil {
		tb.Fatalf("NewCodec(%q): %v", name, err)
	}
	return c
}

// wfHKDF is HKDF-SHA256 (RFC 5869) with an empty salt and a 32-byte output,
// written out from HMAC so that it checks the library's key derivation
// rather than repeating it.
func wfHKDF(secret []byte, info string) []byte {
	ext := hmac.New(sha256.New, make([]byte, sha256.Size)) // empty salt = HashLen zeros
	ext.Write(secret)
	prk := ext.Sum(nil)
	exp := hmac.New(sha256.New, prk)
	exp.Write([]byte(info))
	exp.Write([]byte{1})
	return exp.Sum(nil) // T(1): exactly the 32 bytes asked for
}

// wfDerive derives k's format v2 keys, bound to its ID (FORMAT.md §1).
func wfDerive(k Key) (hashKey, blockKey []byte) {
	return wfHKDF(k.Secret, "cookiesession/v2 hmac-sha256\x00"+k.ID), wfHKDF(k.Secret, "cookiesession/v2 aes-256\x00"+k.ID)
}

// wfSecureCookie is securecookie set up as FORMAT.md says: the derived keys,
// no serialiser, no age limit of its own, no length limit of its own.
func wfSecureCookie(k Key) *securecookie.SecureCookie {
	hashKey, blockKey := wfDerive(k)
	return securecookie.New(hashKey, blockKey).
		SetSerializer(securecookie.NopEncoder{}).
		MaxAge(0).
		MaxLength(0)
}

// wfPayload returns the envelope Encode would seal for s now.
func wfPayload(tb testing.TB, c *Codec, s *Session) []byte {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	now := c.unixNow()
	dropExpired(&s.entries, now)
	return c.appendPayload(nil, s, now, c.deadline(s, now))
}

// wfSeal seals payload, whatever it holds, under c's primary key at c's
// clock: how a hostile payload gets a genuine seal.
func wfSeal(tb testing.TB, c *Codec, payload []byte) string {
	tb.Helper()
	var buf []byte
	v, err := c.seal(c.keys.load().primary, bytes.Clone(payload), c.unixNow(), &buf)
	if err != nil {
		tb.Fatalf("seal of %d bytes: %v", len(payload), err)
	}
	return v
}

// wfFixedIV is an IV source that yields the same bytes over and over.
type wfFixedIV []byte

func (r wfFixedIV) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r[i%len(r)]
	}
	return len(p), nil
}

// wfRefSeal is securecookie's Encode written out from its source (v1.1.2)
// with the IV and clock as parameters: the reference the library must match
// byte for byte.
func wfRefSeal(hashKey, blockKey []byte, name string, ts int64, iv, payload []byte) string {
	block, err := aes.NewCipher(blockKey)
	if err != nil {
		panic(err)
	}
	ivct := append(bytes.Clone(iv), make([]byte, len(payload))...)
	cipher.NewCTR(block, iv).XORKeyStream(ivct[len(iv):], payload)
	return wfFrame(hashKey, name, strconv.FormatInt(ts, 10), base64.URLEncoding.EncodeToString(ivct))
}

// wfFrame builds base64url(ts "|" inner "|" HMAC(name "|" ts "|" inner))
// from parts the caller chose: a correctly MACed value whose parts may be
// malformed, so that only the strictness checks can reject it.
func wfFrame(hashKey []byte, name, ts, inner string) string {
	m := hmac.New(sha256.New, hashKey)
	m.Write([]byte(name + "|" + ts + "|" + inner))
	return base64.URLEncoding.EncodeToString(append([]byte(ts+"|"+inner+"|"), m.Sum(nil)...))
}

// wfParts splits a well-formed value "id.V" into its key ID, timestamp,
// inner base64 and MAC.
func wfParts(tb testing.TB, v string) (id, ts, inner string, mac []byte) {
	tb.Helper()
	id, sealed, ok := strings.Cut(v, ".")
	if !ok {
		tb.Fatalf("value %q has no key ID", v)
	}
	mid, err := base64.URLEncoding.DecodeString(sealed)
	if err != nil {
		tb.Fatalf("value is not base64url: %v", err)
	}
	parts := bytes.SplitN(mid, []byte("|"), 3)
	if len(parts) != 3 || len(parts[2]) != sha256.Size {
		tb.Fatalf("value is not ts|inner|mac")
	}
	return id, string(parts[0]), string(parts[1]), parts[2]
}

// wfSessions are the sessions of the differential and strictness tests.
var wfSessions = []struct {
	name string
	fill func(s *Session)
}{
	{"one-key", func(s *Session) { s.Set("a", 1) }},
	{"flash-only", func(s *Session) { s.AddFlash("saved") }},
	{"SMALL", fillSmall},
	{"LARGE", fillLarge},
	{"unicode-keys", func(s *Session) {
		s.Set("", "empty key")
		s.Set("ключ", "значение")
		s.Set("日本語", []string{"一", "二"})
		s.Set("emoji 🍪", "🍪🍪")
		s.Set("ascii", true)
		s.Set("\u00e9", "precomposed")
		s.Set("e\u0301", "combining")
	}},
	{"binary-values", func(s *Session) {
		all := make([]byte, 256)
		for i := range all {
			all[i] = byte(i)
		}
		s.Set("all-bytes", all)
		s.Set("empty-bytes", []byte{})
		s.Set("\xff\xfe not utf-8", "\x00\xff\x80")
		s.Set("nested", map[string]any{"b": []byte{0, 1}, "f": 1.5, "n": nil, "t": time.Unix(wfNow, 123456789).UTC()})
		s.Set("pipes|and.dots=", "a|b|c")
	}},
	{"ttl-and-browser-close", func(s *Session) {
		s.Set("user", int64(7))
		s.SetWithTTL("otp", "493817", 5*time.Minute)
		s.SetExpiry(0)
		s.AddFlash(map[string]any{"level": "info", "text": "hello"})
	}},
	{"idle-expiry", func(s *Session) {
		s.Set("cart", []int{1, 2, 3})
		s.SetExpiry(30 * time.Minute)
	}},
	{"absolute-expiry", func(s *Session) {
		s.Set("x", -1)
		s.SetExpiryAt(time.Unix(wfNow+3600, 0))
	}},
}

// wfNames are cookie names for the differential tests: plain, prefixed,
// one character, and every token character (including '|' and '.').
var wfNames = []string{"session", "__Host-sid", "a", "x!#$%&'*+-.^_`|~"}

// wfRaw returns the msgpack bytes s holds for key, or nil.
func wfRaw(s *Session, key string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.find(key); e != nil {
		return e.raw
	}
	return nil
}

func wfFlashRaws(s *Session) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	var out [][]byte
	for _, f := range s.flashes {
		out = append(out, f.raw)
	}
	return out
}

// wfSameSession fails unless got carries exactly what want does: ID,
// creation time, expiry policy, keys, each value's msgpack bytes and Go
// value, each key's TTL, and the flash messages. Go values are compared
// only if want came from a cookie too (a value set in this process keeps
// the Go type it was set with, which msgpack does not carry).
func wfSameSession(tb testing.TB, got, want *Session) {
	tb.Helper()
	if got.ID() != want.ID() {
		tb.Errorf("ID %s, want %s", got.ID(), want.ID())
	}
	if !got.CreatedAt().Equal(want.CreatedAt()) {
		tb.Errorf("CreatedAt %v, want %v", got.CreatedAt(), want.CreatedAt())
	}
	if got.ExpiresAtBrowserClose() != want.ExpiresAtBrowserClose() || got.ExpiryAge() != want.ExpiryAge() {
		tb.Errorf("expiry (browser close %v, age %v), want (%v, %v)",
			got.ExpiresAtBrowserClose(), got.ExpiryAge(), want.ExpiresAtBrowserClose(), want.ExpiryAge())
	}
	gk, wk := got.Keys(), want.Keys()
	if !reflect.DeepEqual(gk, wk) {
		tb.Fatalf("Keys %q, want %q", gk, wk)
	}
	for _, k := range wk {
		if g, w := wfRaw(got, k), wfRaw(want, k); !bytes.Equal(g, w) {
			tb.Errorf("key %q: msgpack % x, want % x", k, g, w)
		}
		gv, _ := got.Get(k)
		wv, _ := want.Get(k)
		if want.KeyID() != "" && !wfDeepEqual(gv, wv) {
			tb.Errorf("key %q: value %#v, want %#v", k, gv, wv)
		}
		ge, gok := got.KeyExpiry(k)
		we, wok := want.KeyExpiry(k)
		if gok != wok || !ge.Equal(we) {
			tb.Errorf("key %q: KeyExpiry %v %v, want %v %v", k, ge, gok, we, wok)
		}
	}
	if g, w := wfFlashRaws(got), wfFlashRaws(want); !reflect.DeepEqual(g, w) {
		tb.Errorf("flashes % x, want % x", g, w)
	}
}

// wfDeepEqual is reflect.DeepEqual with NaN equal to NaN, and time.Time
// compared as instants.
func wfDeepEqual(a, b any) bool {
	return wfEqualValue(reflect.ValueOf(a), reflect.ValueOf(b))
}

func wfEqualValue(a, b reflect.Value) bool {
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() {
		return false
	}
	if ta, ok := a.Interface().(time.Time); ok {
		return ta.Equal(b.Interface().(time.Time))
	}
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		fa, fb := a.Float(), b.Float()
		return fa == fb || math.IsNaN(fa) && math.IsNaN(fb)
	case reflect.Interface, reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return wfEqualValue(a.Elem(), b.Elem())
	case reflect.Slice, reflect.Array:
		if a.Kind() == reflect.Slice && a.IsNil() != b.IsNil() {
			return false
		}
		if a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !wfEqualValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() {
			return false
		}
		it := a.MapRange()
		for it.Next() {
			bv := b.MapIndex(it.Key())
			if !bv.IsValid() {
				// A NaN key is never found by MapIndex: look for one by hand.
				found := false
				for _, bk := range b.MapKeys() {
					if wfEqualValue(it.Key(), bk) && wfEqualValue(it.Value(), b.MapIndex(bk)) {
						found = true
						break
					}
				}
				if !found {
					return false
				}
				continue
			}
			if !wfEqualValue(it.Value(), bv) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if !wfEqualValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	return a.Comparable() && a.Equal(b)
}

// TestKeyDerivation checks the derived keys against HKDF written out from
// HMAC, and that the two keys differ from each other and from the secret.
func TestKeyDerivation(t *testing.T) {
	for _, k := range []Key{wfKey("k1"), wfKey("2024-06"), {ID: "long", Secret: bytes.Repeat([]byte{0xa5}, 100)}} {
		kr := wfKeyring(t, k)
		sk := kr.load().primary
		hashKey, blockKey := wfDerive(k)
		if !bytes.Equal(sk.hashKey, hashKey) {
			t.Errorf("key %s: hashKey %x, want HKDF-SHA256(secret, \"\", %q) = %x", k.ID, sk.hashKey, hkdfInfoHMAC+k.ID, hashKey)
		}
		if !bytes.Equal(sk.blockKey, blockKey) {
			t.Errorf("key %s: blockKey %x, want HKDF-SHA256(secret, \"\", %q) = %x", k.ID, sk.blockKey, hkdfInfoAES+k.ID, blockKey)
		}
		if bytes.Equal(hashKey, blockKey) || bytes.Equal(hashKey, k.Secret[:32]) || bytes.Equal(blockKey, k.Secret[:32]) {
			t.Errorf("key %s: derived keys are not independent", k.ID)
		}
	}
}

// TestSecureCookieOpensLibraryValues: whatever Encode returns, securecookie
// with the derived keys opens after the "keyID." prefix, to exactly the
// payload the library meant to seal.
func TestSecureCookieOpensLibraryValues(t *testing.T) {
	for _, name := range wfNames {
		c := wfCodec(t, name, Config{})
		sc := wfSecureCookie(wfKey("k1"))
		for _, tc := range wfSessions {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				s := c.New()
				tc.fill(s)
				v, err := c.Encode(s)
				if err != nil || v == "" {
					t.Fatalf("Encode = %q, %v", v, err)
				}
				want := wfPayload(t, c, s)
				id, sealed, _ := strings.Cut(v, ".")
				if id != "k1" {
					t.Fatalf("key ID %q, want k1", id)
				}
				var got []byte
				if err := sc.Decode(name, sealed, &got); err != nil {
					t.Fatalf("securecookie.Decode: %v", err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("securecookie opened\n% x\nwant the payload\n% x", got, want)
				}
				// The name is bound: securecookie refuses it under another.
				if err := sc.Decode(name+"x", sealed, &got); err == nil {
					t.Fatalf("securecookie opened the value under another cookie name")
				}
			})
		}
	}
}

// TestLibraryOpensSecureCookieValues: a payload the library produced,
// sealed by securecookie itself and prefixed with "k1.", opens to the same
// session as the library's own cookie.
func TestLibraryOpensSecureCookieValues(t *testing.T) {
	for _, name := range wfNames {
		c := wfCodec(t, name, Config{})
		sc := wfSecureCookie(wfKey("k1"))
		for _, tc := range wfSessions {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				s := c.New()
				tc.fill(s)
				own, err := c.Decode(mustEncode(t, c, s))
				if err != nil {
					t.Fatalf("Decode of the library's own value: %v", err)
				}
				sealed, err := sc.Encode(name, wfPayload(t, c, s)) // encrypted in place: a fresh slice
				if err != nil {
					t.Fatalf("securecookie.Encode: %v", err)
				}
				got, err := c.Decode("k1." + sealed)
				if err != nil {
					t.Fatalf("Decode of securecookie's value: %v", err)
				}
				wfSameSession(t, got, own)
				wfSameSession(t, got, s)
				if got.KeyID() != "k1" {
					t.Errorf("KeyID %q, want k1", got.KeyID())
				}
				// And under another name it does not open.
				other := wfCodec(t, name+"x", Config{})
				if _, err := other.Decode("k1." + sealed); !errors.Is(err, ErrInvalid) {
					t.Errorf("Decode under another name: %v, want ErrInvalid", err)
				}
			})
		}
	}
}

// TestSealMatchesSecureCookieByteForByte takes securecookie's own output,
// reads the IV and timestamp it chose, and has the library seal the same
// payload with that IV at that time: the two values must be identical.
func TestSealMatchesSecureCookieByteForByte(t *testing.T) {
	for _, name := range wfNames {
		c := wfCodec(t, name, Config{})
		sc := wfSecureCookie(wfKey("k1"))
		hashKey, blockKey := wfDerive(wfKey("k1"))
		for _, tc := range wfSessions {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				s := c.New()
				tc.fill(s)
				payload := wfPayload(t, c, s)
				// securecookie with NopEncoder encrypts the slice it is
				// given in place: hand it a copy.
				want, err := sc.Encode(name, bytes.Clone(payload))
				if err != nil {
					t.Fatal(err)
				}
				_, tsText, inner, _ := wfParts(t, "k1."+want)
				ivct, err := base64.URLEncoding.DecodeString(inner)
				if err != nil {
					t.Fatal(err)
				}
				ts, err := strconv.ParseInt(tsText, 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				iv := ivct[:aes.BlockSize]
				c.rand = bytes.NewReader(iv)
				defer func() { c.rand = nil }()
				var buf []byte
				got, err := c.seal(c.keys.load().primary, bytes.Clone(payload), ts, &buf)
				if err != nil {
					t.Fatal(err)
				}
				if got != "k1."+want {
					t.Fatalf("library sealed\n%s\nsecurecookie sealed\nk1.%s", got, want)
				}
				// The reference written out from securecookie's source agrees.
				if ref := wfRefSeal(hashKey, blockKey, name, ts, iv, payload); ref != want {
					t.Fatalf("reference sealer disagrees with securecookie:\n%s\n%s", ref, want)
				}
			})
		}
	}
}

// TestEncodeUsesFixedIVAndClock: through the public Encode path, with the
// IV source and the clock fixed, the value is the reference sealer's.
func TestEncodeUsesFixedIVAndClock(t *testing.T) {
	iv := wfFixedIV{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	hashKey, blockKey := wfDerive(wfKey("k1"))
	for _, name := range wfNames {
		c := wfCodec(t, name, Config{})
		c.rand = iv
		for _, tc := range wfSessions {
			s := c.New()
			tc.fill(s)
			v := mustEncode(t, c, s)
			want := "k1." + wfRefSeal(hashKey, blockKey, name, wfNow, iv, wfPayload(t, c, s))
			if v != want {
				t.Errorf("%s/%s: Encode\n%s\nwant\n%s", name, tc.name, v, want)
			}
			if again := mustEncode(t, c, s); again != v {
				t.Errorf("%s/%s: same IV, clock and session sealed differently", name, tc.name)
			}
		}
	}
}

// wfPaddedValue returns a valid SMALL-ish cookie whose outer base64 ends in
// "=" padding and whose inner base64 does too, so that both have padding
// bits to tamper with.
func wfPaddedValue(t *testing.T, c *Codec) (v string, s *Session) {
	t.Helper()
	for n := 0; n < 30; n++ {
		s = c.New()
		fillSmall(s)
		s.Set("pad", strings.Repeat("p", n))
		v = mustEncode(t, c, s)
		_, _, inner, _ := wfParts(t, v)
		if strings.HasSuffix(v, "=") && !strings.HasSuffix(v, "==") && strings.HasSuffix(inner, "=") && !strings.HasSuffix(inner, "==") {
			return v, s
		}
	}
	t.Fatal("no padded value found")
	return "", nil
}

// wfBumpPadBits returns b64 (ending in exactly one "=") with the last data
// character changed so that it decodes to the same bytes through a lenient
// decoder: the two low bits of that character are padding bits.
func wfBumpPadBits(t *testing.T, b64 string) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := len(b64) - 2
	pos := strings.IndexByte(alphabet, b64[i])
	if pos < 0 || pos&3 != 0 {
		t.Fatalf("character %q before the padding has padding bits set already", b64[i])
	}
	out := b64[:i] + string(alphabet[pos|1]) + b64[i+1:]
	a, errA := base64.URLEncoding.DecodeString(b64)
	b, errB := base64.URLEncoding.DecodeString(out)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Fatalf("bumping the padding bits changed what a lenient decoder reads")
	}
	return out
}

// TestDecodeIsStrict: every way of writing a valid value differently is
// refused with ErrInvalid, including the ones securecookie lets through.
func TestDecodeIsStrict(t *testing.T) {
	c := wfCodec(t, "session", Config{})
	sc := wfSecureCookie(wfKey("k1"))
	hashKey, _ := wfDerive(wfKey("k1"))
	v, _ := wfPaddedValue(t, c)
	if _, err := c.Decode(v); err != nil {
		t.Fatalf("the valid value does not open: %v", err)
	}
	id, ts, inner, _ := wfParts(t, v)
	sealed := strings.TrimPrefix(v, id+".")
	scOpens := func(val string) bool {
		var p []byte
		return sc.Decode("session", strings.TrimPrefix(val, "k1."), &p) == nil
	}

	cases := []struct {
		name string
		val  string
		// securecookie's lenient decoder opens it: shown, not required.
		scLenient bool
	}{
		{name: "padding removed", val: strings.TrimRight(v, "=")},
		{name: "padding added", val: v + "="},
		{name: "four padding added", val: v + "===="},
		{name: "padding doubled in place", val: v[:len(v)-1] + "=="},
		{name: "byte appended", val: v + "A"},
		{name: "block appended", val: v + "AAAA"},
		{name: "dot appended", val: v + "."},
		{name: "space appended", val: v + " "},
		{name: "NUL appended", val: v + "\x00"},
		{name: "newline inside", val: v[:40] + "\n" + v[40:], scLenient: true},
		{name: "CR inside", val: v[:40] + "\r" + v[40:], scLenient: true},
		{name: "CRLF at the end", val: v + "\r\n", scLenient: true},
		{name: "four newlines (length stays a multiple of 4)", val: v[:20] + "\n\n\n\n" + v[20:], scLenient: true},
		{name: "non-canonical padding bits (outer)", val: id + "." + wfBumpPadBits(t, sealed), scLenient: true},
		{name: "non-canonical padding bits (inner), re-MACed", val: id + "." + wfFrame(hashKey, "session", ts, wfBumpPadBits(t, inner)), scLenient: true},
		{name: "inner padding removed, re-MACed", val: id + "." + wfFrame(hashKey, "session", ts, strings.TrimRight(inner, "="))},
		{name: "inner with newline, re-MACed", val: id + "." + wfFrame(hashKey, "session", ts, inner[:8]+"\n"+inner[8:]), scLenient: true},
		{name: "inner in standard alphabet, re-MACed", val: id + "." + wfFrame(hashKey, "session", ts, strings.NewReplacer("-", "+", "_", "/").Replace(inner))},
		{name: "timestamp with leading zero, re-MACed", val: id + "." + wfFrame(hashKey, "session", "0"+ts, inner), scLenient: true},
		{name: "timestamp with +, re-MACed", val: id + "." + wfFrame(hashKey, "session", "+"+ts, inner), scLenient: true},
		{name: "timestamp negative, re-MACed", val: id + "." + wfFrame(hashKey, "session", "-"+ts, inner), scLenient: true},
		{name: "timestamp zero, re-MACed", val: id + "." + wfFrame(hashKey, "session", "0", inner), scLenient: true},
		{name: "timestamp empty, re-MACed", val: id + "." + wfFrame(hashKey, "session", "", inner)},
		{name: "timestamp with space, re-MACed", val: id + "." + wfFrame(hashKey, "session", ts+" ", inner)},
		{name: "timestamp of 20 digits, re-MACed", val: id + "." + wfFrame(hashKey, "session", "1"+strings.Repeat("0", 19), inner)},
		{name: "outer in standard alphabet", val: id + "." + strings.NewReplacer("-", "+", "_", "/").Replace(sealed)},
		{name: "outer unpadded (RawURLEncoding)", val: id + "." + base64.RawURLEncoding.EncodeToString(mustB64(t, sealed))},
	}
	leniencyShown := 0
	for _, tc := range cases {
		if tc.val == v {
			// Only the alphabet cases can come out the same, when the
			// value holds no '-' or '_'.
			if !strings.Contains(tc.name, "alphabet") {
				t.Fatalf("%s: the altered value equals the original", tc.name)
			}
			continue
		}
		s, err := c.Decode(tc.val)
		if !errors.Is(err, ErrInvalid) || s != nil {
			t.Errorf("%s: Decode = %v, %v; want nil, ErrInvalid", tc.name, s, err)
		}
		if tc.scLenient {
			if !scOpens(tc.val) {
				t.Errorf("%s: expected securecookie to accept this (it is lenient); it did not", tc.name)
			} else {
				leniencyShown++
			}
		}
	}
	if leniencyShown == 0 {
		t.Fatal("no case showed securecookie's leniency")
	}
	// The re-MACed frames are otherwise right: the same frame with the
	// original parts opens (so the cases above fail only for strictness).
	if _, err := c.Decode(id + "." + wfFrame(hashKey, "session", ts, inner)); err != nil {
		t.Fatalf("re-framing the unaltered parts does not open: %v", err)
	}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.URLEncoding.Strict().DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeRejectsEveryOneCharacterChange changes each character of a
// valid value to each of a set of others: after the key ID every change is
// ErrInvalid; in the key ID it is ErrInvalid or ErrUnknownKey. Nothing
// opens.
func TestDecodeRejectsEveryOneCharacterChange(t *testing.T) {
	c := wfCodec(t, "session", Config{Keys: wfKeyring(t, wfKey("k1"), wfKey("k2"))})
	for _, tc := range wfSessions[:3] {
		s := c.New()
		tc.fill(s)
		v := mustEncode(t, c, s)
		dot := strings.IndexByte(v, '.')
		subs := "AQgwBfv_-9=.+/ \n%"
		if testing.Short() {
			subs = "AQ_="
		}
		tried := 0
		for i := 0; i < len(v); i++ {
			for j := 0; j < len(subs); j++ {
				if subs[j] == v[i] {
					continue
				}
				alt := v[:i] + string(subs[j]) + v[i+1:]
				got, err := c.Decode(alt)
				tried++
				switch {
				case got != nil || err == nil:
					t.Fatalf("%s: changing byte %d to %q opened the value", tc.name, i, subs[j])
				case i > dot && !errors.Is(err, ErrInvalid):
					t.Fatalf("%s: changing byte %d to %q: %v, want ErrInvalid", tc.name, i, subs[j], err)
				case i <= dot && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnknownKey):
					t.Fatalf("%s: changing key byte %d to %q: %v", tc.name, i, subs[j], err)
				}
			}
		}
		if tried < len(v) {
			t.Fatalf("tried only %d changes", tried)
		}
	}
	// Changing the key ID to another key in the ring is a MAC failure.
	s := c.New()
	s.Set("a", 1)
	v := mustEncode(t, c, s)
	if _, err := c.Decode("k2" + strings.TrimPrefix(v, "k1")); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "MAC") {
		t.Fatalf("value relabelled k2: %v, want an ErrInvalid MAC failure", err)
	}
}

// TestNameConfusion: a cookie sealed for the name "a|<ts>" has a MAC that
// also covers "a|<ts>|<ts'>|<inner>", which is what a value for the name
// "a" would be MACed over if it were re-framed as "<ts>|<ts'>|<inner>".
// The MAC then verifies, and only the strict parsing of the frame (the
// inner part must be base64, with no '|') keeps it shut.
func TestNameConfusion(t *testing.T) {
	long := wfCodec(t, "a|1700000000", Config{})
	short := wfCodec(t, "a", Config{})
	s := long.New()
	s.Set("role", "admin")
	v := mustEncode(t, long, s)
	id, ts, inner, mac := wfParts(t, v)
	reframed := id + "." + base64.URLEncoding.EncodeToString(append([]byte("1700000000|"+ts+"|"+inner+"|"), mac...))
	// The MAC is genuinely right for the short name.
	hashKey, _ := wfDerive(wfKey("k1"))
	m := hmac.New(sha256.New, hashKey)
	m.Write([]byte("a|1700000000|" + ts + "|" + inner))
	if !hmac.Equal(m.Sum(nil), mac) {
		t.Fatal("test premise: the MAC should verify under the short name")
	}
	if got, err := short.Decode(reframed); !errors.Is(err, ErrInvalid) || got != nil {
		t.Fatalf("re-framed value under the short name: %v, %v; want nil, ErrInvalid", got, err)
	}
	if _, err := long.Decode(v); err != nil {
		t.Fatalf("the original does not open under its own name: %v", err)
	}
	if _, err := short.Decode(v); !errors.Is(err, ErrInvalid) {
		t.Fatalf("the original under the short name: %v, want ErrInvalid", err)
	}
}

// TestErrors checks every sentinel through errors.Is, on real cookies, and
// that the message says what happened.
func TestErrors(t *testing.T) {
	clk := newTestClock()
	clk.Set(time.Unix(wfNow, 0))
	kr := wfKeyring(t, wfKey("k1"), wfKey("old"))
	c := wfCodec(t, "session", Config{Keys: kr, Now: clk.Now, MaxAge: time.Hour})
	s := c.New()
	s.Set("user", 1)
	v := mustEncode(t, c, s)

	other := wfCodec(t, "session", Config{Keys: wfKeyring(t, wfKey("zz"))})
	zs := other.New()
	zs.Set("user", 1)
	unknown := mustEncode(t, other, zs)

	tampered := v[:len(v)-6] + "AAAAA="
	if tampered == v {
		tampered = v[:len(v)-6] + "BBBBB="
	}

	renamed := wfCodec(t, "session2", Config{Keys: kr, Now: clk.Now})
	hashKey, _ := wfDerive(wfKey("k1"))

	type check struct {
		name    string
		run     func() (*Session, error)
		want    error
		message string // a regexp the message must match
	}
	checks := []check{
		{"MAC", func() (*Session, error) { return c.Decode(tampered) }, ErrInvalid, `invalid session cookie: .*(MAC does not verify|not canonical base64)`},
		{"unknown key", func() (*Session, error) { return c.Decode(unknown) }, ErrUnknownKey, `unknown key: key "zz" is not in the keyring`},
		{"wrong cookie name", func() (*Session, error) { return renamed.Decode(v) }, ErrInvalid, `MAC does not verify \(tampered, another cookie name, or another key\)`},
		{"no key ID", func() (*Session, error) { return c.Decode("garbage") }, ErrInvalid, `no key ID`},
		{"not base64", func() (*Session, error) { return c.Decode("k1.!!!!") }, ErrInvalid, `not canonical base64`},
		{"too short", func() (*Session, error) { return c.Decode("k1.AAAA") }, ErrInvalid, `too short`},
		{"too long", func() (*Session, error) { return c.Decode("k1." + strings.Repeat("A", 5000)) }, ErrTooLarge, `session too large: cookie is 5011 bytes, limit 4096`},
		{"IV and no ciphertext", func() (*Session, error) {
			return c.Decode("k1." + wfFrame(hashKey, "session", "1700000000", base64.URLEncoding.EncodeToString(make([]byte, 16))))
		}, ErrInvalid, `ciphertext too short`},
		{"MAC that does not follow a '|'", func() (*Session, error) {
			return c.Decode("k1." + base64.URLEncoding.EncodeToString(append([]byte("1700000000|AAAA"), make([]byte, 32)...)))
		}, ErrInvalid, `malformed value`},
	}
	for _, ck := range checks {
		got, err := ck.run()
		if got != nil || !errors.Is(err, ck.want) {
			t.Errorf("%s: %v, %v; want nil, %v", ck.name, got, err, ck.want)
			continue
		}
		if !regexp.MustCompile(ck.message).MatchString(err.Error()) {
			t.Errorf("%s: message %q does not match %q", ck.name, err, ck.message)
		}
		for _, other := range []error{ErrInvalid, ErrExpired, ErrUnknownKey, ErrTooLarge} {
			if other != ck.want && errors.Is(err, other) {
				t.Errorf("%s: %v is also %v", ck.name, err, other)
			}
		}
	}

	// Expired: the sealed deadline, then MaxAge enforced from the config.
	clk.Advance(time.Hour)
	got, err := c.Decode(v)
	if got != nil || !errors.Is(err, ErrExpired) || errors.Is(err, ErrInvalid) {
		t.Fatalf("after MaxAge: %v, %v; want nil, ErrExpired", got, err)
	}
	if want := "deadline 2023-11-14T23:13:20Z passed"; !strings.Contains(err.Error(), want) {
		t.Errorf("expired message %q does not say %q", err, want)
	}
	clk.Advance(-time.Second)
	if _, err := c.Decode(v); err != nil {
		t.Fatalf("one second before the deadline: %v", err)
	}
	shorter := wfCodec(t, "session", Config{Keys: kr, Now: clk.Now, MaxAge: 30 * time.Minute})
	if _, err := shorter.Decode(v); !errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), "MaxAge") {
		t.Errorf("MaxAge lowered after sealing: %v, want ErrExpired naming MaxAge", err)
	}
	capped := wfCodec(t, "session", Config{Keys: kr, Now: clk.Now, AbsoluteTimeout: 30 * time.Minute})
	if _, err := capped.Decode(v); !errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), "AbsoluteTimeout") {
		t.Errorf("AbsoluteTimeout set after sealing: %v, want ErrExpired naming AbsoluteTimeout", err)
	}

	// ErrTooLarge from Encode names the size, the limit and the largest keys.
	big := c.New()
	big.Set("small", 1)
	big.Set("big", strings.Repeat("x", 3000))
	big.Set("medium", strings.Repeat("y", 200))
	big.Set("huge", strings.Repeat("z", 4000))
	val, err := c.Encode(big)
	if val != "" || !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Encode of a huge session = %d bytes, %v; want ErrTooLarge", len(val), err)
	}
	re := regexp.MustCompile(`session too large: cookie would be (\d+) bytes, limit 4096; largest keys: "huge" \(4\d\d\d B msgpack\) "big" \(3\d\d\d B msgpack\) "medium" \(2\d\d B msgpack\)$`)
	m := re.FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("ErrTooLarge message %q does not match %s", err, re)
	}
	if n, _ := strconv.Atoi(m[1]); n <= 4096 {
		t.Errorf("ErrTooLarge says %d bytes, not over the limit", n)
	}
}

// TestDecodeMalformedValues: short, empty and garbage values give a typed
// error and a nil session; "" is a fresh session.
func TestDecodeMalformedValues(t *testing.T) {
	c := wfCodec(t, "session", Config{})
	s, err := c.Decode("")
	if err != nil || s == nil || s.Len() != 0 || s.KeyID() != "" {
		t.Fatalf(`Decode("") = %v, %v; want a fresh session`, s, err)
	}
	sentinels := []error{ErrInvalid, ErrExpired, ErrUnknownKey, ErrTooLarge}
	values := []string{
		".", "k1", "k1.", "k1..", ".k1", "..", "k1.=", "k1.====", "k1.AAAA", "k1.AAAAAAAA",
		"k1." + strings.Repeat("A", 64), "k1." + strings.Repeat("A", 100) + "==",
		"zz.", "zz.AAAA", "k1.k1.", "k 1.AAAA", "k1\x00.AAAA", "\x00", "\xff\xfe",
		"0123456789abcdefg.AAAA", "0123456789abcdef.AAAA", "k1.%41%41%41%41",
		"k1.MTcwMDAwMDAwMHx8", // "1700000000||" with no MAC
		strings.Repeat(".", 100), "k1." + strings.Repeat("\n", 8),
	}
	// A value whose decoded form is ts|inner| and a MAC that holds '|'
	// bytes, and one whose inner part is empty.
	hashKey, _ := wfDerive(wfKey("k1"))
	values = append(values,
		"k1."+wfFrame(hashKey, "session", "1700000000", ""),
		"k1."+wfFrame(hashKey, "session", "1700000000", base64.URLEncoding.EncodeToString(make([]byte, 16))), // IV, no ciphertext
		"k1."+base64.URLEncoding.EncodeToString(bytes.Repeat([]byte("|"), 40)),
	)
	for _, v := range values {
		s, err := c.Decode(v)
		if s != nil || err == nil {
			t.Errorf("Decode(%q) = %v, %v; want nil and an error", v, s, err)
			continue
		}
		typed := false
		for _, e := range sentinels {
			typed = typed || errors.Is(err, e)
		}
		if !typed {
			t.Errorf("Decode(%q): %v wraps no sentinel", v, err)
		}
	}
}

// TestEncodeLengthLimit: Encode never returns a value whose name=value is
// over MaxLength; at exactly the limit it succeeds, one byte under it
// fails with ErrTooLarge and a size that is right.
func TestEncodeLengthLimit(t *testing.T) {
	iv := wfFixedIV{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	for _, name := range []string{"session", "__Host-s"} {
		free := wfCodec(t, name, Config{MaxLength: 1 << 20})
		free.rand = iv
		for n := 0; n < 600; n += 7 {
			s := free.New()
			s.Set("v", strings.Repeat("v", n))
			v := mustEncode(t, free, s)
			size := len(name) + 1 + len(v)

			exact := wfCodec(t, name, Config{MaxLength: size})
			exact.rand = iv
			if got, err := exact.Encode(s); err != nil || got != v {
				t.Fatalf("%s n=%d: MaxLength %d = the size: %d bytes, %v", name, n, size, len(got), err)
			}
			under := wfCodec(t, name, Config{MaxLength: size - 1})
			under.rand = iv
			got, err := under.Encode(s)
			if got != "" || !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%s n=%d: MaxLength %d: %d bytes, %v; want ErrTooLarge", name, n, size-1, len(got), err)
			}
			if want := fmt.Sprintf("cookie would be %d bytes, limit %d", size, size-1); !strings.Contains(err.Error(), want) {
				t.Fatalf("%s n=%d: message %q does not say %q", name, n, err, want)
			}
			// Decode draws the same line.
			if _, err := exact.Decode(v); err != nil {
				t.Fatalf("%s n=%d: value of exactly MaxLength does not open: %v", name, n, err)
			}
			if _, err := under.Decode(v); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%s n=%d: value one byte over MaxLength: %v, want ErrTooLarge", name, n, err)
			}
		}
	}
	// With the default MaxLength, sessions that grow one byte at a time
	// never yield an over-long value.
	c := wfCodec(t, "session", Config{})
	s := c.New()
	for n := 2500; n < 3200; n++ {
		s.Set("grow", strings.Repeat("g", n))
		v, err := c.Encode(s)
		if err != nil {
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("n=%d: %v", n, err)
			}
			continue
		}
		if l := len("session=") + len(v); l > DefaultMaxLength {
			t.Fatalf("n=%d: Encode returned %d bytes of name=value, over %d", n, l, DefaultMaxLength)
		}
	}
}

// TestDecodeTooLongBeforeCrypto: the length check comes first. A garbage
// value under an unknown key one byte over the limit is ErrTooLarge, not
// ErrUnknownKey; and refusing a long genuine cookie costs next to nothing.
func TestDecodeTooLongBeforeCrypto(t *testing.T) {
	c := wfCodec(t, "session", Config{MaxLength: 200})
	room := 200 - len("session=")
	atLimit := "zz." + strings.Repeat("A", room-3)
	if _, err := c.Decode(atLimit); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("value of exactly the limit under key zz: %v, want ErrUnknownKey", err)
	}
	if _, err := c.Decode(atLimit + "A"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("one byte more: %v, want ErrTooLarge", err)
	}
	if _, err := c.Decode("!" + atLimit); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("one byte more, and no valid key ID: %v, want ErrTooLarge", err)
	}

	big := wfCodec(t, "session", Config{})
	s := big.New()
	fillLarge(s)
	v := mustEncode(t, big, s)
	small := wfCodec(t, "session", Config{MaxLength: len("session=") + len(v) - 1})
	if _, err := small.Decode(v); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("genuine value one byte over: %v, want ErrTooLarge", err)
	}
	refuse := wfAllocBytes(100, func() { _, _ = small.Decode(v) })
	open := wfAllocBytes(100, func() { _, _ = big.Decode(v) })
	if refuse > 512 || refuse*4 > open {
		t.Fatalf("refusing an over-long value allocates %d bytes (opening it: %d): it did more than check the length", refuse, open)
	}
}

// wfAllocBytes returns the bytes f allocates per call: the least of a few
// measurements of runs calls each, so that another goroutine's allocations
// can only be missed, never counted.
func wfAllocBytes(runs int, f func()) uint64 {
	f() // warm pools and caches
	var best uint64 = math.MaxUint64
	for trial := 0; trial < 3; trial++ {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := 0; i < runs; i++ {
			f()
		}
		runtime.ReadMemStats(&after)
		best = min(best, (after.TotalAlloc-before.TotalAlloc)/uint64(runs))
	}
	return best
}

// TestResealBySlowerServer: servers may disagree about the time by up to
// the 60 s skew Decode allows. A session created on a server whose clock
// is ahead, then changed and resealed on one whose clock is behind, must
// still open everywhere: every value the library seals, it opens.
func TestResealBySlowerServer(t *testing.T) {
	kr := wfKeyring(t, wfKey("k1"))
	ahead := wfCodec(t, "session", Config{Keys: kr, Now: func() time.Time { return time.Unix(wfNow+45, 0) }})
	behind := wfCodec(t, "session", Config{Keys: kr, Now: func() time.Time { return time.Unix(wfNow, 0) }})

	s := ahead.New()
	s.Set("user", 1)
	v := mustEncode(t, ahead, s)

	got, err := behind.Decode(v)
	if err != nil {
		t.Fatalf("the slower server cannot open a cookie sealed 45 s ahead: %v", err)
	}
	got.Set("cart", []string{"sku-1"})
	v2 := mustEncode(t, behind, got)
	for name, c := range map[string]*Codec{"slower": behind, "faster": ahead} {
		again, err := c.Decode(v2)
		if err != nil {
			t.Fatalf("the %s server cannot open what the slower one resealed: %v", name, err)
		}
		if !reflect.DeepEqual(again.Keys(), []string{"cart", "user"}) || again.ID() != s.ID() {
			t.Fatalf("%s server: keys %q, ID %s; want [cart user], %s", name, again.Keys(), again.ID(), s.ID())
		}
	}
}
