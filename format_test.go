package cookiesession

// Test vectors for FORMAT.md, in testdata/vectors.json. TestVectors checks
// that the library reproduces every vector byte for byte from its inputs
// (key, cookie name, clock, IV, session contents), that an independent
// sealer written from securecookie's source does too, that securecookie
// opens each cookie to the payload, that the library opens it to the
// contents, and that each listed rejection is refused with its error.
//
// go test -run 'TestVectors|TestFuzzCorpus' -update regenerates the file
// (and the fuzz seed corpus); the regenerated file is then verified like
// the committed one.

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
)

var wfUpdate = flag.Bool("update", false, "rewrite testdata/vectors.json and the fuzz seed corpus under testdata/fuzz")

const wfVectorsPath = "testdata/vectors.json"

type wfVectorFile struct {
	Comment string           `json:"comment"`
	Vectors []wfVector       `json:"vectors"`
	Legacy  []wfLegacyVector `json:"legacy_v1"`
	Accepts []wfVectorOpen   `json:"accepts"`
	Rejects []wfVectorFail   `json:"rejects"`
	Keys    []wfKeysVector   `json:"keys"`
}

// wfVectorOpen is a cookie no Encode writes that a reader must still open:
// a hand-made envelope sealed under the named vector's key, cookie name,
// clock and IV, and what it opens to.
type wfVectorOpen struct {
	Name       string   `json:"name"`
	Vector     string   `json:"vector"`
	PayloadHex string   `json:"payload_hex"`
	Cookie     string   `json:"cookie"`
	KeysHex    []string `json:"keys_hex"` // the data keys, in order, as hex bytes
	Flashes    int      `json:"flashes"`
}

// wfKeysVector is the text form of a keyring (ParseKeys), and either the
// keys it holds, primary first, or "error": true.
type wfKeysVector struct {
	Name       string   `json:"name"`
	Text       string   `json:"text"`
	IDs        []string `json:"ids,omitempty"`
	SecretsHex []string `json:"secrets_hex,omitempty"`
	Error      bool     `json:"error,omitempty"`
}

// wfLegacyVector is a vector sealed in wire format v1, for readers that
// accept v1 cookies while migrating: the inputs of the named vector, the v1
// keys, the version 1 envelope, and the cookie.
type wfLegacyVector struct {
	Vector      string `json:"vector"`
	HashKeyHex  string `json:"hash_key_hex"`
	BlockKeyHex string `json:"block_key_hex"`
	PayloadHex  string `json:"payload_hex"`
	Cookie      string `json:"cookie"`
}

type wfVector struct {
	Name          string          `json:"name"`
	KeyID         string          `json:"key_id"`
	SecretHex     string          `json:"secret_hex"`
	HashKeyHex    string          `json:"hash_key_hex"`
	BlockKeyHex   string          `json:"block_key_hex"`
	CookieName    string          `json:"cookie_name"`
	Now           int64           `json:"now"`
	MaxAge        int64           `json:"max_age_seconds"`
	Absolute      int64           `json:"absolute_timeout_seconds"`
	IVHex         string          `json:"iv_hex"`
	Session       wfVectorSession `json:"session"`
	PayloadHex    string          `json:"payload_hex"`
	Cookie        string          `json:"cookie"`
	CookieMaxAge  int64           `json:"cookie_max_age_seconds"`
	SealedExpires int64           `json:"sealed_deadline"`
}

type wfVectorSession struct {
	IDHex   string          `json:"id_hex"`
	Created int64           `json:"created"`
	Expiry  wfVectorExpiry  `json:"expiry"`
	Data    []wfVectorEntry `json:"data"`
	Flashes []wfTyped       `json:"flashes,omitempty"`
}

type wfVectorExpiry struct {
	Mode    string `json:"mode"` // default, idle, at, browser-close
	Seconds int64  `json:"seconds,omitempty"`
	Unix    int64  `json:"unix,omitempty"`
}

type wfVectorEntry struct {
	Key        string `json:"key"`
	TTLSeconds int64  `json:"ttl_seconds,omitempty"`
	wfTyped
}

// wfTyped is a value with its Go type spelt out, since JSON has fewer
// types than msgpack: nil, bool, int (int64), float (float64), string,
// bytes (hex), strings ([]string), list ([]any of typed items).
type wfTyped struct {
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value,omitempty"`
}

type wfVectorFail struct {
	Name     string `json:"name"`
	Vector   string `json:"vector"` // whose key, cookie name and config to use
	RejectV1 bool   `json:"reject_v1,omitempty"`
	Now      int64  `json:"now"`
	Cookie   string `json:"cookie"`
	Error    string `json:"error"` // ErrInvalid, ErrExpired, ErrUnknownKey, ErrTooLarge
}

func (tv wfTyped) goValue(tb testing.TB) any {
	tb.Helper()
	raw := string(tv.Value)
	var err error
	var out any
	switch tv.Type {
	case "nil":
		return nil
	case "bool":
		out, err = strconv.ParseBool(raw)
	case "int":
		out, err = strconv.ParseInt(raw, 10, 64)
	case "float":
		out, err = strconv.ParseFloat(raw, 64)
	case "string":
		var s string
		err = json.Unmarshal(tv.Value, &s)
		out = s
	case "bytes":
		var s string
		if err = json.Unmarshal(tv.Value, &s); err == nil {
			out, err = hex.DecodeString(s)
		}
	case "strings":
		var s []string
		err = json.Unmarshal(tv.Value, &s)
		out = s
	case "list":
		var items []wfTyped
		err = json.Unmarshal(tv.Value, &items)
		list := make([]any, len(items))
		for i, it := range items {
			list[i] = it.goValue(tb)
		}
		out = list
	default:
		tb.Fatalf("vector value of unknown type %q", tv.Type)
	}
	if err != nil {
		tb.Fatalf("vector value %s %s: %v", tv.Type, raw, err)
	}
	return out
}

func wfT(typ string, v any) wfTyped {
	var raw []byte
	switch x := v.(type) {
	case []byte:
		raw, _ = json.Marshal(hex.EncodeToString(x))
	case []wfTyped:
		raw, _ = json.Marshal(x)
	case nil:
	default:
		raw, _ = json.Marshal(x)
	}
	return wfTyped{Type: typ, Value: raw}
}

func wfSeq(start byte) string {
	b := make([]byte, 32)
	for i := range b {
		b[i] = start + byte(i)
	}
	return hex.EncodeToString(b)
}

// wfVectorSpecs are the inputs of the committed vectors; -update computes
// the rest.
func wfVectorSpecs() []wfVector {
	return []wfVector{
		{
			Name: "minimal", KeyID: "k1", SecretHex: wfSeq(0x00), CookieName: "session",
			Now: 1700000000, IVHex: "000102030405060708090a0b0c0d0e0f",
			Session: wfVectorSession{
				IDHex: "00112233445566778899aabbccddeeff", Created: 1700000000,
				Expiry: wfVectorExpiry{Mode: "default"},
				Data:   []wfVectorEntry{{Key: "user_id", wfTyped: wfT("int", 42)}},
			},
		},
		{
			Name: "small-idle-ttl-flash", KeyID: "2024-06", SecretHex: wfSeq(0x40), CookieName: "__Host-sid",
			Now: 1717243200, IVHex: "f0e0d0c0b0a090807060504030201000",
			Session: wfVectorSession{
				IDHex: "a1a2a3a4a5a6a7a8a9aaabacadaeafb0", Created: 1717242600,
				Expiry: wfVectorExpiry{Mode: "idle", Seconds: 1800},
				Data: []wfVectorEntry{
					{Key: "user_id", wfTyped: wfT("int", 42)},
					{Key: "name", wfTyped: wfT("string", "Alice")},
					{Key: "roles", wfTyped: wfT("strings", []string{"admin", "editor"})},
					{Key: "csrf", wfTyped: wfT("string", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")},
					{Key: "sms_code", TTLSeconds: 300, wfTyped: wfT("string", "493817")},
				},
				Flashes: []wfTyped{wfT("string", "Welcome back")},
			},
		},
		{
			Name: "absolute-timeout-types", KeyID: "k-3", SecretHex: wfSeq(0x80), CookieName: "sid",
			Now: 1735689600, MaxAge: 3600, Absolute: 28800, IVHex: "ffffffffffffffffffffffffffffffff",
			Session: wfVectorSession{
				IDHex: "0f0e0d0c0b0a09080706050403020100", Created: 1735689600 - 28000,
				Expiry: wfVectorExpiry{Mode: "default"},
				Data: []wfVectorEntry{
					{Key: "ключ", wfTyped: wfT("string", "значение")},
					{Key: "bin", wfTyped: wfT("bytes", []byte{0x00, 0xff, 0x80})},
					{Key: "ratio", wfTyped: wfT("float", 0.25)},
					{Key: "ok", wfTyped: wfT("bool", true)},
					{Key: "none", wfTyped: wfT("nil", nil)},
					{Key: "ids", wfTyped: wfT("list", []wfTyped{wfT("int", 1), wfT("int", -1), wfT("int", 300), wfT("int", 70000), wfT("int", 5000000000), wfT("string", "x")})},
				},
			},
		},
		{
			Name: "expire-at", KeyID: "k1", SecretHex: wfSeq(0x00), CookieName: "session",
			Now: 1700000000, IVHex: "00000000000000000000000000000001",
			Session: wfVectorSession{
				IDHex: "ffeeddccbbaa99887766554433221100", Created: 1699990000,
				Expiry: wfVectorExpiry{Mode: "at", Unix: 1700086400},
				Data:   []wfVectorEntry{{Key: "cart", wfTyped: wfT("strings", []string{"sku-1", "sku-2"})}},
			},
		},
		{
			Name: "browser-close-flash-only", KeyID: "k1", SecretHex: wfSeq(0x00), CookieName: "session",
			Now: 1700000000, IVHex: "0123456789abcdef0123456789abcdef",
			Session: wfVectorSession{
				IDHex: "5e55105e55105e55105e55105e55105e", Created: 1700000000,
				Expiry:  wfVectorExpiry{Mode: "browser-close"},
				Flashes: []wfTyped{wfT("string", "saved"), wfT("int", 2)},
			},
		},
	}
}

func wfMustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatalf("hex %q: %v", s, err)
	}
	return b
}

// wfVectorCodec is the codec a vector describes, its clock stopped at now.
func wfVectorCodec(tb testing.TB, v wfVector, now int64) *Codec {
	tb.Helper()
	kr := wfKeyring(tb, Key{ID: v.KeyID, Secret: wfMustHex(tb, v.SecretHex)})
	c, err := NewCodec(Config{
		Name: v.CookieName, Keys: kr,
		MaxAge:          time.Duration(v.MaxAge) * time.Second,
		AbsoluteTimeout: time.Duration(v.Absolute) * time.Second,
		Now:             func() time.Time { return time.Unix(now, 0) },
	})
	if err != nil {
		tb.Fatalf("vector %s: NewCodec: %v", v.Name, err)
	}
	return c
}

// wfVectorSessionOf builds the session a vector describes.
func wfVectorSessionOf(tb testing.TB, c *Codec, v wfVector) *Session {
	tb.Helper()
	s := c.New()
	id := wfMustHex(tb, v.Session.IDHex)
	if len(id) != sessionIDLen {
		tb.Fatalf("vector %s: session ID of %d bytes", v.Name, len(id))
	}
	s.mu.Lock()
	copy(s.id[:], id)
	s.hasID = true
	s.created = v.Session.Created
	s.mu.Unlock()
	switch e := v.Session.Expiry; e.Mode {
	case "default":
	case "idle":
		s.SetExpiry(time.Duration(e.Seconds) * time.Second)
	case "at":
		s.SetExpiryAt(time.Unix(e.Unix, 0))
	case "browser-close":
		s.SetExpiry(0)
	default:
		tb.Fatalf("vector %s: expiry mode %q", v.Name, e.Mode)
	}
	for _, d := range v.Session.Data {
		if d.TTLSeconds > 0 {
			s.SetWithTTL(d.Key, d.goValue(tb), time.Duration(d.TTLSeconds)*time.Second)
		} else {
			s.Set(d.Key, d.goValue(tb))
		}
	}
	for _, f := range v.Session.Flashes {
		s.AddFlash(f.goValue(tb))
	}
	return s
}

// wfComplete fills in the computed fields of a vector spec.
func wfComplete(tb testing.TB, v wfVector) wfVector {
	tb.Helper()
	hashKey, blockKey := wfDerive(Key{ID: v.KeyID, Secret: wfMustHex(tb, v.SecretHex)})
	v.HashKeyHex, v.BlockKeyHex = hex.EncodeToString(hashKey), hex.EncodeToString(blockKey)
	c := wfVectorCodec(tb, v, v.Now)
	c.rand = wfFixedIV(wfMustHex(tb, v.IVHex))
	s := wfVectorSessionOf(tb, c, v)
	v.PayloadHex = hex.EncodeToString(wfPayload(tb, c, s))
	ck, err := c.Cookie(s)
	if err != nil {
		tb.Fatalf("vector %s: %v", v.Name, err)
	}
	v.Cookie, v.CookieMaxAge = ck.Value, int64(ck.MaxAge)
	s.mu.Lock()
	v.SealedExpires = c.deadline(s, v.Now)
	s.mu.Unlock()
	return v
}

// wfCompleteLegacy seals the session of vector v in format v1.
func wfCompleteLegacy(tb testing.TB, v wfVector) wfLegacyVector {
	tb.Helper()
	key := Key{ID: v.KeyID, Secret: wfMustHex(tb, v.SecretHex)}
	hashKey, blockKey := wfDeriveV1(key)
	payload := wfV1Payload(tb, wfMustHex(tb, v.PayloadHex))
	return wfLegacyVector{
		Vector:     v.Name,
		HashKeyHex: hex.EncodeToString(hashKey), BlockKeyHex: hex.EncodeToString(blockKey),
		PayloadHex: hex.EncodeToString(payload),
		Cookie:     wfSealV1(key, v.CookieName, v.Now, wfMustHex(tb, v.IVHex), payload),
	}
}

// wfVectorRejects derives refusals from the first two vectors.
func wfVectorRejects(tb testing.TB, vs []wfVector) []wfVectorFail {
	tb.Helper()
	v := vs[0]
	id, ts, inner, _ := wfParts(tb, v.Cookie)
	hashKey := wfMustHex(tb, v.HashKeyHex)
	sealed := strings.TrimPrefix(v.Cookie, id+".")
	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	other := vs[1]
	key := Key{ID: v.KeyID, Secret: wfMustHex(tb, v.SecretHex)}
	iv, payload := wfMustHex(tb, v.IVHex), wfMustHex(tb, v.PayloadHex)
	h2, b2 := wfDerive(Key{ID: "k2", Secret: key.Secret})
	relabelled := v.KeyID + "." + wfRefSeal(h2, b2, v.CookieName, v.Now, iv, payload)
	v1Envelope := v.KeyID + "." + wfRefSeal(hashKey, wfMustHex(tb, v.BlockKeyHex), v.CookieName, v.Now, iv, wfV1Payload(tb, payload))
	return []wfVectorFail{
		{Name: "sealed under key ID k2 with the same secret, relabelled k1", Vector: v.Name, Now: v.Now, Cookie: relabelled, Error: "ErrInvalid"},
		{Name: "version 1 envelope under v2 keys", Vector: v.Name, Now: v.Now, Cookie: v1Envelope, Error: "ErrInvalid"},
		{Name: "version 2 envelope under v1 keys", Vector: v.Name, Now: v.Now, Cookie: wfSealV1(key, v.CookieName, v.Now, iv, payload), Error: "ErrInvalid"},
		{Name: "v1 cookie, reader with RejectV1", Vector: v.Name, RejectV1: true, Now: v.Now, Cookie: wfCompleteLegacy(tb, v).Cookie, Error: "ErrInvalid"},
		{Name: "one character changed in the MAC", Vector: v.Name, Now: v.Now, Cookie: flip(v.Cookie, len(v.Cookie)-5), Error: "ErrInvalid"},
		{Name: "one character changed in the ciphertext", Vector: v.Name, Now: v.Now, Cookie: flip(v.Cookie, len(v.Cookie)/2), Error: "ErrInvalid"},
		{Name: "line break inserted (securecookie accepts)", Vector: v.Name, Now: v.Now, Cookie: v.Cookie[:20] + "\n" + v.Cookie[20:], Error: "ErrInvalid"},
		{Name: "padding changed", Vector: v.Name, Now: v.Now, Cookie: wfChangePadding(v.Cookie), Error: "ErrInvalid"},
		{Name: "timestamp with a leading zero, MAC recomputed (securecookie accepts)", Vector: v.Name, Now: v.Now, Cookie: id + "." + wfFrame(hashKey, v.CookieName, "0"+ts, inner), Error: "ErrInvalid"},
		{Name: "sealed for another cookie name", Vector: other.Name, Now: other.Now, Cookie: other.KeyID + "." + sealed, Error: "ErrInvalid"},
		{Name: "a key the keyring does not hold", Vector: v.Name, Now: v.Now, Cookie: "k9." + sealed, Error: "ErrUnknownKey"},
		{Name: "opened at the deadline", Vector: v.Name, Now: v.SealedExpires, Cookie: v.Cookie, Error: "ErrExpired"},
		{Name: "sealed more than 60 s ahead of the reader's clock", Vector: v.Name, Now: v.Now - 61, Cookie: v.Cookie, Error: "ErrInvalid"},
		{Name: "longer than MaxLength", Vector: v.Name, Now: v.Now, Cookie: v.KeyID + "." + strings.Repeat("A", 4096), Error: "ErrTooLarge"},
	}
}

// wfSealFor seals payload under vector v's key, cookie name, clock and IV.
func wfSealFor(tb testing.TB, v wfVector, payload []byte) string {
	tb.Helper()
	return v.KeyID + "." + wfRefSeal(wfMustHex(tb, v.HashKeyHex), wfMustHex(tb, v.BlockKeyHex), v.CookieName, v.Now, wfMustHex(tb, v.IVHex), payload)
}

// wfTimestampValue is the envelope holding {"t": ts}, ts a timestamp
// extension given whole.
func wfTimestampValue(ts ...byte) []byte {
	return wfWithValue(ts)
}

// wfVectorAccepts are the hand-made envelopes of FORMAT.md §3 that a reader
// must open, sealed under v (whose clock must be wfNow, as wfFields'
// times are).
func wfVectorAccepts(tb testing.TB, v wfVector) []wfVectorOpen {
	tb.Helper()
	if v.Now != wfNow {
		tb.Fatalf("vector %s: clock %d, want %d", v.Name, v.Now, wfNow)
	}
	ttls := wfWith(map[int][]byte{
		wfData: wfCat([]byte{0x82}, wfStr("a"), []byte{1}, wfStr("b"), []byte{2}),
		wfTTLs: wfCat([]byte{0x82}, wfStr("a"), wfU32(wfNow+100), wfStr("b"), wfU32(wfNow+200))})
	specs := []struct {
		name    string
		payload []byte
		keys    []string
		flashes int
	}{
		{"envelope with neither data nor flashes", wfWith(map[int][]byte{wfData: {0x80}}), nil, 0},
		{"invalid UTF-8 in a data key and in a string value", wfWith(map[int][]byte{wfData: wfCat([]byte{0x82}, wfStr("a"), wfStr("\xc3\x28"), wfStr("\xff\xfe"), []byte{1})}), []string{"a", "\xff\xfe"}, 0},
		{"TTL entries in key order", ttls, []string{"a", "b"}, 0},
		{"timestamp extension with 999999999 nanoseconds (8-byte form)", wfTimestampValue(0xd7, 0xff, 0xee, 0x6b, 0x27, 0xfc, 0x00, 0x00, 0x00, 0x00), []string{"a"}, 0},
		{"non-minimal integers in the envelope", wfWith(map[int][]byte{wfVersion: wfI64(2), wfCreated: wfU64(wfNow - 100), wfDeadline: wfI64(wfNow + 3600)}), []string{"a"}, 0},
		{"a flash and no data", wfWith(map[int][]byte{wfData: {0x80}, wfFlashes: wfCat([]byte{0x91}, wfStr("hi"))}), nil, 1},
	}
	var out []wfVectorOpen
	for _, sp := range specs {
		o := wfVectorOpen{Name: sp.name, Vector: v.Name, PayloadHex: hex.EncodeToString(sp.payload), Cookie: wfSealFor(tb, v, sp.payload), KeysHex: []string{}, Flashes: sp.flashes}
		for _, k := range sp.keys {
			o.KeysHex = append(o.KeysHex, hex.EncodeToString([]byte(k)))
		}
		out = append(out, o)
	}
	return out
}

// wfPayloadRejects are hand-made envelopes of FORMAT.md §3 that a reader
// must refuse, sealed under v (whose clock is wfNow).
func wfPayloadRejects(tb testing.TB, v wfVector) []wfVectorFail {
	tb.Helper()
	ns := func(ext ...byte) []byte { return wfTimestampValue(ext...) }
	specs := []struct {
		name    string
		payload []byte
	}{
		{"envelope created at 0", wfWith(map[int][]byte{wfCreated: {0x00}})},
		{"envelope deadline 0", wfWith(map[int][]byte{wfDeadline: {0x00}})},
		{"TTL at 0", wfWith(map[int][]byte{wfTTLs: wfCat([]byte{0x81}, wfStr("a"), []byte{0x00})})},
		{"TTL entries out of key order", wfWith(map[int][]byte{
			wfData: wfCat([]byte{0x82}, wfStr("a"), []byte{1}, wfStr("b"), []byte{2}),
			wfTTLs: wfCat([]byte{0x82}, wfStr("b"), wfU32(wfNow+200), wfStr("a"), wfU32(wfNow+100))})},
		{"data keys out of order", wfWith(map[int][]byte{wfData: wfCat([]byte{0x82}, wfStr("b"), []byte{1}, wfStr("a"), []byte{2})})},
		{"timestamp extension with 10^9 nanoseconds (8-byte form)", ns(0xd7, 0xff, 0xee, 0x6b, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00)},
		{"timestamp extension with 10^9 nanoseconds (12-byte form)", ns(0xc7, 0x0c, 0xff, 0x3b, 0x9a, 0xca, 0x00, 0, 0, 0, 0, 0, 0, 0, 0)},
		{"timestamp extension with 2^32-1 nanoseconds (12-byte form)", ns(0xc7, 0x0c, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0)},
	}
	var out []wfVectorFail
	for _, sp := range specs {
		out = append(out, wfVectorFail{Name: sp.name, Vector: v.Name, Now: v.Now, Cookie: wfSealFor(tb, v, sp.payload), Error: "ErrInvalid"})
	}
	id, _, inner, _ := wfParts(tb, v.Cookie)
	out = append(out, wfVectorFail{Name: "timestamp \"0\" in the value, MAC recomputed", Vector: v.Name, Now: v.Now,
		Cookie: id + "." + wfFrame(wfMustHex(tb, v.HashKeyHex), v.CookieName, "0", inner), Error: "ErrInvalid"})
	return out
}

// wfKeysVectors are ParseKeys's inputs: FORMAT.md §1's text form.
func wfKeysVectors(tb testing.TB) []wfKeysVector {
	tb.Helper()
	s1, s2 := wfMustHex(tb, wfSeq(0x00)), bytes.Repeat([]byte{0xfb}, 32) // s2 spells "-" and "_"
	raw1, raw2 := base64.RawURLEncoding.EncodeToString(s1), base64.RawURLEncoding.EncodeToString(s2)
	h1, h2 := hex.EncodeToString(s1), hex.EncodeToString(s2)
	nonZeroBits := raw1[:len(raw1)-1] + string(raw1[len(raw1)-1]+1) // the last character's 2 unused bits
	return []wfKeysVector{
		{Name: "one key, unpadded (what FormatKeys writes)", Text: "k1:" + raw1, IDs: []string{"k1"}, SecretsHex: []string{h1}},
		{Name: "one key, padded", Text: "k1:" + raw1 + "=", IDs: []string{"k1"}, SecretsHex: []string{h1}},
		{Name: "two keys, the first is the primary, spaces around entries", Text: " 2024-06:" + raw2 + " ,\tk1:" + raw1 + "=\n", IDs: []string{"2024-06", "k1"}, SecretsHex: []string{h2, h1}},
		{Name: "secret of 33 bytes", Text: "k_1:" + base64.RawURLEncoding.EncodeToString(append(bytes.Clone(s1), 0x20)), IDs: []string{"k_1"}, SecretsHex: []string{h1 + "20"}},
		{Name: "Unicode white space around the text", Text: "\u00a0k1:" + raw1 + "\u2003", IDs: []string{"k1"}, SecretsHex: []string{h1}},
		{Name: "empty text", Text: "  ", Error: true},
		{Name: "space before the colon", Text: "k1 :" + raw1, Error: true},
		{Name: "space after the colon", Text: "k1: " + raw1, Error: true},
		{Name: "space inside the secret", Text: "k1:" + raw1[:20] + " " + raw1[20:], Error: true},
		{Name: "wrong padding", Text: "k1:" + raw1 + "==", Error: true},
		{Name: "non-zero padding bits", Text: "k1:" + nonZeroBits, Error: true},
		{Name: "line break inside the secret", Text: "k1:" + raw1[:20] + "\n" + raw1[20:], Error: true},
		{Name: "standard alphabet", Text: "k2:" + base64.RawStdEncoding.EncodeToString(s2), Error: true},
		{Name: "secret of 31 bytes", Text: "k1:" + base64.RawURLEncoding.EncodeToString(s1[:31]), Error: true},
		{Name: "no colon", Text: raw1, Error: true},
		{Name: "empty entry after a comma", Text: "k1:" + raw1 + ",", Error: true},
		{Name: "key ID with a dot", Text: "k.1:" + raw1, Error: true},
		{Name: "key ID of 17 characters", Text: strings.Repeat("k", 17) + ":" + raw1, Error: true},
		{Name: "duplicate key ID", Text: "k1:" + raw1 + ",k1:" + raw2, Error: true},
		{Name: "one secret under two IDs", Text: "k1:" + raw1 + ",k2:" + raw1, Error: true},
	}
}

// wfCheckKeys checks one text form against ParseKeys.
func wfCheckKeys(t *testing.T, kv wfKeysVector) {
	kr, err := ParseKeys(kv.Text)
	if kv.Error {
		if err == nil {
			t.Fatalf("ParseKeys(%q) = %v, want an error", kv.Text, kr.IDs())
		}
		return
	}
	if err != nil {
		t.Fatalf("ParseKeys(%q): %v", kv.Text, err)
	}
	if !reflect.DeepEqual(kr.IDs(), kv.IDs) || kr.PrimaryID() != kv.IDs[0] || len(kv.SecretsHex) != len(kv.IDs) {
		t.Fatalf("IDs %q (primary %q), want %q", kr.IDs(), kr.PrimaryID(), kv.IDs)
	}
	for i, id := range kv.IDs {
		hashKey, _ := wfDerive(Key{ID: id, Secret: wfMustHex(t, kv.SecretsHex[i])})
		if sk := kr.load().lookup(id); !bytes.Equal(sk.hashKey, hashKey) {
			t.Errorf("key %q holds another secret than %s", id, kv.SecretsHex[i])
		}
	}
}

// wfCheckAccept checks a hand-made cookie that must open.
func wfCheckAccept(t *testing.T, v wfVector, a wfVectorOpen) {
	payload := wfMustHex(t, a.PayloadHex)
	if ref := wfSealFor(t, v, payload); ref != a.Cookie {
		t.Fatalf("reference sealer\n%s\nvector\n%s", ref, a.Cookie)
	}
	s, err := wfVectorCodec(t, v, v.Now).Decode(a.Cookie)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	keys := []string{}
	for _, k := range s.Keys() {
		keys = append(keys, hex.EncodeToString([]byte(k)))
		if _, ok := s.Get(k); !ok {
			t.Errorf("key %q does not read back", k)
		}
	}
	if !reflect.DeepEqual(keys, a.KeysHex) || len(s.Flashes()) != a.Flashes {
		t.Errorf("keys %q and %d flashes, want %q and %d", keys, len(s.Flashes()), a.KeysHex, a.Flashes)
	}
}

// wfChangePadding removes the padding of a padded value, or pads one that
// has none.
func wfChangePadding(v string) string {
	if strings.HasSuffix(v, "=") {
		return strings.TrimRight(v, "=")
	}
	return v + "="
}

var wfSentinels = map[string]error{"ErrInvalid": ErrInvalid, "ErrExpired": ErrExpired, "ErrUnknownKey": ErrUnknownKey, "ErrTooLarge": ErrTooLarge}

func TestVectors(t *testing.T) {
	if *wfUpdate {
		vf := wfVectorFile{Comment: "cookiesession wire-format test vectors; see FORMAT.md. Regenerate with: go test -run TestVectors -update"}
		for _, spec := range wfVectorSpecs() {
			vf.Vectors = append(vf.Vectors, wfComplete(t, spec))
		}
		for _, v := range vf.Vectors {
			vf.Legacy = append(vf.Legacy, wfCompleteLegacy(t, v))
		}
		vf.Accepts = wfVectorAccepts(t, vf.Vectors[0])
		vf.Rejects = append(wfVectorRejects(t, vf.Vectors), wfPayloadRejects(t, vf.Vectors[0])...)
		vf.Keys = wfKeysVectors(t)
		out, err := json.MarshalIndent(vf, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(wfVectorsPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(wfVectorsPath, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", wfVectorsPath)
	}
	data, err := os.ReadFile(wfVectorsPath)
	if err != nil {
		t.Fatalf("%v (go test -run TestVectors -update writes it)", err)
	}
	var vf wfVectorFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&vf); err != nil {
		t.Fatalf("%s: %v", wfVectorsPath, err)
	}
	if len(vf.Vectors) < 5 || len(vf.Rejects) < 10 {
		t.Fatalf("%s has %d vectors and %d rejects", wfVectorsPath, len(vf.Vectors), len(vf.Rejects))
	}
	byName := map[string]wfVector{}
	for _, v := range vf.Vectors {
		byName[v.Name] = v
		t.Run(v.Name, func(t *testing.T) { wfCheckVector(t, v) })
	}
	if len(vf.Legacy) != len(vf.Vectors) {
		t.Errorf("%d v1 vectors for %d vectors", len(vf.Legacy), len(vf.Vectors))
	}
	for _, l := range vf.Legacy {
		t.Run("v1/"+l.Vector, func(t *testing.T) {
			v, ok := byName[l.Vector]
			if !ok {
				t.Fatalf("v1 vector names vector %q", l.Vector)
			}
			wfCheckLegacy(t, v, l)
		})
	}
	for _, a := range vf.Accepts {
		t.Run("accept/"+a.Name, func(t *testing.T) {
			v, ok := byName[a.Vector]
			if !ok {
				t.Fatalf("accept names vector %q", a.Vector)
			}
			wfCheckAccept(t, v, a)
		})
	}
	for _, kv := range vf.Keys {
		t.Run("keys/"+kv.Name, func(t *testing.T) { wfCheckKeys(t, kv) })
	}
	if len(vf.Accepts) < 6 || len(vf.Keys) < 20 {
		t.Errorf("%d accepts and %d key texts", len(vf.Accepts), len(vf.Keys))
	}
	for _, r := range vf.Rejects {
		t.Run("reject/"+r.Name, func(t *testing.T) {
			v, ok := byName[r.Vector]
			want, known := wfSentinels[r.Error]
			if !ok || !known {
				t.Fatalf("reject names vector %q and error %q", r.Vector, r.Error)
			}
			c := wfVectorCodec(t, v, r.Now)
			c.rejectV1 = r.RejectV1
			s, err := c.Decode(r.Cookie)
			if s != nil || !errors.Is(err, want) {
				t.Fatalf("Decode = %v, %v; want nil, %s", s, err, r.Error)
			}
		})
	}
}

func wfCheckVector(t *testing.T, v wfVector) {
	key := Key{ID: v.KeyID, Secret: wfMustHex(t, v.SecretHex)}
	hashKey, blockKey := wfDerive(key)
	if hex.EncodeToString(hashKey) != v.HashKeyHex || hex.EncodeToString(blockKey) != v.BlockKeyHex {
		t.Fatalf("derived keys %x %x, vector says %s %s", hashKey, blockKey, v.HashKeyHex, v.BlockKeyHex)
	}
	if sk := wfKeyring(t, key).load().primary; !bytes.Equal(sk.hashKey, hashKey) || !bytes.Equal(sk.blockKey, blockKey) {
		t.Fatalf("the library derives other keys than the vector")
	}
	iv := wfMustHex(t, v.IVHex)
	payload := wfMustHex(t, v.PayloadHex)

	// 1. The library reproduces the payload and the cookie from the inputs.
	c := wfVectorCodec(t, v, v.Now)
	c.rand = wfFixedIV(iv)
	s := wfVectorSessionOf(t, c, v)
	if got := wfPayload(t, c, s); !bytes.Equal(got, payload) {
		t.Fatalf("payload\n%x\nwant\n%x", got, payload)
	}
	ck, err := c.Cookie(s)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Value != v.Cookie {
		t.Fatalf("cookie\n%s\nwant\n%s", ck.Value, v.Cookie)
	}
	if int64(ck.MaxAge) != v.CookieMaxAge {
		t.Errorf("cookie Max-Age %d, vector says %d", ck.MaxAge, v.CookieMaxAge)
	}

	// 2. So does securecookie's algorithm written out independently.
	id, sealed, _ := strings.Cut(v.Cookie, ".")
	if id != v.KeyID {
		t.Fatalf("cookie key ID %q, want %q", id, v.KeyID)
	}
	if ref := wfRefSeal(hashKey, blockKey, v.CookieName, v.Now, iv, payload); ref != sealed {
		t.Fatalf("reference sealer\n%s\nvector\n%s", ref, sealed)
	}

	// 3. securecookie opens it to the payload.
	var got []byte
	if err := wfSecureCookie(key).Decode(v.CookieName, sealed, &got); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("securecookie.Decode = %x, %v; want the payload", got, err)
	}

	// 4. The library opens it (with its IV source back to crypto/rand) to
	// the contents.
	r := wfVectorCodec(t, v, v.Now)
	o, err := r.Decode(v.Cookie)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if o.KeyID() != v.KeyID || !o.CreatedAt().Equal(time.Unix(min(v.Session.Created, v.Now), 0)) {
		t.Errorf("KeyID %q, CreatedAt %v", o.KeyID(), o.CreatedAt())
	}
	o.mu.Lock()
	gotID, deadline := hex.EncodeToString(o.id[:]), o.deadline
	o.mu.Unlock()
	if gotID != v.Session.IDHex || deadline != v.SealedExpires {
		t.Errorf("session ID %s, deadline %d; want %s, %d", gotID, deadline, v.Session.IDHex, v.SealedExpires)
	}
	var keys []string
	for _, d := range v.Session.Data {
		keys = append(keys, d.Key)
		val, ok := o.Get(d.Key)
		if !ok {
			t.Errorf("key %q missing", d.Key)
			continue
		}
		if a, b := wfMsgpack(t, val), wfMsgpack(t, d.goValue(t)); !bytes.Equal(a, b) {
			t.Errorf("key %q: %#v, want %#v", d.Key, val, d.goValue(t))
		}
		exp, has := o.KeyExpiry(d.Key)
		if has != (d.TTLSeconds > 0) || has && exp.Unix() != v.Now+d.TTLSeconds {
			t.Errorf("key %q: KeyExpiry %v %v, want TTL %d s", d.Key, exp, has, d.TTLSeconds)
		}
	}
	gotKeys := o.Keys()
	wantKeys := append([]string(nil), keys...)
	sort.Strings(wantKeys)
	if !reflect.DeepEqual(gotKeys, wantKeys) && !(len(gotKeys) == 0 && len(wantKeys) == 0) {
		t.Errorf("keys %q, want %q", gotKeys, wantKeys)
	}
	flashes := o.Flashes()
	if len(flashes) != len(v.Session.Flashes) {
		t.Fatalf("flashes %#v, want %d", flashes, len(v.Session.Flashes))
	}
	for i, f := range v.Session.Flashes {
		if a, b := wfMsgpack(t, flashes[i]), wfMsgpack(t, f.goValue(t)); !bytes.Equal(a, b) {
			t.Errorf("flash %d: %#v, want %#v", i, flashes[i], f.goValue(t))
		}
	}
	if o.ExpiresAtBrowserClose() != (v.Session.Expiry.Mode == "browser-close") {
		t.Errorf("ExpiresAtBrowserClose %v for mode %s", o.ExpiresAtBrowserClose(), v.Session.Expiry.Mode)
	}
	// Alive up to the last second before the sealed deadline, not at it.
	if _, err := wfVectorCodec(t, v, v.SealedExpires-1).Decode(v.Cookie); err != nil {
		t.Errorf("one second before the deadline: %v", err)
	}
	if _, err := wfVectorCodec(t, v, v.SealedExpires).Decode(v.Cookie); !errors.Is(err, ErrExpired) {
		t.Errorf("at the deadline: %v, want ErrExpired", err)
	}
}

// wfCheckLegacy checks a v1 vector against its v2 vector v: the v1 keys,
// an envelope that differs from v's only in its version, the cookie
// securecookie's algorithm makes of it under the v1 keys; and that the
// library opens it to the same session as v's cookie, unless RejectV1.
func wfCheckLegacy(t *testing.T, v wfVector, l wfLegacyVector) {
	key := Key{ID: v.KeyID, Secret: wfMustHex(t, v.SecretHex)}
	hashKey, blockKey := wfDeriveV1(key)
	if hex.EncodeToString(hashKey) != l.HashKeyHex || hex.EncodeToString(blockKey) != l.BlockKeyHex {
		t.Fatalf("v1 keys %x %x, vector says %s %s", hashKey, blockKey, l.HashKeyHex, l.BlockKeyHex)
	}
	payload := wfMustHex(t, l.PayloadHex)
	if want := wfV1Payload(t, wfMustHex(t, v.PayloadHex)); !bytes.Equal(payload, want) {
		t.Fatalf("v1 payload\n%x\nis not the v2 payload with version 1\n%x", payload, want)
	}
	if ref := wfSealV1(key, v.CookieName, v.Now, wfMustHex(t, v.IVHex), payload); ref != l.Cookie {
		t.Fatalf("reference v1 sealer\n%s\nvector\n%s", ref, l.Cookie)
	}
	var got []byte
	_, sealed, _ := strings.Cut(l.Cookie, ".")
	sc := securecookie.New(hashKey, blockKey).SetSerializer(securecookie.NopEncoder{}).MaxAge(0).MaxLength(0)
	if err := sc.Decode(v.CookieName, sealed, &got); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("securecookie.Decode with the v1 keys = %x, %v; want the payload", got, err)
	}
	c := wfVectorCodec(t, v, v.Now)
	o, err := c.Decode(l.Cookie)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	want, err := c.Decode(v.Cookie)
	if err != nil {
		t.Fatal(err)
	}
	wfSameSession(t, o, want)
	if !o.legacy {
		t.Error("v1 cookie not marked legacy")
	}
	c.rejectV1 = true
	if o, err := c.Decode(l.Cookie); o != nil || !errors.Is(err, ErrInvalid) {
		t.Errorf("with RejectV1: %v, %v; want ErrInvalid", o, err)
	}
}

func wfMsgpack(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := encodeValue(v)
	if err != nil {
		tb.Fatalf("msgpack of %#v: %v", v, err)
	}
	return b
}

// TestVectorsDescribeTheFormat guards the vector file against drift from
// FORMAT.md: the first vector's payload, decoded field by field here by
// hand, is what the document says it is.
func TestVectorsDescribeTheFormat(t *testing.T) {
	data, err := os.ReadFile(wfVectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	var vf wfVectorFile
	if err := json.Unmarshal(data, &vf); err != nil {
		t.Fatal(err)
	}
	v := vf.Vectors[0]
	// [2, bin8(16) ID, created, sealed, mode 0, arg 0, deadline, {"user_id": 42}, {}, []]
	want := "9a" + "02" + "c410" + v.Session.IDHex +
		fmt.Sprintf("ce%08x", v.Session.Created) + fmt.Sprintf("ce%08x", v.Now) + "00" + "00" +
		fmt.Sprintf("ce%08x", v.Now+int64(DefaultMaxAge/time.Second)) +
		"81" + "a7" + hex.EncodeToString([]byte("user_id")) + "2a" + "80" + "90"
	if v.PayloadHex != want {
		t.Fatalf("first vector's payload\n%s\nFORMAT.md's layout gives\n%s", v.PayloadHex, want)
	}
}
