package cookiesession

// Hostile payloads under a genuine seal: what a leaked key, a bug in an
// older release or a confused deployment could put inside a cookie that
// the MAC accepts. Each must be refused with ErrInvalid, cheaply.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// wfMaxDecodeBytes is the most one Decode of a small hostile value may
// allocate.
const wfMaxDecodeBytes = 64 << 10

// Msgpack scraps for building envelopes by hand.

func wfU32(v int64) []byte { return binary.BigEndian.AppendUint32([]byte{0xce}, uint32(v)) }
func wfI64(v int64) []byte { return binary.BigEndian.AppendUint64([]byte{0xd3}, uint64(v)) }
func wfU64(v uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{0xcf}, v)
}
func wfStr(s string) []byte { return append([]byte{0xa0 | byte(len(s))}, s...) } // len < 32
func wfCat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
func wfRepeat(n int, p ...byte) []byte { return bytes.Repeat(p, n) }

// wfNested is n fixarrays of one element around a nil.
func wfNested(n int) []byte { return append(wfRepeat(n, 0x91), 0xc0) }

// wfNestedMaps is n fixmaps {"": ...} around a nil.
func wfNestedMaps(n int) []byte { return append(wfRepeat(n, 0x81, 0xa0), 0xc0) }

// Field positions in the envelope.
const (
	wfVersion = iota
	wfID
	wfCreated
	wfSealed
	wfMode
	wfArg
	wfDeadline
	wfData
	wfTTLs
	wfFlashes
)

// wfFields returns the fields of a valid envelope sealed at wfNow: session
// ID ab..ab, created 100 s earlier, default expiry, one hour left, data
// {"a": 1}, no TTLs, no flashes.
func wfFields() [][]byte {
	return [][]byte{
		{0x02},
		append([]byte{0xc4, 16}, wfRepeat(16, 0xab)...),
		wfU32(wfNow - 100),
		wfU32(wfNow),
		{0x00},
		{0x00},
		wfU32(wfNow + 3600),
		wfCat([]byte{0x81}, wfStr("a"), []byte{0x01}),
		{0x80},
		{0x90},
	}
}

// wfEnv builds an envelope from fields (any number of them).
func wfEnv(fields [][]byte) []byte {
	out := []byte{0x90 | byte(len(fields))}
	if len(fields) >= 16 {
		out = []byte{0xdc, 0, byte(len(fields))}
	}
	return wfCat(append([][]byte{out}, fields...)...)
}

// wfWith returns a valid envelope with some fields replaced.
func wfWith(replace map[int][]byte) []byte {
	f := wfFields()
	for i, v := range replace {
		f[i] = v
	}
	return wfEnv(f)
}

// wfWithValue returns a valid envelope whose data value under "a" is v.
func wfWithValue(v []byte) []byte {
	return wfWith(map[int][]byte{wfData: wfCat([]byte{0x81}, wfStr("a"), v)})
}

// wfRawHostile are msgpack values that claim far more than they hold, or
// are otherwise not acceptable, at any position.
var wfRawHostile = []struct {
	name string
	b    []byte
}{
	{"map32 of 4G entries", []byte{0xdf, 0xff, 0xff, 0xff, 0xff}},
	{"array32 of 4G elements", []byte{0xdd, 0xff, 0xff, 0xff, 0xff}},
	{"str32 of 4 GB", []byte{0xdb, 0xff, 0xff, 0xff, 0xff}},
	{"bin32 of 4 GB", []byte{0xc6, 0xff, 0xff, 0xff, 0xff}},
	{"ext32 of 4 GB", []byte{0xc9, 0xff, 0xff, 0xff, 0xff, 0x01}},
	{"map16 of 64K entries", []byte{0xde, 0xff, 0xff, 0xc0}},
	{"1000 array16 headers", wfRepeat(1000, 0xdc, 0xff, 0xff)},
	{"3000 nested fixarrays", wfNested(3000)},
	{"3000 nested fixmaps", wfNestedMaps(3000)},
	{"never-used code c1", []byte{0xc1}},
	{"truncated fixstr", []byte{0xa5, 'a', 'b'}},
	{"truncated str8", []byte{0xd9, 0x10, 'a', 'b'}},
	{"truncated bin8", []byte{0xc4, 0x05, 1}},
	{"truncated uint64", []byte{0xcf, 1, 2, 3}},
	{"truncated float64", []byte{0xcb, 0x40}},
	{"truncated fixarray", []byte{0x93, 0x01}},
	{"truncated fixmap", []byte{0x81, 0xa1, 'k'}},
	{"empty", nil},
	{"trailing bytes", []byte{0x01, 0x02}},
	{"fixext1 of type 5", []byte{0xd4, 0x05, 0x00}},
	{"fixext2 of type -1", []byte{0xd5, 0xff, 0, 0}},
	{"fixext4 of type 5", []byte{0xd6, 0x05, 0, 0, 0, 0}},
	{"fixext8 of type 1", []byte{0xd7, 0x01, 0, 0, 0, 0, 0, 0, 0, 0}},
	{"fixext16 of type -1", append([]byte{0xd8, 0xff}, make([]byte, 16)...)},
	{"ext8 timestamp of 4 bytes", []byte{0xc7, 0x04, 0xff, 0, 0, 0, 0}},
	{"ext8 of type 5, 12 bytes", append([]byte{0xc7, 0x0c, 0x05}, make([]byte, 12)...)},
	{"ext16 timestamp", append([]byte{0xc8, 0x00, 0x0c, 0xff}, make([]byte, 12)...)},
	{"ext32 timestamp", append([]byte{0xc9, 0, 0, 0, 0x0c, 0xff}, make([]byte, 12)...)},
	{"map key is an array", []byte{0x81, 0x91, 0xc0, 0xc0}},
	{"map key is a map", []byte{0x81, 0x80, 0xc0}},
	{"map key is binary", []byte{0x81, 0xc4, 0x00, 0xc0}},
	{"map key is a timestamp", []byte{0x81, 0xd6, 0xff, 0, 0, 0, 0, 0xc0}},
	{"map key is array16", []byte{0x81, 0xdc, 0, 0, 0xc0}},
	{"33 nested arrays", wfNested(33)},
	{"33 nested maps", wfNestedMaps(33)},
	{"32 arrays around a map key container", append(wfRepeat(31, 0x91), 0x81, 0x91, 0xc0, 0xc0)},
}

// wfHostilePayloads are whole payloads, each of which must be ErrInvalid.
// why, if set, is a word the error must contain.
func wfHostilePayloads() []struct {
	name    string
	payload []byte
	why     string
} {
	type hp = struct {
		name    string
		payload []byte
		why     string
	}
	valid := wfEnv(wfFields())
	var out []hp
	for _, h := range wfRawHostile {
		out = append(out, hp{"whole payload: " + h.name, h.b, ""})
		out = append(out, hp{"data value: " + h.name, wfWithValue(h.b), ""})
		if len(h.b) > 0 && h.name != "trailing bytes" {
			out = append(out, hp{"flash: " + h.name, wfWith(map[int][]byte{wfFlashes: append([]byte{0x91}, h.b...)}), ""})
		}
	}
	noTTL := func(ttl []byte) []byte { return wfWith(map[int][]byte{wfTTLs: wfCat([]byte{0x81}, wfStr("a"), ttl)}) }
	out = append(out, []hp{
		{"nil", []byte{0xc0}, ""},
		{"false", []byte{0xc2}, ""},
		{"an integer", []byte{0x01}, ""},
		{"compressed marker and garbage", []byte{0xc1, 0xff, 0xff, 0xff}, ""},
		{"envelope truncated by one byte", valid[:len(valid)-1], ""},
		{"envelope and a trailing byte", append(bytes.Clone(valid), 0x00), ""},
		{"envelope twice", append(bytes.Clone(valid), valid...), ""},
		{"envelope of 9 fields", wfEnv(wfFields()[:9]), "fields"},
		{"envelope of 11 fields", wfEnv(append(wfFields(), []byte{0xc0})), "fields"},
		{"envelope of 0 fields", []byte{0x90}, "fields"},
		{"envelope of 16 fields (array16)", wfEnv(append(wfFields(), []byte{0xc0}, []byte{0xc0}, []byte{0xc0}, []byte{0xc0}, []byte{0xc0}, []byte{0xc0})), ""},
		{"envelope is a map", append([]byte{0x85}, valid[1:]...), ""},
		{"version 1 under v2 keys", wfWith(map[int][]byte{wfVersion: {0x01}}), "version"},
		{"version 3", wfWith(map[int][]byte{wfVersion: {0x03}}), "version"},
		{"version 0", wfWith(map[int][]byte{wfVersion: {0x00}}), "version"},
		{"version -1", wfWith(map[int][]byte{wfVersion: {0xff}}), "version"},
		{"version as a string", wfWith(map[int][]byte{wfVersion: wfStr("1")}), ""},
		{"session ID of 15 bytes", wfWith(map[int][]byte{wfID: append([]byte{0xc4, 15}, wfRepeat(15, 0xab)...)}), "session ID"},
		{"session ID of 17 bytes", wfWith(map[int][]byte{wfID: append([]byte{0xc4, 17}, wfRepeat(17, 0xab)...)}), "session ID"},
		{"session ID empty", wfWith(map[int][]byte{wfID: {0xc4, 0}}), "session ID"},
		{"session ID as str", wfWith(map[int][]byte{wfID: append([]byte{0xb0}, wfRepeat(16, 'a')...)}), ""},
		{"session ID as bin16", wfWith(map[int][]byte{wfID: append([]byte{0xc5, 0, 16}, wfRepeat(16, 0xab)...)}), ""},
		{"session ID nil", wfWith(map[int][]byte{wfID: {0xc0}}), ""},
		{"duplicate data keys", wfWith(map[int][]byte{wfData: wfCat([]byte{0x82}, wfStr("a"), []byte{1}, wfStr("a"), []byte{2})}), "order"},
		{"data keys out of order", wfWith(map[int][]byte{wfData: wfCat([]byte{0x82}, wfStr("b"), []byte{1}, wfStr("a"), []byte{2})}), "order"},
		{"data keys out of byte order (é before z)", wfWith(map[int][]byte{wfData: wfCat([]byte{0x82}, wfStr("é"), []byte{1}, wfStr("z"), []byte{2})}), "order"},
		{"data key is an integer", wfWith(map[int][]byte{wfData: {0x81, 0x01, 0x01}}), ""},
		{"data key is nil", wfWith(map[int][]byte{wfData: {0x81, 0xc0, 0x01}}), ""},
		{"data key is binary", wfWith(map[int][]byte{wfData: {0x81, 0xc4, 0x01, 'a', 0x01}}), ""},
		{"data is nil", wfWith(map[int][]byte{wfData: {0xc0}}), ""},
		{"data is an array", wfWith(map[int][]byte{wfData: {0x91, 0xc0}}), ""},
		{"data map32 claiming 2 entries, holding 1", wfWith(map[int][]byte{wfData: wfCat([]byte{0xdf, 0, 0, 0, 2}, wfStr("a"), []byte{1})}), ""},
		{"TTL for a missing key", wfWith(map[int][]byte{wfTTLs: wfCat([]byte{0x81}, wfStr("z"), wfU32(wfNow+10))}), "TTL"},
		{"two TTLs for one key", wfWith(map[int][]byte{wfTTLs: wfCat([]byte{0x82}, wfStr("a"), wfU32(wfNow+10), wfStr("a"), wfU32(wfNow+20))}), "TTL"},
		{"TTL zero", noTTL([]byte{0x00}), "TTL"},
		{"TTL negative", noTTL([]byte{0xff}), "TTL"},
		{"TTL min int64", noTTL(wfI64(math.MinInt64)), "TTL"},
		{"TTL overflowing int64", noTTL(wfU64(math.MaxUint64)), "TTL"},
		{"TTL past year 9999", noTTL(wfU64(maxUnix + 1)), "TTL"},
		{"TTL as a string", noTTL(wfStr("10")), "TTL"},
		{"TTL as a float", noTTL([]byte{0xcb, 0x41, 0xd9, 0x54, 0xfc, 0x40, 0, 0, 0}), "TTL"},
		{"TTLs is an array", wfWith(map[int][]byte{wfTTLs: {0x90}}), "TTL"},
		{"created zero", wfWith(map[int][]byte{wfCreated: {0x00}}), "range"},
		{"created negative", wfWith(map[int][]byte{wfCreated: wfI64(-1)}), "range"},
		{"created min int64", wfWith(map[int][]byte{wfCreated: wfI64(math.MinInt64)}), "range"},
		{"created overflowing int64", wfWith(map[int][]byte{wfCreated: wfU64(math.MaxUint64)}), "overflows"},
		{"created 2^63", wfWith(map[int][]byte{wfCreated: wfU64(1 << 63)}), "overflows"},
		{"sealed zero", wfWith(map[int][]byte{wfSealed: {0x00}}), ""},
		{"sealed past year 9999", wfWith(map[int][]byte{wfSealed: wfU64(maxUnix + 1)}), "range"},
		{"deadline zero", wfWith(map[int][]byte{wfDeadline: {0x00}}), "range"},
		{"deadline negative", wfWith(map[int][]byte{wfDeadline: {0xe0}}), "range"},
		{"deadline past year 9999", wfWith(map[int][]byte{wfDeadline: wfU64(maxUnix + 1)}), "range"},
		{"deadline max int64", wfWith(map[int][]byte{wfDeadline: wfU64(math.MaxInt64)}), "range"},
		{"deadline as float", wfWith(map[int][]byte{wfDeadline: {0xca, 0x4e, 0xca, 0xa8, 0x7c}}), ""},
		{"created after sealed", wfWith(map[int][]byte{wfCreated: wfU32(wfNow + 1)}), "created after"},
		{"expiry mode 4", wfWith(map[int][]byte{wfMode: {0x04}}), "expiry policy"},
		{"expiry mode -1", wfWith(map[int][]byte{wfMode: {0xff}}), "expiry policy"},
		{"expiry mode 255", wfWith(map[int][]byte{wfMode: {0xcc, 0xff}}), "expiry policy"},
		{"expiry mode 2^32+1", wfWith(map[int][]byte{wfMode: wfU64(1<<32 + 1)}), "expiry policy"},
		{"idle expiry with argument 0", wfWith(map[int][]byte{wfMode: {0x01}, wfArg: {0x00}}), "argument"},
		{"idle expiry with negative argument", wfWith(map[int][]byte{wfMode: {0x01}, wfArg: {0xff}}), "argument"},
		{"absolute expiry with argument 0", wfWith(map[int][]byte{wfMode: {0x02}, wfArg: {0x00}}), "argument"},
		{"absolute expiry past year 9999", wfWith(map[int][]byte{wfMode: {0x02}, wfArg: wfU64(maxUnix + 1)}), "argument"},
		{"default expiry with an argument", wfWith(map[int][]byte{wfMode: {0x00}, wfArg: {0x05}}), "argument"},
		{"browser-close expiry with an argument", wfWith(map[int][]byte{wfMode: {0x03}, wfArg: {0x05}}), "argument"},
		{"flashes is a map", wfWith(map[int][]byte{wfFlashes: {0x80}}), ""},
		{"flashes is nil", wfWith(map[int][]byte{wfFlashes: {0xc0}}), ""},
		{"flashes array claims 2, holds 1", wfWith(map[int][]byte{wfFlashes: {0x92, 0x01}}), ""},
	}...)
	return out
}

// TestHostilePayloads seals each hostile payload under the codec's real
// key and checks that Decode refuses it with ErrInvalid, no panic, a nil
// session, and under wfMaxDecodeBytes of allocation.
func TestHostilePayloads(t *testing.T) {
	c := wfCodec(t, "session", Config{MaxLength: 1 << 14}) // room for the 3000-byte ones
	// Controls: the unaltered envelope opens, so each case below fails for
	// what it changed.
	if s, err := c.Decode(wfSeal(t, c, wfEnv(wfFields()))); err != nil {
		t.Fatalf("the valid hand-built envelope does not open: %v", err)
	} else if v, ok := Get[int](s, "a"); !ok || v != 1 {
		t.Fatalf("the valid hand-built envelope opened to a=%v, %v", v, ok)
	}
	seen := map[string]bool{}
	for _, h := range wfHostilePayloads() {
		if seen[h.name] {
			t.Fatalf("duplicate case %q", h.name)
		}
		seen[h.name] = true
		v := wfSeal(t, c, h.payload)
		s, err := c.Decode(v)
		if s != nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Decode = %v, %v; want nil, ErrInvalid", h.name, s, err)
			continue
		}
		if errors.Is(err, ErrExpired) || errors.Is(err, ErrUnknownKey) || errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v carries a second kind", h.name, err)
		}
		if strings.Contains(err.Error(), "panic") {
			t.Errorf("%s: the decoder panicked (recovered): %v", h.name, err)
		}
		if h.why != "" && !strings.Contains(err.Error(), h.why) {
			t.Errorf("%s: error %q does not mention %q", h.name, err, h.why)
		}
		if n := wfAllocBytes(10, func() { _, _ = c.Decode(v) }); n > wfMaxDecodeBytes {
			t.Errorf("%s: Decode of a %d-byte payload allocates %d bytes, over %d", h.name, len(h.payload), n, wfMaxDecodeBytes)
		}
	}
	if len(seen) < 100 {
		t.Fatalf("only %d hostile payloads", len(seen))
	}
}

// TestEnvelopeLimitsAccepted: values right at each limit open and read
// back, so the refusals above are limits and not blanket rejections.
func TestEnvelopeLimitsAccepted(t *testing.T) {
	c := wfCodec(t, "session", Config{})
	ts8 := binary.BigEndian.AppendUint64([]byte{0xd7, 0xff}, uint64(500)<<34|uint64(wfNow))
	ts12 := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32([]byte{0xc7, 0x0c, 0xff}, 999999999), uint64(1<<62))
	cases := []struct {
		name    string
		payload []byte
		check   func(t *testing.T, s *Session)
	}{
		{"32 nested arrays in a value", wfWithValue(wfNested(32)), func(t *testing.T, s *Session) {
			v, ok := s.Get("a")
			for i := 0; i < 32; i++ {
				l, isList := v.([]any)
				if !ok || !isList || len(l) != 1 {
					t.Fatalf("level %d: %#v", i, v)
				}
				v = l[0]
			}
			if v != nil {
				t.Fatalf("innermost %#v", v)
			}
		}},
		{"32 nested maps in a flash", wfWith(map[int][]byte{wfFlashes: append([]byte{0x91}, wfNestedMaps(32)...)}), func(t *testing.T, s *Session) {
			if f := s.Flashes(); len(f) != 1 {
				t.Fatalf("flashes %#v", f)
			}
		}},
		{"timestamp fixext4", wfWithValue([]byte{0xd6, 0xff, 0x65, 0x53, 0xf1, 0x00}), func(t *testing.T, s *Session) {
			if v, ok := Get[time.Time](s, "a"); !ok || v.Unix() != wfNow {
				t.Fatalf("time %v, %v", v, ok)
			}
		}},
		{"timestamp fixext8", wfWithValue(ts8), func(t *testing.T, s *Session) {
			if v, ok := Get[time.Time](s, "a"); !ok || v.Unix() != wfNow || v.Nanosecond() != 500 {
				t.Fatalf("time %v, %v", v, ok)
			}
		}},
		{"timestamp ext8 of 12 bytes, far future", wfWithValue(ts12), func(t *testing.T, s *Session) {
			if _, ok := s.Get("a"); !ok {
				t.Fatal("far-future time does not decode")
			}
		}},
		{"map with scalar keys of every kind", wfWithValue([]byte{0x86, 0xc0, 0x01, 0xc3, 0x02, 0x07, 0x03, 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1, 0x04, 0xa1, 'k', 0x05, 0xca, 0x3f, 0x80, 0, 0, 0x06}), func(t *testing.T, s *Session) {
			v, ok := s.Get("a")
			m, isMap := v.(map[any]any)
			if !ok || !isMap || len(m) != 6 || m[nil] != int64(1) || m[true] != int64(2) || m[int64(7)] != int64(3) || m["k"] != int64(5) || m[1.0] != int64(6) {
				t.Fatalf("map %#v", v)
			}
		}},
		{"non-minimal envelope integers", wfWith(map[int][]byte{wfVersion: wfI64(2), wfMode: wfI64(0), wfArg: wfU64(0), wfCreated: wfI64(wfNow - 100), wfSealed: wfU64(wfNow), wfDeadline: wfI64(wfNow + 10)}), nil},
		{"sealed 60 s in the future (the skew allowed)", wfWith(map[int][]byte{wfCreated: wfU32(wfNow), wfSealed: wfU32(wfNow + 60)}), nil},
		{"created equal to sealed", wfWith(map[int][]byte{wfCreated: wfU32(wfNow)}), nil},
		{"TTL in the past drops the key, session lives", wfWith(map[int][]byte{
			wfData: wfCat([]byte{0x82}, wfStr("a"), []byte{1}, wfStr("b"), []byte{2}),
			wfTTLs: wfCat([]byte{0x81}, wfStr("a"), wfU32(wfNow))}), func(t *testing.T, s *Session) {
			if keys := s.Keys(); len(keys) != 1 || keys[0] != "b" {
				t.Fatalf("keys %q", keys)
			}
		}},
		{"empty data, one flash", wfWith(map[int][]byte{wfData: {0x80}, wfFlashes: {0x91, 0xa2, 'h', 'i'}}), func(t *testing.T, s *Session) {
			if f := s.Flashes(); len(f) != 1 || f[0] != "hi" {
				t.Fatalf("flashes %#v", f)
			}
		}},
		{"idle expiry", wfWith(map[int][]byte{wfMode: {0x01}, wfArg: wfU32(600), wfDeadline: wfU32(wfNow + 600)}), func(t *testing.T, s *Session) {
			if s.ExpiryAge() != 600*time.Second {
				t.Fatalf("ExpiryAge %v", s.ExpiryAge())
			}
		}},
		{"browser-close expiry", wfWith(map[int][]byte{wfMode: {0x03}}), func(t *testing.T, s *Session) {
			if !s.ExpiresAtBrowserClose() {
				t.Fatal("not browser-close")
			}
		}},
	}
	for _, tc := range cases {
		s, err := c.Decode(wfSeal(t, c, tc.payload))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if tc.check != nil {
			tc.check(t, s)
		}
	}
	// And an envelope whose deadline has come is ErrExpired, not ErrInvalid.
	if _, err := c.Decode(wfSeal(t, c, wfWith(map[int][]byte{wfDeadline: wfU32(wfNow)}))); !errors.Is(err, ErrExpired) || errors.Is(err, ErrInvalid) {
		t.Fatalf("deadline = now: %v, want ErrExpired", err)
	}
}

// wfMarshalSamples are Go values whose msgpack encodings checkValue must
// accept, covering every msgpack type the library can produce.
func wfMarshalSamples() []any {
	type inner struct {
		A int               `msgpack:"a"`
		B []string          `msgpack:"b,omitempty"`
		M map[string]uint16 `msgpack:"m"`
	}
	type outer struct {
		Name  string
		Ptr   *inner
		In    inner
		T     time.Time
		D     time.Duration
		Raw   []byte
		F32   float32
		Arr   [3]int8
		Iface any
		skip  int
	}
	big := func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	bigMap := make(map[string]int, 70000)
	for i := 0; i < 70000; i++ {
		bigMap[strings.Repeat("k", i%5)+string(rune('a'+i%26))+string(rune(i))] = i
	}
	var deep any = "bottom"
	for i := 0; i < 31; i++ {
		deep = []any{deep}
	}
	return []any{
		nil, true, false,
		0, 1, -1, 127, 128, -32, -33, 255, 256, 65535, 65536, math.MaxInt32, math.MaxInt32 + 1,
		int8(math.MinInt8), int16(math.MinInt16), int32(math.MinInt32), int64(math.MinInt64), int64(math.MaxInt64),
		uint8(math.MaxUint8), uint16(math.MaxUint16), uint32(math.MaxUint32), uint64(math.MaxUint64),
		float32(1.5), float32(math.Inf(-1)), 0.1, math.NaN(), math.Inf(1), math.Copysign(0, -1), math.SmallestNonzeroFloat64,
		"", "a", strings.Repeat("s", 31), strings.Repeat("s", 32), strings.Repeat("s", 255), strings.Repeat("s", 256),
		strings.Repeat("s", 65535), strings.Repeat("s", 65536), "\xff\xfe invalid utf-8", "日本語",
		[]byte{}, []byte{0}, make([]byte, 255), make([]byte, 256), make([]byte, 65536),
		time.Unix(0, 0), time.Unix(wfNow, 0), time.Unix(wfNow, 1), time.Unix(1<<34, 5), time.Unix(-1, 0),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Time{},
		[]any{}, []any{nil, 1, "x", []byte("y"), 2.5, time.Unix(1, 0)}, big(15), big(16), big(65535), big(65536),
		[]string{"admin", "editor"}, [][]int{{1}, {2, 3}}, [2]bool{true, false},
		map[string]any{}, map[string]any{"a": 1, "b": map[string]any{"c": []any{1, "2"}}},
		map[int]string{1: "a", -1: "b"}, map[uint64]bool{math.MaxUint64: true}, map[float64]int{1.5: 1, math.Inf(1): 2},
		map[bool]string{true: "t", false: "f"}, map[string][]int{"x": {1}}, bigMap,
		map[int8]any{1: nil}, map[string]time.Time{"t": time.Unix(wfNow, 0)},
		inner{A: 1, M: map[string]uint16{"x": 9}}, &inner{}, (*inner)(nil),
		outer{Name: "n", Ptr: &inner{B: []string{"q"}}, T: time.Unix(wfNow, 7), D: time.Minute, Raw: []byte{1}, F32: 2.5, Iface: map[string]any{"k": []any{}}},
		deep,
	}
}

// TestCheckValueAcceptsMsgpack: whatever msgpack.Marshal makes of these
// values (with and without compact integers, sorted map keys), checkValue
// accepts, the library decodes, every proper prefix is refused as
// truncated, and a byte more is refused as trailing.
func TestCheckValueAcceptsMsgpack(t *testing.T) {
	for i, v := range wfMarshalSamples() {
		for variant := 0; variant < 3; variant++ {
			compact := variant == 1
			var b []byte
			if variant == 0 {
				var err error
				if b, err = msgpack.Marshal(v); err != nil {
					t.Fatalf("sample %d (%T): msgpack.Marshal: %v", i, v, err)
				}
			} else {
				var buf bytes.Buffer
				enc := msgpack.NewEncoder(&buf)
				enc.UseCompactInts(compact)
				enc.SetSortMapKeys(true)
				if err := enc.Encode(v); err != nil {
					t.Fatalf("sample %d (%T): msgpack cannot encode it: %v", i, v, err)
				}
				b = buf.Bytes()
			}
			if err := checkValue(b); err != nil {
				t.Errorf("sample %d (%T, compact=%v): checkValue refused % x...: %v", i, v, compact, b[:min(len(b), 16)], err)
				continue
			}
			if _, err := decodeAny(b); err != nil {
				t.Errorf("sample %d (%T): accepted but does not decode: %v", i, v, err)
			}
			if err := checkValue(append(bytes.Clone(b), 0xc0)); err == nil {
				t.Errorf("sample %d (%T): accepted with a trailing byte", i, v)
			}
			if len(b) > 4096 {
				continue // prefixes of the big ones: covered by their small siblings
			}
			for n := 0; n < len(b); n++ {
				if err := checkValue(b[:n]); err == nil {
					t.Errorf("sample %d (%T): accepted the %d-byte prefix of %d bytes", i, v, n, len(b))
					break
				}
			}
		}
	}
}

// TestCheckValueRefusesHostile: the raw hostile values are refused, and
// map keys that are containers or binary are refused at every depth.
func TestCheckValueRefusesHostile(t *testing.T) {
	for _, h := range wfRawHostile {
		if err := checkValue(h.b); err == nil {
			t.Errorf("%s: checkValue accepted % x", h.name, h.b[:min(len(h.b), 16)])
		}
		// Nor can it hide one level down in an array, or as a map value.
		if err := checkValue(append([]byte{0x91}, h.b...)); err == nil {
			t.Errorf("%s in an array: accepted", h.name)
		}
	}
	if err := checkValue(wfNested(32)); err != nil {
		t.Errorf("32 nested arrays: %v", err)
	}
	if err := checkValue(wfNested(33)); !errors.Is(err, errTooDeep) {
		t.Errorf("33 nested arrays: %v, want errTooDeep", err)
	}
	c := wfCodec(t, "session", Config{})
	if err := c.parse(&state{}, wfWithValue(wfNested(32)), wfNow, false, false); err != nil {
		t.Errorf("envelope with a 32-deep value: %v", err)
	}
	if err := c.parse(&state{}, wfWithValue(wfNested(33)), wfNow, false, false); !errors.Is(err, errTooDeep) {
		t.Errorf("envelope with a 33-deep value: %v, want errTooDeep", err)
	}
	flash := wfWith(map[int][]byte{wfFlashes: wfCat([]byte{0x91}, wfNested(33))})
	if err := c.parse(&state{}, flash, wfNow, false, false); !errors.Is(err, errTooDeep) {
		t.Errorf("envelope with a 33-deep flash: %v, want errTooDeep", err)
	}
	for _, key := range [][]byte{{0x90}, {0x80}, {0xc4, 0}, {0xc5, 0, 0}, {0xc6, 0, 0, 0, 0}, {0xd6, 0xff, 0, 0, 0, 0}, {0xd7, 0xff, 0, 0, 0, 0, 0, 0, 0, 0}, append([]byte{0xc7, 12, 0xff}, make([]byte, 12)...), {0xdc, 0, 0}, {0xdd, 0, 0, 0, 0}, {0xde, 0, 0}, {0xdf, 0, 0, 0, 0}} {
		m := wfCat([]byte{0x81}, key, []byte{0xc0})
		for depth := 0; depth < 3; depth++ {
			if err := checkValue(m); err == nil || !strings.Contains(err.Error(), "key") {
				t.Errorf("map with key % x at depth %d: %v, want a map-key error", key, depth, err)
			}
			m = append([]byte{0x91}, m...)
		}
	}
}

// TestHostileValuesCheapToRead: values that pass checkValue but cost the
// most per byte to materialise (many small maps, many empty containers)
// stay within a fixed multiple of their size when read with Get.
func TestHostileValuesCheapToRead(t *testing.T) {
	c := wfCodec(t, "session", Config{MaxLength: 1 << 14})
	values := map[string][]byte{
		"1000 empty maps":     wfCat([]byte{0xdc, 0x03, 0xe8}, wfRepeat(1000, 0x80)),
		"1000 empty arrays":   wfCat([]byte{0xdc, 0x03, 0xe8}, wfRepeat(1000, 0x90)),
		"1000 one-entry maps": wfCat([]byte{0xdc, 0x03, 0xe8}, wfRepeat(1000, 0x81, 0xa0, 0xc0)),
		"1000 int-keyed maps": wfCat([]byte{0xdc, 0x03, 0xe8}, wfRepeat(1000, 0x81, 0x01, 0xc0)),
		"1000 timestamps":     wfCat([]byte{0xdc, 0x03, 0xe8}, wfRepeat(1000, 0xd6, 0xff, 0, 0, 0, 1)),
		"1000 nils":           wfCat([]byte{0xdc, 0x03, 0xe8}, wfRepeat(1000, 0xc0)),
		"map of 1000 int keys": func() []byte {
			b := []byte{0xde, 0x03, 0xe8}
			for i := 0; i < 1000; i++ {
				b = append(b, 0xcd, byte(i>>8), byte(i), 0xc0)
			}
			return b
		}(),
		"100 × 10-deep singletons": wfCat([]byte{0xdc, 0, 100}, bytes.Repeat(wfNested(10), 100)),
	}
	for name, val := range values {
		v := wfSeal(t, c, wfWithValue(val))
		n := wfAllocBytes(5, func() {
			s, err := c.Decode(v)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if _, ok := s.Get("a"); !ok {
				t.Fatalf("%s: does not read back", name)
			}
		})
		ratio := float64(n) / float64(len(v))
		t.Logf("%-26s %5d-byte cookie: Decode+Get allocates %7d bytes (%.0f× the cookie)", name, len(v), n, ratio)
		if n > 256*uint64(len(v))+wfMaxDecodeBytes {
			t.Errorf("%s: Decode+Get allocates %d bytes for a %d-byte cookie", name, n, len(v))
		}
	}
}
