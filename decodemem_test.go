package cookiesession

// Decode's memory under a genuine seal (a leaked key, a bug in an older
// release): SECURITY.md's "Bounded decoding" figures are the constants
// below, each asserted on cookies sealed with the codec's key and
// compressed as Encode compresses.

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"unsafe"
)

const (
	// memRefusedCeiling is the most Decode allocates to refuse a
	// compressed payload that fails its structural checks: the inflater's
	// output (up to 64 KiB, grown by doubling), the inflater itself when
	// its pool is empty (about 140 KB; the race detector empties pools at
	// random), and small change. Measured: 182 KB, 320 KB under -race.
	memRefusedCeiling = 512 << 10
	// memPerPayloadByte is the most Decode keeps per byte of (inflated)
	// payload: a one-byte flash becomes an entry of this many bytes (on a
	// 64-bit machine; TestDecodeMemory_EntrySize keeps it honest).
	memPerPayloadByte = 56
	// memOverhead is what opening costs besides the entries: inflating
	// (as above), the plaintext and the session. Measured with the
	// densest payload: 240 KB, 430 KB under -race.
	memOverhead = 1 << 20
	// memCeiling is the most any Decode allocates when the payload is
	// compressed (it inflates to at most 64 KiB): 56 × 64 KiB, plus
	// memOverhead: 4.5 MiB in all.
	memCeiling = memPerPayloadByte*maxPayload + memOverhead
)

// memCompress compresses an envelope as Encode does with Config.Compress.
func memCompress(t *testing.T, env []byte) []byte {
	t.Helper()
	p := deflate(env)
	if len(p) == 0 || p[0] != compressedMarker {
		t.Fatalf("control: the %d-byte envelope did not compress", len(env))
	}
	return p
}

// memEnvelope is a valid envelope sealed at now with n data entries whose
// key-value bytes are data, and f flashes whose bytes are flashes.
func memEnvelope(now int64, n int, data []byte, f int, flashes []byte) []byte {
	b := appendArrayLen(nil, envelopeFields)
	b = appendInt(b, payloadVersion)
	b = appendBin8(b, []byte("mem-session-id16"))
	b = appendInt(b, now)
	b = appendInt(b, now)
	b = appendInt(b, int64(expiryDefault))
	b = appendInt(b, 0)
	b = appendInt(b, now+3600)
	b = appendMapLen(b, n)
	b = append(b, data...)
	b = appendMapLen(b, 0)
	b = appendArrayLen(b, f)
	return append(b, flashes...)
}

// TestDecodeMemory_DuplicateKeysRefusedCheaply: the reviewer's cookie, a
// few hundred bytes that inflate to a data map of 32,747 entries of one
// key, is refused for its key order at the second entry, with no more than
// the first 64 entries allocated (it cost
// 2.4 MiB when the entries came first).
func TestDecodeMemory_DuplicateKeysRefusedCheaply(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	const n = 32747
	env := memEnvelope(c.unixNow(), n, wfRepeat(n, 0xa0, 0xc0), 0, nil) // "": nil, n times
	if len(env) > maxPayload {
		t.Fatalf("control: the envelope is %d bytes, over the %d limit", len(env), maxPayload)
	}
	v := atkSealRaw(t, c, memCompress(t, env))
	if l := len(c.Name()) + 1 + len(v); l > 512 {
		t.Fatalf("control: the cookie is %d bytes; the point is a short one", l)
	}
	s, err := c.Decode(v)
	atkWantErr(t, "Decode", s, err, ErrInvalid)
	if err == nil || !strings.Contains(err.Error(), "order") {
		t.Errorf("Decode: %v; want a refusal for the key order", err)
	}
	if n := atkAllocs(func() { _, _ = c.Decode(v) }); n > memRefusedCeiling {
		t.Errorf("refusing a %d-byte cookie allocated %d bytes, ceiling %d", len(v), n, memRefusedCeiling)
	}
}

// refusedMap returns an envelope whose data map claims claimed entries and
// holds good ones in order, then a duplicate key, then filler the claim
// needs to pass the length check.
func refusedMap(now int64, claimed, good int) []byte {
	var data []byte
	for i := range good {
		data = appendString(data, fmt.Sprintf("k%05d", i))
		data = append(data, 0xc0)
	}
	data = appendString(data, fmt.Sprintf("k%05d", good-1)) // the duplicate
	data = append(data, 0xc0)
	data = append(data, make([]byte, 2*claimed-len(data))...)
	return memEnvelope(now, claimed, data, 0, nil)
}

// TestDecodeMemory_RefusedMapCostsItsPrefix: a data map that claims 30,000
// entries and holds good ones before a duplicate key is refused having
// allocated entries for at most four times the good ones (doubling from
// 64: the last allocation at most twice the entries read, all before it
// together no more than the last), or 64 entries if fewer, well under what
// the claim alone would cost. parse alone is measured for several counts
// (append's own growth, which is no fixed factor, cost 5.25 times the 293
// entries' size); Decode for one, compressed, as a cookie would carry it.
func TestDecodeMemory_RefusedMapCostsItsPrefix(t *testing.T) {
	c, _ := newTestCodec(t, Config{MaxCookies: 5}) // the good keys compress poorly
	const claimed = 30000
	now := c.unixNow()
	for _, good := range []int{10, 65, 293, 1025, 4000} {
		env := refusedMap(now, claimed, good)
		if err := c.parse(&state{}, env, now, false, false); err == nil || !strings.Contains(err.Error(), "order") {
			t.Fatalf("%d good entries: parse: %v; want a refusal for the key order", good, err)
		}
		const slack = 8 << 10 // the error, and size classes rounding up
		bound := uint64(4*max(good, firstEntries/4)*memPerPayloadByte + slack)
		if n := atkAllocs(func() { _ = c.parse(&state{}, env, now, false, false) }); n > bound {
			t.Errorf("%d good entries: refusing the map allocated %d bytes, bound %d", good, n, bound)
		}
	}

	const good = 4000
	env := refusedMap(now, claimed, good)
	if len(env) > maxPayload {
		t.Fatalf("control: the envelope is %d bytes, over the %d limit", len(env), maxPayload)
	}
	v := atkSealRaw(t, c, memCompress(t, env))
	s, err := c.Decode(v)
	atkWantErr(t, "Decode", s, err, ErrInvalid)
	if err == nil || !strings.Contains(err.Error(), "order") {
		t.Fatalf("Decode: %v; want a refusal for the key order", err)
	}
	bound := uint64(memRefusedCeiling + 4*good*memPerPayloadByte)
	if claim := uint64(claimed * memPerPayloadByte); bound >= claim {
		t.Fatalf("control: bound %d is not under the claim's %d", bound, claim)
	}
	if n := atkAllocs(func() { _, _ = c.Decode(v) }); n > bound {
		t.Errorf("refusing the map allocated %d bytes, bound %d", n, bound)
	} else {
		t.Logf("Decode refusing a map of %d good entries allocated %d bytes (bound %d)", good, n, bound)
	}
}

// TestDecodeMemory_BadFlashRefusedCheaply: a short cookie that inflates to
// 65,400 flashes, the last of which is not acceptable msgpack, is refused
// before any flash is allocated (4 MiB of entries otherwise).
func TestDecodeMemory_BadFlashRefusedCheaply(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	const f = 65400
	flashes := append(wfRepeat(f-1, 0xc0), 0xc1) // nil, ..., nil, the never-used code
	v := atkSealRaw(t, c, memCompress(t, memEnvelope(c.unixNow(), 0, nil, f, flashes)))
	if l := len(c.Name()) + 1 + len(v); l > 512 {
		t.Fatalf("control: the cookie is %d bytes; the point is a short one", l)
	}
	s, err := c.Decode(v)
	atkWantErr(t, "Decode", s, err, ErrInvalid)
	if n := atkAllocs(func() { _, _ = c.Decode(v) }); n > memRefusedCeiling {
		t.Errorf("refusing a %d-byte cookie allocated %d bytes, ceiling %d", len(v), n, memRefusedCeiling)
	}
}

// TestDecodeMemory_DensestPayloadsOpenWithinBound: the payloads that cost
// the most per byte and still open (65,400 nil flashes, a 323-byte cookie,
// and a data map of the most distinct keys 64 KiB holds) open within
// memPerPayloadByte per byte of payload plus memOverhead, so within
// memCeiling.
func TestDecodeMemory_DensestPayloadsOpenWithinBound(t *testing.T) {
	c, _ := newTestCodec(t, Config{MaxLength: 1 << 17}) // the key map compresses poorly
	now := c.unixNow()

	const flashes = 65400
	flashEnv := memEnvelope(now, 0, nil, flashes, wfRepeat(flashes, 0xc0))

	keys := []string{""}
	for i := 0; i < 256; i++ {
		keys = append(keys, string([]byte{byte(i)}))
	}
	for i := 0; i < 1<<16; i++ {
		keys = append(keys, string([]byte{byte(i >> 8), byte(i)}))
	}
	sort.Strings(keys)
	var data []byte
	n := 0
	for _, k := range keys {
		if len(data)+len(k)+2 > maxPayload-50 {
			continue // shorter keys may still fit
		}
		data = append(appendString(data, k), 0xc0)
		n++
	}
	keyEnv := memEnvelope(now, n, data, 0, nil)

	for _, tc := range []struct {
		name    string
		env     []byte
		entries int
	}{
		{"65,400 nil flashes", flashEnv, flashes},
		{fmt.Sprintf("%d shortest distinct keys", n), keyEnv, n},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.env) > maxPayload {
				t.Fatalf("control: the envelope is %d bytes, over the %d limit", len(tc.env), maxPayload)
			}
			v := atkSealRaw(t, c, memCompress(t, tc.env))
			s, err := c.Decode(v)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got := s.Len() + len(s.flashes); got != tc.entries {
				t.Fatalf("opened with %d entries and flashes, want %d", got, tc.entries)
			}
			bound := uint64(memPerPayloadByte*len(tc.env) + memOverhead)
			got := atkAllocs(func() {
				if _, err := c.Decode(v); err != nil {
					t.Error(err)
				}
			})
			t.Logf("%d-byte cookie, %d-byte payload: Decode allocates %d bytes (bound %d)", len(v), len(tc.env), got, bound)
			if got > bound || got > memCeiling {
				t.Errorf("Decode allocated %d bytes, over %d per payload byte + %d = %d (ceiling %d)",
					got, memPerPayloadByte, memOverhead, bound, memCeiling)
			}
		})
	}
}

// TestDecodeMemory_EntrySize: the figures above and in SECURITY.md assume
// an entry of memPerPayloadByte bytes. Another size changes what the
// densest payload costs: update both.
func TestDecodeMemory_EntrySize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the figures are for 64-bit machines")
	}
	if n := unsafe.Sizeof(entry{}); n != memPerPayloadByte {
		t.Fatalf("an entry takes %d bytes, not the %d that SECURITY.md's decoding bound states", n, memPerPayloadByte)
	}
}
