package cookiesession

// The codec's allocation diet: what a round trip allocates, and proof that
// each shortcut taken to avoid an allocation gives the answer the general
// path gives.

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

type allocUserID int64

type allocName string

// allocValues are values whose encodings cover every msgpack form a
// scalar fast path could meet: each integer width and sign, both float
// widths, strings of every length prefix, and the non-scalars next to them.
var allocValues = []any{
	0, 1, -1, -32, -33, 127, 128, 255, 256, 65535, 65536, -129, -32769,
	math.MaxInt32, math.MinInt32, int64(math.MaxInt32) + 1, int64(math.MinInt32) - 1,
	int64(math.MaxInt64), int64(math.MinInt64), uint64(math.MaxUint64), uint64(1 << 63),
	float32(2.5), float32(1e30), 2.5, 3.0, -0.0, 1e300, math.NaN(), math.Inf(1), float64(1 << 53),
	"", "a", strings.Repeat("x", 31), strings.Repeat("y", 32), strings.Repeat("z", 256),
	strings.Repeat("w", 70000), allocName("named"),
	[]byte("bin"), nil, true, false, []string{"a"}, map[string]int{"a": 1},
	time.Unix(1700000000, 5).UTC(), allocUserID(7),
	// Arrays, for Get[[]string]'s shortcut: empty, fixarray, array16, strings
	// of every length prefix, and elements it leaves to the decoder.
	[]string{}, []string(nil), []string{"", strings.Repeat("x", 40), strings.Repeat("y", 300)},
	strings.Split(strings.Repeat("s,", 19)+"s", ","), []any{"a", 1}, []any{[]byte("bin")},
	[]any{nil}, [][]string{{"a"}}, [2]string{"p", "q"},
}

func allocCompare[T comparable](t *testing.T, raw []byte, v any) {
	t.Helper()
	e := entry{raw: raw}
	got, gotOK := entryAs[T](&e)
	want, wantOK := decodedAs[T](&entry{raw: raw})
	same := got == want || got != got && want != want // NaN
	if !same || gotOK != wantOK {
		t.Errorf("%T as %T: entryAs = %v, %v; decoded = %v, %v", v, got, got, gotOK, want, wantOK)
	}
}

// TestScalarAsMatchesDecoded: Get[T]'s allocation-free path for strings and
// numbers, and the untyped Get's for strings, answer exactly as decoding the
// value does, for every value and every target type they handle.
func TestScalarAsMatchesDecoded(t *testing.T) {
	for _, v := range allocValues {
		raw, err := encodeValue(v)
		if err != nil {
			t.Fatalf("encodeValue(%T): %v", v, err)
		}
		// value's own shortcut for strings against msgpack's decoding,
		// which decodedAs[string] then relies on.
		got, gotErr := (&entry{raw: raw}).value()
		want, wantErr := decodeAny(raw)
		if !reflect.DeepEqual(got, want) && !(got != got && want != want) || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("%T: value = %#v, %v; decodeAny = %#v, %v", v, got, gotErr, want, wantErr)
		}
		allocCompare[string](t, raw, v)
		allocCompare[allocName](t, raw, v)
		allocCompare[int](t, raw, v)
		allocCompare[int8](t, raw, v)
		allocCompare[int16](t, raw, v)
		allocCompare[int32](t, raw, v)
		allocCompare[int64](t, raw, v)
		allocCompare[allocUserID](t, raw, v)
		allocCompare[uint](t, raw, v)
		allocCompare[uint8](t, raw, v)
		allocCompare[uint16](t, raw, v)
		allocCompare[uint32](t, raw, v)
		allocCompare[uint64](t, raw, v)
		allocCompare[float32](t, raw, v)
		allocCompare[float64](t, raw, v)
		allocCompare[bool](t, raw, v)
		got, gotOK := entryAs[[]string](&entry{raw: raw})
		want, wantOK := decodedAs[[]string](&entry{raw: raw})
		if !reflect.DeepEqual(got, want) || gotOK != wantOK {
			t.Errorf("%T as []string: entryAs = %#v, %v; decoded = %#v, %v", v, got, gotOK, want, wantOK)
		}
	}
}

// TestGetScalarAllocs: reading a string or a number from a session opened
// from a cookie allocates nothing, a []string only its slice, and the
// string read stays what was set after the session changes and is sealed
// again.
func TestGetScalarAllocs(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	s.Set("csrf", "9f86d081884c7d659a2feaa0c55ad015")
	s.Set("user_id", int64(1700000000))
	s.Set("ratio", 0.25)
	s.Set("roles", []string{"admin", "editor"})
	opened := mustRoundTrip(t, c, s)
	var csrf string
	allocs := testing.AllocsPerRun(100, func() {
		var ok1, ok2, ok3 bool
		csrf, ok1 = Get[string](opened, "csrf")
		_, ok2 = Get[int64](opened, "user_id")
		_, ok3 = Get[float64](opened, "ratio")
		if !ok1 || !ok2 || !ok3 {
			t.Fatal("a value is missing")
		}
	})
	if allocs != 0 {
		t.Errorf("Get of a string and two numbers: %v allocations, want 0", allocs)
	}
	var roles []string
	allocs = testing.AllocsPerRun(100, func() { roles, _ = Get[[]string](opened, "roles") })
	if allocs != 1 || !reflect.DeepEqual(roles, []string{"admin", "editor"}) {
		t.Errorf("Get[[]string] = %q with %v allocations, want [admin editor] with 1 (the slice)", roles, allocs)
	}
	// An array that is not all strings is left to the decoder, having
	// cost the shortcut nothing.
	notStrings, err := encodeValue(append(make([]any, 100), "last"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	allocs = testing.AllocsPerRun(100, func() {
		if rawStrings(&reader{b: notStrings}, &out) {
			t.Fatal("rawStrings took an array of nils")
		}
	})
	if allocs != 0 {
		t.Errorf("rawStrings refusing an array of nils: %v allocations, want 0", allocs)
	}
	opened.Set("csrf", "another token of the same length!")
	mustEncode(t, c, opened)
	if csrf != "9f86d081884c7d659a2feaa0c55ad015" {
		t.Errorf("a string read before Set and Encode became %q", csrf)
	}
}

// allocFillSmall is the benchmarks' SMALL session.
func allocFillSmall(s *Session) {
	s.Set("user_id", int64(42))
	s.Set("name", "Alice")
	s.Set("roles", []string{"admin", "editor"})
	s.Set("csrf", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
	s.Set("sms_code", "493817")
}

// TestRoundTripAllocs: a small session's round trip (Decode, Get, Set,
// Encode) allocates twice: the Session with everything it keeps, and the
// cookie value.
func TestRoundTripAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector empties sync.Pool at random; CI runs this test without -race too")
	}
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	allocFillSmall(s)
	v := mustEncode(t, c, s)
	decode := testing.AllocsPerRun(200, func() { mustDecode(t, c, v) })
	trip := testing.AllocsPerRun(200, func() {
		s := mustDecode(t, c, v)
		if _, ok := Get[string](s, "csrf"); !ok {
			t.Fatal("csrf missing")
		}
		s.Set("last_seen", int64(1700000000))
		mustEncode(t, c, s)
	})
	if decode != 1 || trip != 2 {
		t.Errorf("Decode: %v allocations, want 1; round trip: %v, want 2", decode, trip)
	}
}

// TestSmallBlockSize: BENCHMARKS.md explains the SMALL round trip's bytes
// by the block Decode fills for it: the Session (296 B), 8 entries and a
// 256-byte plaintext buffer, 1,000 B in the 1,024-byte size class. A change
// to any of them changes those figures: update the document with it.
func TestSmallBlockSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the figures are for 64-bit machines")
	}
	if n := unsafe.Sizeof(Session{}); n != 296 {
		t.Errorf("a Session takes %d bytes, BENCHMARKS.md says 296", n)
	}
	if n := unsafe.Sizeof(block[Session, [8]entry, [256]byte]{}); n != 1000 {
		t.Errorf("the SMALL block takes %d bytes, BENCHMARKS.md says 1,000 (size class 1,024)", n)
	}
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	allocFillSmall(s)
	s = mustDecode(t, c, mustEncode(t, c, s))
	// That SMALL gets that block: room for 8 entries, and a plaintext of
	// 128 to 256 bytes (roomBytes included) in the 256-byte buffer.
	if cap(s.entries) != 8 || cap(s.arena) < roomBytes || cap(s.arena) > 256-128+roomBytes {
		t.Errorf("SMALL opened into %d entries and %d spare bytes, want the [8]entry, [256]byte block", cap(s.entries), cap(s.arena))
	}
}

// TestArenaKeepsValues: values set into an opened session's spare room
// (and past it) read back as set, in this request and after sealing,
// without disturbing what was read before them.
func TestArenaKeepsValues(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	allocFillSmall(s)
	opened := mustRoundTrip(t, c, s)
	csrf, _ := Get[string](opened, "csrf")
	name, _ := Get[string](opened, "name")
	want := map[string]string{}
	for i := range 40 { // well past roomBytes
		k, v := fmt.Sprintf("k%02d", i), strings.Repeat(string(rune('a'+i%26)), i%7+1)
		opened.Set(k, v)
		opened.Set("name", v) // overwrites, leaving old encodings behind
		want[k], want["name"] = v, v
	}
	if csrf != "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" || name != "Alice" {
		t.Fatalf("strings read before the Sets changed: %q, %q", csrf, name)
	}
	for _, sess := range []*Session{opened, mustRoundTrip(t, c, opened)} {
		for k, v := range want {
			if got, ok := Get[string](sess, k); !ok || got != v {
				t.Errorf("%s = %q, %v; want %q", k, got, ok, v)
			}
		}
		if roles, ok := Get[[]string](sess, "roles"); !ok || strings.Join(roles, ",") != "admin,editor" {
			t.Errorf("roles = %v, %v", roles, ok)
		}
		if id, ok := Get[int64](sess, "user_id"); !ok || id != 42 {
			t.Errorf("user_id = %v, %v", id, ok)
		}
		if code, ok := Get[string](sess, "sms_code"); !ok || code != "493817" {
			t.Errorf("sms_code = %q, %v", code, ok)
		}
	}
}

// TestAppendScalarMatchesEncoder: scalars encoded without the msgpack
// encoder come out byte for byte as the encoder writes them, at every
// boundary of every integer width and string length prefix.
func TestAppendScalarMatchesEncoder(t *testing.T) {
	values := []any{nil, true, false, "", strings.Repeat("s", 65535), strings.Repeat("t", 65536),
		float32(0), float32(-1.5), float32(math.Inf(-1)), float32(math.NaN()), 0.0, math.Copysign(0, -1), math.MaxFloat64, math.NaN(),
		uint(math.MaxUint), uint64(math.MaxUint64), uint64(math.MaxInt64), uint64(math.MaxInt64) + 1, uint32(math.MaxUint32), uint16(math.MaxUint16), uint8(math.MaxUint8),
		int8(math.MinInt8), int8(math.MaxInt8), int16(math.MinInt16), int16(math.MaxInt16), int32(math.MinInt32), int32(math.MaxInt32), int(math.MinInt), int(math.MaxInt)}
	for _, n := range []int64{0, 127, 128, 255, 256, 65535, 65536, math.MaxUint32, math.MaxUint32 + 1, -1, -32, -33, -128, -129, -32768, -32769, math.MinInt32, math.MinInt32 - 1} {
		values = append(values, n, int(n), uint64(max(n, 0)))
	}
	for _, n := range []int{0, 1, 31, 32, 255, 256} {
		values = append(values, strings.Repeat("u", n))
	}
	for _, v := range values {
		if _, _, ok := appendScalar(nil, v); !ok {
			t.Fatalf("%T is not a scalar to appendScalar", v)
		}
		got, err := encodeValueIn(nil, v)
		want, werr := encodeMsgpack(nil, v)
		if err != nil || werr != nil || string(got) != string(want) {
			t.Errorf("%T %.20v: appendScalar % x, encoder % x (%v, %v)", v, v, got[:min(len(got), 12)], want[:min(len(want), 12)], err, werr)
		}
	}
}
