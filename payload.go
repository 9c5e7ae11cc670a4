package cookiesession

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
	"unsafe"
)

// This file holds the sealed payload: the msgpack envelope that carries a
// session (see FORMAT.md), and the structural check that every byte string is
// put through before the msgpack library decodes any of it.

const (
	// payloadVersion is the envelope's version: 2, sealed with keys bound
	// to the key ID. Version 1 goes with format v1's keys and nothing
	// else (FORMAT.md §1), so the two cannot be mixed.
	payloadVersion   = 2
	payloadVersionV1 = 1
	envelopeFields   = 10
	sessionIDLen     = 16

	// maxValueDepth bounds the nesting of containers inside one value. The
	// msgpack library recurses once per level, so an unbounded depth is a
	// stack-exhaustion attack.
	maxValueDepth = 32

	// Timestamps are Unix seconds in (0, maxUnix]: year 9999 at the latest,
	// so that adding any configured duration cannot overflow.
	maxUnix = 253402300799
)

// expiryMode is the session's expiry policy, as set by SetExpiry and friends.
type expiryMode uint8

const (
	expiryDefault      expiryMode = iota // Config.MaxAge after each seal
	expiryIdle                           // a custom duration after each seal
	expiryAt                             // a fixed instant
	expiryBrowserClose                   // a cookie without Max-Age; Config.MaxAge on the server
)

var (
	errTruncated = errors.New("truncated msgpack")
	errTooDeep   = errors.New("msgpack nested too deeply")
)

// checkValue reports whether b is exactly one well-formed msgpack value that
// the library is willing to hand to the msgpack decoder:
//
//   - every declared length fits in the bytes that remain, so no decoder ever
//     allocates more than a small multiple of len(b) (msgpack v5 allocates
//     whatever a header claims);
//   - containers nest at most maxValueDepth deep;
//   - map keys are scalars (nil, bool, numbers, strings), so decoding into a
//     Go map can never panic on an unhashable key;
//   - the only extension type is -1, msgpack's timestamp, in its three legal
//     sizes;
//   - the never-used code 0xc1 does not appear.
//
// parse puts every value of an envelope through the same check as it
// reads it, before anything decodes one.
func checkValue(b []byte) error {
	n, err := skipValue(b, 0, maxValueDepth, false)
	if err != nil {
		return err
	}
	if n != len(b) {
		return fmt.Errorf("%d trailing bytes after msgpack value", len(b)-n)
	}
	return nil
}

// skipValue returns the offset just past the value that starts at b[i].
func skipValue(b []byte, i, depth int, isKey bool) (int, error) {
	if i >= len(b) {
		return 0, errTruncated
	}
	c := b[i]
	i++
	var n int // bytes of body, or elements of a container
	switch {
	case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		return i, nil // fixint, nil, bool
	case c >= 0xa0 && c <= 0xbf: // fixstr
		return skipBytes(b, i, int(c&0x1f))
	case c >= 0x80 && c <= 0x8f: // fixmap
		return skipContainer(b, i, int(c&0x0f)*2, depth, isKey, true)
	case c >= 0x90 && c <= 0x9f: // fixarray
		return skipContainer(b, i, int(c&0x0f), depth, isKey, false)
	}
	switch c {
	case 0xcc, 0xd0: // uint8, int8
		return skipBytes(b, i, 1)
	case 0xcd, 0xd1:
		return skipBytes(b, i, 2)
	case 0xca, 0xce, 0xd2: // float32, uint32, int32
		return skipBytes(b, i, 4)
	case 0xcb, 0xcf, 0xd3: // float64, uint64, int64
		return skipBytes(b, i, 8)
	case 0xd9, 0xda, 0xdb, 0xc4, 0xc5, 0xc6: // str8/16/32, bin8/16/32
		var size int
		if c >= 0xd9 {
			size = 1 << (c - 0xd9)
		} else if isKey {
			return 0, errors.New("msgpack map key is binary")
		} else {
			size = 1 << (c - 0xc4)
		}
		if i, n = readLen(b, i, size); i < 0 {
			return 0, errTruncated
		}
		return skipBytes(b, i, n)
	case 0xdc, 0xdd: // array16/32
		if i, n = readLen(b, i, 2<<(c-0xdc)); i < 0 {
			return 0, errTruncated
		}
		return skipContainer(b, i, n, depth, isKey, false)
	case 0xde, 0xdf: // map16/32
		if i, n = readLen(b, i, 2<<(c-0xde)); i < 0 {
			return 0, errTruncated
		}
		if n > (len(b)-i)/2 { // before n*2 can overflow on 32-bit machines
			return 0, errTruncated
		}
		return skipContainer(b, i, n*2, depth, isKey, true)
	case 0xd6, 0xd7: // fixext4, fixext8
		if isKey {
			return 0, errors.New("msgpack map key is an extension")
		}
		return skipExt(b, i, 4<<(c-0xd6))
	case 0xc7: // ext8: the 12-byte timestamp
		if isKey {
			return 0, errors.New("msgpack map key is an extension")
		}
		if i, n = readLen(b, i, 1); i < 0 {
			return 0, errTruncated
		}
		if n != 12 {
			return 0, fmt.Errorf("msgpack ext8 of %d bytes is not a timestamp", n)
		}
		return skipExt(b, i, 12)
	}
	return 0, fmt.Errorf("msgpack code %#02x is not accepted", c)
}

// skipContainer skips n values (2 per entry for a map) starting at b[i].
func skipContainer(b []byte, i, n, depth int, isKey, isMap bool) (int, error) {
	if isKey {
		return 0, errors.New("msgpack map key is a container")
	}
	if depth == 0 {
		return 0, errTooDeep
	}
	// Each element takes at least one byte: a cheap bound before the walk.
	if n > len(b)-i {
		return 0, errTruncated
	}
	var err error
	for k := 0; k < n; k++ {
		if i, err = skipValue(b, i, depth-1, isMap && k%2 == 0); err != nil {
			return 0, err
		}
	}
	return i, nil
}

// skipExt skips a timestamp extension of size bytes whose type byte is
// b[i]. The 8- and 12-byte forms carry nanoseconds, which must be below 10^9
// as the msgpack spec requires: decoders would otherwise carry the excess
// into the seconds, giving one instant two encodings.
func skipExt(b []byte, i, size int) (int, error) {
	if i >= len(b) {
		return 0, errTruncated
	}
	if int8(b[i]) != -1 {
		return 0, fmt.Errorf("msgpack extension type %d is not accepted", int8(b[i]))
	}
	end, err := skipBytes(b, i+1, size)
	if err != nil || size == 4 {
		return end, err
	}
	nsec := binary.BigEndian.Uint32(b[i+1:])
	if size == 8 {
		nsec >>= 2 // the top 30 of 64 bits
	}
	if nsec >= 1e9 {
		return 0, fmt.Errorf("msgpack timestamp with %d nanoseconds", nsec)
	}
	return end, nil
}

func skipBytes(b []byte, i, n int) (int, error) {
	if n > len(b)-i {
		return 0, errTruncated
	}
	return i + n, nil
}

// readLen reads a big-endian length of size bytes at b[i]. It returns -1 when
// b is too short, or the length does not fit in an int (a 32-bit length
// on a 32-bit machine), which no payload of at most 64 KiB could hold.
func readLen(b []byte, i, size int) (int, int) {
	if size > len(b)-i {
		return -1, 0
	}
	switch size {
	case 1:
		return i + 1, int(b[i])
	case 2:
		return i + 2, int(binary.BigEndian.Uint16(b[i:]))
	}
	n := int(binary.BigEndian.Uint32(b[i:]))
	if n < 0 {
		return -1, 0
	}
	return i + 4, n
}

// Appenders for the envelope, always in the shortest form.

func appendArrayLen(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x90|byte(n))
	case n <= math.MaxUint16:
		return append(b, 0xdc, byte(n>>8), byte(n))
	}
	return append(b, 0xdd, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func appendMapLen(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x80|byte(n))
	case n <= math.MaxUint16:
		return append(b, 0xde, byte(n>>8), byte(n))
	}
	return append(b, 0xdf, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func appendString(b []byte, s string) []byte {
	return append(appendStringHeader(b, len(s)), s...)
}

func appendStringHeader(b []byte, n int) []byte {
	switch {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		b = append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		b = append(b, 0xda, byte(n>>8), byte(n))
	default:
		b = append(b, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return b
}

func appendBin8(b []byte, p []byte) []byte {
	return append(append(b, 0xc4, byte(len(p))), p...)
}

// appendUint writes an unsigned integer in the shortest form.
func appendUint(b []byte, v uint64) []byte {
	if v > math.MaxInt64 {
		return binary.BigEndian.AppendUint64(append(b, 0xcf), v)
	}
	return appendInt(b, int64(v))
}

// appendInt writes a non-negative or negative integer in the shortest form.
func appendInt(b []byte, v int64) []byte {
	switch {
	case v >= 0 && v <= 0x7f:
		return append(b, byte(v))
	case v >= -32 && v < 0:
		return append(b, byte(v))
	case v >= 0 && v <= math.MaxUint8:
		return append(b, 0xcc, byte(v))
	case v >= 0 && v <= math.MaxUint16:
		return append(b, 0xcd, byte(v>>8), byte(v))
	case v >= 0 && v <= math.MaxUint32:
		return append(b, 0xce, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	case v >= 0:
		return binary.BigEndian.AppendUint64(append(b, 0xcf), uint64(v))
	case v >= math.MinInt8:
		return append(b, 0xd0, byte(v))
	case v >= math.MinInt16:
		return append(b, 0xd1, byte(v>>8), byte(v))
	case v >= math.MinInt32:
		return append(b, 0xd2, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(v))
}

// reader walks msgpack from an untrusted source: every read checks its
// type and its length against the bytes left, and the first failure sticks.
type reader struct {
	b   []byte
	i   int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *reader) next() byte {
	if r.err != nil || r.i >= len(r.b) {
		r.fail("payload ends early")
		return 0
	}
	c := r.b[r.i]
	r.i++
	return c
}

// length reads an array or map header (want 0x90 or 0x80) and its count.
func (r *reader) length(what string, fix byte) int {
	c := r.next()
	switch {
	case c&0xf0 == fix:
		return int(c & 0x0f)
	case fix == 0x90 && (c == 0xdc || c == 0xdd), fix == 0x80 && (c == 0xde || c == 0xdf):
		size := 2
		if c == 0xdd || c == 0xdf {
			size = 4
		}
		i, n := readLen(r.b, r.i, size)
		if i < 0 {
			r.fail("payload ends early")
			return 0
		}
		r.i = i
		return n
	}
	r.fail("%s has msgpack code %#02x", what, c)
	return 0
}

func (r *reader) int(what string) int64 {
	c := r.next()
	switch {
	case c <= 0x7f:
		return int64(c)
	case c >= 0xe0:
		return int64(int8(c))
	}
	size := 0
	switch c {
	case 0xcc, 0xd0:
		size = 1
	case 0xcd, 0xd1:
		size = 2
	case 0xce, 0xd2:
		size = 4
	case 0xcf, 0xd3:
		size = 8
	default:
		r.fail("%s is not an integer", what)
		return 0
	}
	if size > len(r.b)-r.i {
		r.fail("payload ends early")
		return 0
	}
	p := r.b[r.i : r.i+size]
	r.i += size
	var u uint64
	for _, x := range p {
		u = u<<8 | uint64(x)
	}
	switch c {
	case 0xd0:
		return int64(int8(u))
	case 0xd1:
		return int64(int16(u))
	case 0xd2:
		return int64(int32(u))
	case 0xcf:
		if u > math.MaxInt64 {
			r.fail("%s overflows", what)
			return 0
		}
	}
	return int64(u)
}

// isStr reports whether c is the first byte of a msgpack string (fixstr,
// str8, str16 or str32).
func isStr(c byte) bool { return c&0xe0 == 0xa0 || c >= 0xd9 && c <= 0xdb }

// str returns the bytes of a msgpack string.
func (r *reader) str(what string) []byte {
	c := r.next()
	var n int
	switch {
	case c&0xe0 == 0xa0:
		n = int(c & 0x1f)
	case c == 0xd9 || c == 0xda || c == 0xdb:
		var i int
		if i, n = readLen(r.b, r.i, 1<<(c-0xd9)); i < 0 {
			r.fail("payload ends early")
			return nil
		}
		r.i = i
	default:
		r.fail("%s is not a string", what)
		return nil
	}
	return r.take(n)
}

func (r *reader) bin(what string) []byte {
	if c := r.next(); c != 0xc4 {
		r.fail("%s is not bin8", what)
		return nil
	}
	i, n := readLen(r.b, r.i, 1)
	if i < 0 {
		r.fail("payload ends early")
		return nil
	}
	r.i = i
	return r.take(n)
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b)-r.i {
		r.fail("payload ends early")
		return nil
	}
	p := r.b[r.i : r.i+n : r.i+n]
	r.i += n
	return p
}

// value returns the raw bytes of the next value.
func (r *reader) value() []byte {
	if r.err != nil {
		return nil
	}
	end, err := skipValue(r.b, r.i, maxValueDepth, false)
	if err != nil {
		r.fail("%w", err)
		return nil
	}
	return r.take(end - r.i)
}

// envelopeHeadLen returns the length of the envelope's head in b: its
// array header and fields 0 to 6, which hold the session ID and the times.
// Format v2 never compresses them (see deflate).
func envelopeHeadLen(b []byte) (int, error) {
	r := reader{b: b}
	r.length("envelope", 0x90)
	r.int("version")
	r.bin("session ID")
	for range 5 { // created, sealed, mode, argument, deadline
		r.int("envelope field")
	}
	return r.i, r.err
}

// dataEntries returns how many entries the data map of envelope b claims
// to hold, unchecked, or 0 if b has no envelope head.
func dataEntries(b []byte) int {
	head, err := envelopeHeadLen(b)
	if err != nil {
		return 0
	}
	r := reader{b: b, i: head}
	return r.length("data", 0x80)
}

// appendPayload appends the envelope of s sealed at now with the given
// deadline. The field order is FORMAT.md's.
func (c *Codec) appendPayload(b []byte, s *Session, now, deadline int64) []byte {
	s.newID()
	b = appendArrayLen(b, envelopeFields)
	b = appendInt(b, payloadVersion)
	b = appendBin8(b, s.id[:])
	// A session created on a server whose clock runs ahead (Decode allows
	// maxClockSkew) may be resealed by one that runs behind: never seal a
	// creation time after the seal time, which Decode would refuse.
	b = appendInt(b, min(s.created, now))
	b = appendInt(b, now)
	b = appendInt(b, int64(s.mode))
	b = appendInt(b, s.expArg)
	b = appendInt(b, deadline)
	b = appendMapLen(b, len(s.entries))
	ttls := 0
	for i := range s.entries {
		b = appendString(b, s.entries[i].key)
		b = append(b, s.entries[i].raw...)
		if s.entries[i].deadline != 0 {
			ttls++
		}
	}
	b = appendMapLen(b, ttls)
	for i := range s.entries {
		if d := s.entries[i].deadline; d != 0 {
			b = appendString(b, s.entries[i].key)
			b = appendInt(b, d)
		}
	}
	b = appendArrayLen(b, len(s.flashes))
	for i := range s.flashes {
		b = append(b, s.flashes[i].raw...)
	}
	return b
}

// parse fills st from an envelope, which it checks completely: every field
// by type and range, every value and flash by checkValue's rules (through
// reader.value), nothing after the flashes. It enforces every deadline in
// it at now, except, with expiredOK (DecodeExpired), the session's own. legacy says the envelope was sealed with format v1's keys,
// so its version must be 1. Values keep pointing into plain.
func (c *Codec) parse(st *state, plain []byte, now int64, legacy, expiredOK bool) error {
	want := int64(payloadVersion)
	if legacy {
		want = payloadVersionV1
	}
	r := reader{b: plain}
	if n := r.length("envelope", 0x90); r.err == nil && n != envelopeFields {
		return invalid(fmt.Sprintf("envelope has %d fields, want %d", n, envelopeFields), nil)
	}
	if v := r.int("version"); r.err == nil && v != want {
		return invalid(fmt.Sprintf("payload version %d does not go with format v%d keys", v, want), nil)
	}
	id := r.bin("session ID")
	st.created = r.int("creation time")
	st.sealed = r.int("seal time")
	mode := r.int("expiry policy")
	st.expArg = r.int("expiry argument")
	st.deadline = r.int("deadline")
	if r.err != nil {
		return invalid("malformed envelope", r.err)
	}
	switch {
	case len(id) != sessionIDLen:
		return invalid(fmt.Sprintf("session ID of %d bytes", len(id)), nil)
	case !validUnix(st.created) || !validUnix(st.sealed) || !validUnix(st.deadline):
		return invalid("timestamp out of range", nil)
	case st.created > st.sealed:
		return invalid("created after it was sealed", nil)
	case st.sealed > now+maxClockSkew:
		return &sessionError{kind: ErrClockSkew, reason: fmt.Sprintf("sealed %d s after this server's clock", st.sealed-now)}
	case mode < int64(expiryDefault) || mode > int64(expiryBrowserClose):
		return invalid(fmt.Sprintf("unknown expiry policy %d", mode), nil)
	case (mode == int64(expiryIdle) || mode == int64(expiryAt)) != validUnix(st.expArg),
		(mode == int64(expiryDefault) || mode == int64(expiryBrowserClose)) && st.expArg != 0:
		return invalid("expiry argument does not fit the policy", nil)
	}
	copy(st.id[:], id)
	st.hasID = true
	st.mode = expiryMode(mode)

	n := r.length("data", 0x80)
	if r.err == nil && n > (len(r.b)-r.i)/2 { // each entry takes at least two bytes
		r.fail("data map of %d entries in %d bytes", n, len(r.b)-r.i)
	}
	if r.err != nil {
		return invalid("malformed envelope", r.err)
	}
	// Beyond the few entries open's storage holds, entries are allocated
	// as they are checked, 64 at first and then by doubling up to the
	// count the header claims, never all at once from that claim: 32,747
	// copies of one key fit in 64 KiB of payload (a few hundred bytes
	// compressed), and would cost 2 MiB of entries before the duplicate was
	// noticed. So a map that is refused has cost at most four times the
	// entries before the fault (the last allocation at most twice them, all
	// before it together no more than the last), or 64 entries.
	if want := n + roomEntries; n > 0 && cap(st.entries) < want {
		st.entries = make([]entry, 0, min(want, firstEntries))
	}
	st.entries = st.entries[:0]
	// plain is never written again (values are decoded from it, never in
	// place, and Set writes only past its end: state.arena), so it can
	// back the keys directly instead of a copy.
	keys := unsafe.String(unsafe.SliceData(plain), len(plain))
	for i := 0; i < n && r.err == nil; i++ {
		k := r.str("key")
		raw := r.value()
		if r.err != nil {
			break
		}
		start := r.i - len(raw) - len(k)
		key := keys[start : start+len(k)]
		if i > 0 && key <= st.entries[i-1].key {
			return invalid("data keys are not in strictly increasing order", nil)
		}
		if len(st.entries) == cap(st.entries) {
			// Doubled by hand: append's growth is no fixed factor, and
			// rounds up past the count claimed.
			grown := make([]entry, len(st.entries), min(2*cap(st.entries), n+roomEntries))
			copy(grown, st.entries)
			st.entries = grown
		}
		st.entries = append(st.entries, entry{key: key, raw: raw})
	}
	m := r.length("TTLs", 0x80)
	var prev []byte
	for i := 0; i < m && r.err == nil; i++ {
		k := r.str("TTL key")
		d := r.int("TTL")
		if r.err != nil {
			break
		}
		j := sort.Search(len(st.entries), func(j int) bool { return st.entries[j].key >= string(k) })
		switch {
		case j == len(st.entries) || st.entries[j].key != string(k):
			return invalid("TTL for a key that holds no value", nil)
		case st.entries[j].deadline != 0:
			return invalid("two TTLs for one key", nil)
		case i > 0 && string(k) <= string(prev):
			// Like the data keys, so that a session has one encoding.
			return invalid("TTL keys are not in strictly increasing order", nil)
		case !validUnix(d):
			return invalid("TTL out of range", nil)
		}
		st.entries[j].deadline = d
		prev = k
	}
	f := r.length("flashes", 0x90)
	if f > len(r.b)-r.i { // each flash takes at least one byte
		r.fail("%d flashes in %d bytes", f, len(r.b)-r.i)
	}
	if r.err == nil && f > 0 {
		// Checked before they are allocated, like the data entries.
		probe := r
		for i := 0; i < f && probe.err == nil; i++ {
			probe.value()
		}
		r.err = probe.err
	}
	if r.err == nil && f > 0 {
		st.flashes = make([]entry, f) // one allocation, not append's growth
	}
	for i := 0; i < f && r.err == nil; i++ {
		raw := r.value()
		if legacy && looksCategorised(raw) {
			// Format v1 predates categories: this is a default-category
			// value, written as a v2 writer would write it.
			raw = append([]byte{0x92, 0xa0}, raw...)
		}
		st.flashes[i] = entry{raw: raw}
	}
	if r.err == nil && r.i != len(plain) {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return invalid("malformed envelope", r.err)
	}

	if deadline, _ := c.cookieDeadline(st); now >= deadline && !expiredOK {
		return c.expiredError(st)
	}
	dropExpired(&st.entries, now)
	return nil
}

// expiredError says why the sealed session st no longer opens.
func (c *Codec) expiredError(st *state) error {
	_, why := c.cookieDeadline(st)
	if why == "" {
		why = fmt.Sprintf("deadline %s passed", time.Unix(st.deadline, 0).UTC().Format(time.RFC3339))
	}
	return &sessionError{kind: ErrExpired, reason: why}
}

// firstEntries is how many entries parse allocates at first for a data map
// that open's storage cannot hold: enough for most sessions at once.
const firstEntries = 64

// cookieDeadline returns when a sealed session stops opening: the deadline
// it carries, brought forward by the codec's current MaxAge (for the default
// and browser-close policies), MaxExpiry and AbsoluteTimeout, so that
// tightening any of them takes effect at once. why names the codec limit
// that decides, or is "" when the sealed deadline does.
func (c *Codec) cookieDeadline(st *state) (deadline int64, why string) {
	deadline = st.deadline
	if (st.mode == expiryDefault || st.mode == expiryBrowserClose) && st.sealed+c.maxAge < deadline {
		deadline, why = st.sealed+c.maxAge, "idle for longer than MaxAge"
	}
	if c.maxExpiry > 0 && st.sealed+c.maxExpiry < deadline {
		deadline, why = st.sealed+c.maxExpiry, "idle for longer than MaxExpiry"
	}
	if c.absolute > 0 && st.created+c.absolute < deadline {
		deadline, why = st.created+c.absolute, "older than AbsoluteTimeout"
	}
	return deadline, why
}

func validUnix(t int64) bool { return t > 0 && t <= maxUnix }
