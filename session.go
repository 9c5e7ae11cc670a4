package cookiesession

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// A Session is the data of one visitor, Django's request.session in Go: a
// map from string keys to values that msgpack can encode, plus an ID, an
// expiry policy, per-key deadlines and flash messages.
//
// Set encodes a value with msgpack at once, and Get decodes it from that
// encoding, so a value reads back the same in the request that set it as in
// every later one, and later changes to the caller's own value (a slice, a
// map, a struct behind a pointer) never reach the session. The untyped Get,
// Pop, SetDefault, Flashes and FlashesFrom return values in these types
// only:
//
//   - nil, bool, string, []byte;
//   - int64 for every integer, whatever Go type was set (int, uint8, a named
//     integer type); uint64 only for an unsigned value above math.MaxInt64;
//   - float64 for float32 and float64;
//   - time.Time, in UTC (the location is not carried; the instant is, to the
//     nanosecond);
//   - []any for slices and arrays (other than []byte), with elements in
//     these types;
//   - map[string]any for maps whose keys are all strings, and for structs
//     (keyed by field name or msgpack tag); map[any]any, with keys in these
//     types, for maps with other keys.
//
// Get[T] converts to the type the caller wants, structs included. Each call
// returns a fresh copy of a slice or map: changing it changes nothing in the
// session.
//
// A Session is safe for concurrent use by a handler's goroutines. Sessions
// come from Codec.New, Codec.Decode, Codec.DecodeCookies, Codec.Load or
// FromContext; the zero Session is not usable.
type Session struct {
	mu sync.Mutex
	c  *Codec
	state

	// Middleware bookkeeping. The request's Cookie header lines are kept
	// unparsed until the handler first touches the session, so a request
	// that never does costs no parsing and no crypto.
	header    []string // Cookie header lines not opened yet
	unopened  bool     // header still to be opened
	accessed  bool     // the handler touched the session
	hadCookie bool     // a deletion of NAME may go out (see Codec.read)
	chunksIn  uint32   // bit i: a deletion of chunk cookie NAME.i may go out
	oldNameIn uint32   // cookies of the old default name to delete (oldname.go)
	flushed   bool     // Flush was called since the last commit
	ctx       context.Context
	openErr   error  // why the request's cookie did not open
	openFrom  *Codec // whose cookie name openErr is about: c, or c.oldName
	reported  bool   // openErr was handed to Config.OnError or the log

	// Config.Guard bookkeeping.
	retired retiredID // the ID Flush or Renew left, revoked at commit
}

// state is everything a cookie carries, plus whether it changed.
type state struct {
	id       [sessionIDLen]byte
	hasID    bool
	created  int64 // Unix seconds
	sealed   int64 // Unix seconds of the seal this session came from; 0 if new
	deadline int64 // the deadline that seal carried
	keyID    string
	legacy   bool // opened with format v1's keys; Middleware reseals it as v2
	mode     expiryMode
	expArg   int64   // seconds for expiryIdle, Unix seconds for expiryAt
	entries  []entry // sorted by key
	flashes  []entry
	modified bool
	// arena is spare room after the plaintext a session was opened from,
	// where Set places the encodings of values: append-only, so the bytes
	// below its length, which entries and returned strings point into, are
	// never written again. A state copied from another must not append to
	// it while the other lives on.
	arena []byte
}

// entry is one value in its msgpack form: what the cookie carries and what
// every read decodes, so a value reads back the same whether it was set in
// this request or came from a cookie.
type entry struct {
	key      string      // for a flash, its category
	raw      []byte      // nil if the value set did not encode
	err      *valueError // why it did not: rare, so a pointer, not an interface's two words
	deadline int64       // Unix seconds after which the key is gone; 0 = none
}

// valueError is why a value set could not be encoded.
type valueError struct{ err error }

// newValueError returns err for an entry, nil for none.
func newValueError(err error) *valueError {
	if err == nil {
		return nil
	}
	return &valueError{err}
}

// load opens the request's session cookie on first touch: the first
// candidate that opens (see Codec.DecodeCookies) wins. If none does, the
// session starts empty and the reason is reported when the response
// commits; a cookie sealed in the future is reported as clock skew and
// kept (no deletion goes out for it).
func (s *Session) load() {
	s.accessed = true
	if !s.unopened {
		return
	}
	s.unopened = false
	// One clock read for every candidate cookie, and for the creation
	// time of a session that none opens. The commit reads the clock
	// again to seal: a handler may run for longer than the idle window.
	now := s.c.unixNow()
	var st state
	in := s.c.read(s.ctx, s.header, nil, false, &st, now)
	s.header = nil
	s.hadCookie, s.chunksIn, s.oldNameIn = in.hadCookie, in.chunksIn, in.oldNameIn
	if in.opened {
		s.state = st
		s.modified = in.oldName // reseal under the new name
		return
	}
	s.state = state{created: now}
	s.openErr, s.openFrom = in.err, in.from // reported when the response commits
}

// touched reports whether the handler touched s, so that Commit has
// something to say.
func (s *Session) touched() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accessed
}

// OpenError returns why the request's session cookie did not open (an
// error wrapping ErrInvalid, ErrExpired, ErrUnknownKey, ErrTooLarge,
// ErrClockSkew or, with Config.RequireRevocationCheck, ErrGuardUnavailable),
// or nil if it opened or the request carried none. A handler can use it to
// tell "your session expired" from "you never logged in". It opens the
// session if that has not happened yet.
func (s *Session) OpenError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	return s.openErr
}

// takeOpenError returns the codec of the cookie name openErr is about, and
// openErr the first time it is asked, for reporting it exactly once.
func (s *Session) takeOpenError() (*Codec, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reported {
		return nil, nil
	}
	s.reported = true
	return s.openFrom, s.openErr
}

// find returns the live entry for key, dropping it if its TTL has passed.
func (s *Session) find(key string) *entry {
	s.load()
	i, ok := s.index(key)
	if !ok {
		return nil
	}
	if d := s.entries[i].deadline; d != 0 && s.c.unixNow() >= d {
		s.entries = append(s.entries[:i], s.entries[i+1:]...)
		return nil
	}
	return &s.entries[i]
}

func (s *Session) index(key string) (int, bool) {
	i := sort.Search(len(s.entries), func(i int) bool { return s.entries[i].key >= key })
	return i, i < len(s.entries) && s.entries[i].key == key
}

// dropExpired removes the entries whose TTL has passed at now.
func dropExpired(entries *[]entry, now int64) {
	if !slices.ContainsFunc(*entries, func(e entry) bool { return e.deadline != 0 && now >= e.deadline }) {
		return // the common case: copying entries would cost write barriers
	}
	kept := (*entries)[:0]
	for _, e := range *entries {
		if e.deadline == 0 || now < e.deadline {
			kept = append(kept, e)
		}
	}
	clear((*entries)[len(kept):])
	*entries = kept
}

// Get returns the value stored under key and whether it is there, in one of
// the types the Session doc lists. A value that could not be encoded when it
// was set reads as nil, false (see Err).
func (s *Session) Get(key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.find(key)
	if e == nil {
		return nil, false
	}
	v, err := e.value()
	return v, err == nil
}

// Get returns the value stored under key as a T, and whether there is one
// that converts to T exactly.
//
// Numbers convert between Go's integer and float kinds whenever the value
// fits exactly: Get[int] of a stored 300 is 300, true; Get[uint8] of 300, or
// Get[int] of 2.5, is 0, false. For T among the types the Session doc lists
// (and any interface type), Get[T] is the untyped Get with a type check.
// Other types (structs, pointers to them, []string, map[string]int, named
// string types) are decoded from the value's msgpack form into T; a
// time.Time inside such a T comes back in time.Local, as msgpack decodes it.
// msgpack also decodes an array into a struct field by field, so a struct T
// accepts a slice value of fitting elements ([]string{"a", "b"} as a
// struct of two strings).
func Get[T any](s *Session, key string) (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.find(key)
	if e == nil {
		var zero T
		return zero, false
	}
	return entryAs[T](e)
}

// entryAs converts e's value to a T, as Get[T] documents.
func entryAs[T any](e *entry) (T, bool) {
	var out T
	if e.raw == nil {
		return out, false
	}
	if scalarAs(e.raw, reflect.TypeFor[T](), unsafe.Pointer(&out)) {
		return out, true
	}
	return decodedAs[T](e)
}

// decodedAs is entryAs through the value's decoded form.
func decodedAs[T any](e *entry) (T, bool) {
	var out T
	if e.raw == nil {
		return out, false
	}
	t := reflect.TypeFor[T]()
	k := t.Kind()
	if !isNormalType(t) && !isNumberKind(k) {
		p := new(T)
		if decodeInto(e.raw, p) != nil {
			return out, false
		}
		return *p, true
	}
	v, err := e.value()
	if err != nil {
		return out, false
	}
	if v == nil { // what a nil slice, map or interface encodes to
		return out, k == reflect.Interface || k == reflect.Slice || k == reflect.Map
	}
	if tv, ok := v.(T); ok {
		return tv, true
	}
	if isNumberKind(k) {
		n, ok := convertNumber(v, k)
		if ok {
			// out is a number of kind k, so it has k's memory layout
			// even when T is a named type; writing through a pointer
			// keeps out on the stack.
			n.store(unsafe.Pointer(&out), k)
		}
		return out, ok
	}
	return out, false
}

// scalarAs stores in *p, of type t, the string or number that raw encodes
// when t is string or a number kind the value fits exactly, or the strings
// when t is []string, and reports whether it did. It allocates nothing but
// a []string's slice: a string aliases raw, which is never written once it
// holds an encoding (it comes from encodeValue or points into a plaintext
// that parse reads only). Any other case is left to decodedAs, which gives
// the same answer for it (TestScalarAsMatchesDecoded).
func scalarAs(raw []byte, t reflect.Type, p unsafe.Pointer) bool {
	if len(raw) == 0 {
		return false
	}
	r := reader{b: raw}
	switch k := t.Kind(); {
	case t == reflect.TypeFor[string]():
		if !isStr(raw[0]) {
			return false
		}
		b := r.str("value")
		if r.err != nil || r.i != len(raw) {
			return false
		}
		*(*string)(p) = unsafe.String(unsafe.SliceData(b), len(b))
		return true
	case t == reflect.TypeFor[[]string]():
		return rawStrings(&r, (*[]string)(p))
	case isNumberKind(k):
		v, ok := rawNumber(&r)
		if !ok || r.i != len(raw) {
			return false
		}
		n, ok := v.fit(k)
		if ok {
			n.store(p, k)
		}
		return ok
	}
	return false
}

// rawStrings reads an array of strings, and nothing after it, from r into
// *p without msgpack's decoder: one allocation, the slice, whose strings
// point into the raw bytes as Get's strings do. Anything else (nil, an
// element of another type, even one msgpack would convert) reports false
// and leaves *p alone, for the decoder to handle.
func rawStrings(r *reader, p *[]string) bool {
	if c := r.b[0]; c&0xf0 != 0x90 && c != 0xdc && c != 0xdd {
		return false
	}
	n := r.length("value", 0x90)
	if r.err != nil {
		return false
	}
	// Every element is checked before the slice is allocated: anything
	// else goes to the decoder, and should cost nothing here.
	first := r.i
	for range n {
		if r.i >= len(r.b) {
			return false
		}
		if !isStr(r.b[r.i]) {
			return false
		}
		if r.str("value"); r.err != nil {
			return false
		}
	}
	if r.i != len(r.b) {
		return false
	}
	out := make([]string, n)
	r.i = first
	for i := range out {
		b := r.str("value")
		out[i] = unsafe.String(unsafe.SliceData(b), len(b))
	}
	*p = out
	return true
}

// rawNumber reads an integer or float from r, as decodeNormal would decode
// it, without boxing it.
func rawNumber(r *reader) (numberValue, bool) {
	switch c := r.b[r.i]; {
	case c == 0xca && len(r.b)-r.i >= 5:
		bits := binary.BigEndian.Uint32(r.b[r.i+1:])
		r.i += 5
		return numberValue{f: float64(math.Float32frombits(bits)), isFloat: true}, true
	case c == 0xcb && len(r.b)-r.i >= 9:
		bits := binary.BigEndian.Uint64(r.b[r.i+1:])
		r.i += 9
		return numberValue{f: math.Float64frombits(bits), isFloat: true}, true
	case c == 0xcf && len(r.b)-r.i >= 9:
		u := binary.BigEndian.Uint64(r.b[r.i+1:])
		r.i += 9
		if u > math.MaxInt64 {
			return numberValue{u: u, isUint: true}, true
		}
		return numberValue{i: int64(u), isInt: true}, true
	case c <= 0x7f || c >= 0xe0 || c >= 0xcc && c <= 0xd3:
		i := r.int("value")
		return numberValue{i: i, isInt: true}, r.err == nil
	}
	return numberValue{}, false
}

// isNormalType reports whether t is an interface or one of the types the
// untyped Get returns.
func isNormalType(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.String:
		return t == reflect.TypeFor[string]()
	case reflect.Bool:
		return t == reflect.TypeFor[bool]()
	case reflect.Slice:
		return t == reflect.TypeFor[[]byte]() || t == reflect.TypeFor[[]any]()
	case reflect.Map:
		return t == reflect.TypeFor[map[string]any]() || t == reflect.TypeFor[map[any]any]()
	case reflect.Struct:
		return t == reflect.TypeFor[time.Time]()
	}
	return false
}

// GetOr returns the value under key as a T, or def if there is none that
// converts to T: Django's request.session.get(key, default).
func GetOr[T any](s *Session, key string, def T) T {
	if v, ok := Get[T](s, key); ok {
		return v
	}
	return def
}

// Set stores value under key, replacing any value and TTL it had. The value
// is encoded with msgpack at once, so later changes to it are never seen
// unless Set is called again. A value that cannot be encoded (a channel, a
// function, nesting deeper than 32) is kept as an error: Err, Encode and the
// Middleware report it until the key is set again or deleted.
func (s *Session) Set(key string, value any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set(key, value, 0)
}

// SetWithTTL stores value under key for ttl: the key disappears on its own
// once ttl has passed, while the session lives on. Use it for a one-time
// code inside a long login session. Deadlines have one-second resolution;
// a ttl under one second counts as one second, and a ttl of zero or less
// stores nothing and removes the key.
func (s *Session) SetWithTTL(key string, value any, ttl time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ttl <= 0 {
		s.delete(key)
		return
	}
	// Capped like every sealed timestamp, or Decode refuses the cookie.
	s.set(key, value, min(s.c.unixNow()+durationSeconds(ttl), maxUnix))
}

func (s *Session) set(key string, value any, deadline int64) {
	s.load()
	raw, err := encodeValueIn(&s.arena, value)
	e := entry{key: key, raw: raw, err: newValueError(err), deadline: deadline}
	i, ok := s.index(key)
	if ok {
		s.entries[i] = e
	} else {
		s.entries = append(s.entries, entry{})
		copy(s.entries[i+1:], s.entries[i:])
		s.entries[i] = e
	}
	s.modified = true
}

// SetDefault returns the value under key if there is one; otherwise it
// stores value there and returns it as Get now would (Django's setdefault).
// A value that cannot be encoded is stored as Set does and returned as nil.
func (s *Session) SetDefault(key string, value any) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.find(key); e != nil {
		if v, err := e.value(); err == nil {
			return v
		}
	}
	s.set(key, value, 0)
	v, _ := s.find(key).value()
	return v
}

// Delete removes key. Deleting a key that is not there does nothing.
func (s *Session) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delete(key)
}

func (s *Session) delete(key string) {
	s.load()
	if i, ok := s.index(key); ok {
		s.entries = append(s.entries[:i], s.entries[i+1:]...)
		s.modified = true
	}
}

// Pop removes key and returns the value it had, if any.
func (s *Session) Pop(key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.find(key)
	if e == nil {
		return nil, false
	}
	v, err := e.value()
	s.delete(key)
	return v, err == nil
}

// Has reports whether key holds a value.
func (s *Session) Has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.find(key) != nil
}

// Keys returns the keys that hold values, sorted.
func (s *Session) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	dropExpired(&s.entries, s.c.unixNow())
	keys := make([]string, len(s.entries))
	for i := range s.entries {
		keys[i] = s.entries[i].key
	}
	return keys
}

// Len returns the number of keys that hold values.
func (s *Session) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	dropExpired(&s.entries, s.c.unixNow())
	return len(s.entries)
}

// KeyExpiry returns the instant at which key, stored with SetWithTTL,
// disappears. ok is false if key holds no value or has no TTL.
func (s *Session) KeyExpiry(key string) (t time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.find(key); e != nil && e.deadline != 0 {
		return time.Unix(e.deadline, 0), true
	}
	return time.Time{}, false
}

// Clear drops all data, TTLs and flash messages but keeps the session: its
// ID, creation time and expiry policy. A session left empty encodes to ""
// so its cookie is deleted.
func (s *Session) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	s.entries, s.flashes = nil, nil
	s.modified = true
}

// Flush drops all data and the session itself: the next ID is new, the
// expiry policy is the default, and the cookie is deleted unless data is set
// again. This is logout.
func (s *Session) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	s.retire()
	s.state = state{created: s.c.unixNow(), modified: true}
	s.flushed = true
}

// Renew gives the session a new ID and keeps its data. Call it after login
// and after any change of privilege, so that an ID an attacker planted or
// saw before does not carry over.
func (s *Session) Renew() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	s.retire()
	s.hasID = false
	s.newID()
	s.modified = true
}

// ID returns the session's ID: 128 random bits, base64url-encoded. It
// changes on Flush and Renew.
func (s *Session) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	s.newID()
	return base64.RawURLEncoding.EncodeToString(s.id[:])
}

// newID draws an ID if the session has none.
func (s *Session) newID() {
	if !s.hasID {
		rand.Read(s.id[:]) // never fails since Go 1.24
		s.hasID = true
	}
}

// KeyID returns the ID of the key that sealed the cookie this session was
// opened from (after a Commit that sealed it, the primary's), or "" for a
// new session.
func (s *Session) KeyID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	return s.keyID
}

// CreatedAt returns when the session was created (to the second).
func (s *Session) CreatedAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	return time.Unix(s.created, 0)
}

// SealedAt returns when the cookie this session was opened from was sealed
// (to the second; after a Commit that sealed it, when that was), or the
// zero Time for a session neither opened from a cookie nor committed.
func (s *Session) SealedAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if s.sealed == 0 {
		return time.Time{}
	}
	return time.Unix(s.sealed, 0)
}

// Modified reports whether the session changed since it was opened or
// created: whether it needs to be sealed again.
func (s *Session) Modified() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.modified
}

// Err returns nil if every value and flash message in s can be sealed, and
// otherwise an error wrapping ErrUnencodable that names the first key (or
// says "flash message") whose value could not be encoded when it was set.
// It is the error Encode fails with and the Middleware reports, available
// to the handler at once: check it after storing a value of a type that
// might not encode. Setting the key again with a value that encodes, or
// deleting it, clears the error.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.valueErr()
}

// valueErr is Err with s locked.
func (s *Session) valueErr() error {
	for i := range s.entries {
		if e := &s.entries[i]; e.err != nil {
			return &sessionError{kind: ErrUnencodable, reason: fmt.Sprintf("value of key %q", e.key), cause: e.err.err}
		}
	}
	for i := range s.flashes {
		if e := &s.flashes[i]; e.err != nil {
			return &sessionError{kind: ErrUnencodable, reason: "flash message", cause: e.err.err}
		}
	}
	return nil
}

// value returns the entry decoded into the types the Session doc lists,
// afresh on each call, so no caller can change what another reads. Nothing
// decoded is kept: an entry stays 56 bytes, which bounds what a cookie can
// make Decode keep. A string aliases raw, as in scalarAs.
func (e *entry) value() (any, error) {
	if e.raw == nil {
		if e.err != nil {
			return nil, e.err.err
		}
		return nil, nil
	}
	var s string
	if scalarAs(e.raw, reflect.TypeFor[string](), unsafe.Pointer(&s)) {
		return s, nil
	}
	return decodeAny(e.raw)
}

// msgpack plumbing. Encoders and decoders are pooled; every decoder is given
// a map decoder that turns maps with string keys into map[string]any and any
// other map into map[any]any (msgpack's default fails on non-string keys).

type encoder struct {
	buf bytes.Buffer
	enc *msgpack.Encoder
}

var encoders = sync.Pool{New: func() any {
	e := &encoder{}
	e.enc = msgpack.NewEncoder(&e.buf)
	return e
}}

func encodeValue(v any) ([]byte, error) { return encodeValueIn(nil, v) }

// encodeValueIn is encodeValue placing the encoding in the spare capacity
// of *arena when it fits there (arena may be nil), and in a new allocation
// otherwise. Scalars skip the msgpack encoder (see appendScalar).
func encodeValueIn(arena *[]byte, v any) ([]byte, error) {
	var tmp [9]byte
	if head, body, ok := appendScalar(tmp[:0], v); ok {
		return place(arena, head, body), nil
	}
	return encodeMsgpack(arena, v)
}

// encodeMsgpack is encodeValueIn through the msgpack encoder.
func encodeMsgpack(arena *[]byte, v any) ([]byte, error) {
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	e.buf.Reset()
	e.enc.Reset(&e.buf)
	e.enc.UseCompactInts(true)
	e.enc.SetSortMapKeys(true) // one encoding per value, whatever Go's map order
	if err := e.enc.Encode(v); err != nil {
		return nil, fmt.Errorf("msgpack cannot encode %T: %w", v, err)
	}
	if err := checkValue(e.buf.Bytes()); err != nil {
		return nil, fmt.Errorf("%T encodes to msgpack that sessions do not carry: %w", v, err)
	}
	return place(arena, e.buf.Bytes(), ""), nil
}

// place returns head followed by body, in the spare capacity of *arena if
// they fit there (arena may be nil), else in a new slice of their length.
func place(arena *[]byte, head []byte, body string) []byte {
	n := len(head) + len(body)
	if arena == nil || cap(*arena)-len(*arena) < n {
		return append(append(make([]byte, 0, n), head...), body...)
	}
	start := len(*arena)
	*arena = append(append(*arena, head...), body...)
	return (*arena)[start:len(*arena):len(*arena)]
}

// appendScalar encodes v without the msgpack encoder if it is nil, a bool,
// a string or of a Go integer or float type: it appends the encoding to b,
// but for a string only its header, the string itself being body. The bytes
// are the encoder's (TestAppendScalarMatchesEncoder), in at most 9 bytes
// besides body.
func appendScalar(b []byte, v any) (head []byte, body string, ok bool) {
	switch x := v.(type) {
	case nil:
		return append(b, 0xc0), "", true
	case bool:
		if x {
			return append(b, 0xc3), "", true
		}
		return append(b, 0xc2), "", true
	case string:
		return appendStringHeader(b, len(x)), x, true
	case int:
		return appendInt(b, int64(x)), "", true
	case int8:
		return appendInt(b, int64(x)), "", true
	case int16:
		return appendInt(b, int64(x)), "", true
	case int32:
		return appendInt(b, int64(x)), "", true
	case int64:
		return appendInt(b, x), "", true
	case uint:
		return appendUint(b, uint64(x)), "", true
	case uint8:
		return appendInt(b, int64(x)), "", true
	case uint16:
		return appendInt(b, int64(x)), "", true
	case uint32:
		return appendInt(b, int64(x)), "", true
	case uint64:
		return appendUint(b, x), "", true
	case float32:
		return binary.BigEndian.AppendUint32(append(b, 0xca), math.Float32bits(x)), "", true
	case float64:
		return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(x)), "", true
	}
	return b, "", false
}

type decoder struct {
	rd  bytes.Reader
	dec *msgpack.Decoder
}

var decoders = sync.Pool{New: func() any {
	return &decoder{dec: msgpack.NewDecoder(nil)}
}}

func withDecoder(raw []byte, fn func(*msgpack.Decoder) error) error {
	d := decoders.Get().(*decoder)
	defer decoders.Put(d)
	d.rd.Reset(raw)
	d.dec.Reset(&d.rd)
	d.dec.SetMapDecoder(decodeMap)
	if err := fn(d.dec); err != nil {
		return err
	}
	if d.rd.Len() != 0 {
		return errors.New("msgpack: trailing bytes")
	}
	return nil
}

// decodeAny decodes one msgpack value into the types the Session doc lists.
func decodeAny(raw []byte) (v any, err error) {
	err = withDecoder(raw, func(d *msgpack.Decoder) error {
		v, err = decodeNormal(d)
		return err
	})
	return v, err
}

// decodeNormal decodes the next value. The values it reads passed
// checkValue, which bounds their nesting and so this recursion.
func decodeNormal(d *msgpack.Decoder) (any, error) {
	c, err := d.PeekCode()
	if err != nil {
		return nil, err
	}
	switch {
	case c == msgpcode.Nil:
		return nil, d.DecodeNil()
	case c == msgpcode.False || c == msgpcode.True:
		return d.DecodeBool()
	case c == msgpcode.Uint64:
		u, err := d.DecodeUint64()
		if u > math.MaxInt64 {
			return u, err
		}
		return int64(u), err
	case msgpcode.IsFixedNum(c) || c >= msgpcode.Uint8 && c <= msgpcode.Int64:
		return d.DecodeInt64()
	case c == msgpcode.Float || c == msgpcode.Double:
		return d.DecodeFloat64()
	case msgpcode.IsString(c):
		return d.DecodeString()
	case msgpcode.IsBin(c):
		return d.DecodeBytes()
	case msgpcode.IsExt(c):
		t, err := d.DecodeTime() // checkValue admits only timestamps
		return t.UTC(), err
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err := d.DecodeArrayLen()
		if err != nil {
			return nil, err
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = decodeNormal(d); err != nil {
				return nil, err
			}
		}
		return out, nil
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		return decodeNormalMap(d)
	}
	return nil, fmt.Errorf("msgpack code %#02x is not a session value", c)
}

// decodeNormalMap decodes a map into map[string]any if all its keys are
// strings, and into map[any]any otherwise.
func decodeNormalMap(d *msgpack.Decoder) (any, error) {
	return decodeMapWith(d, decodeNormal)
}

// decodeMapWith is decodeNormalMap with elem decoding each key and value.
func decodeMapWith(d *msgpack.Decoder, elem func(*msgpack.Decoder) (any, error)) (any, error) {
	n, err := d.DecodeMapLen()
	if err != nil || n < 0 {
		return nil, err
	}
	m := make(map[string]any, n)
	var other map[any]any // once a key is not a string
	for range n {
		k, err := elem(d)
		if err != nil {
			return nil, err
		}
		v, err := elem(d)
		if err != nil {
			return nil, err
		}
		ks, isString := k.(string)
		if isString && other == nil {
			m[ks] = v
			continue
		}
		if other == nil {
			other = make(map[any]any, n)
			for mk, mv := range m {
				other[mk] = mv
			}
		}
		other[k] = v // checkValue admits only scalar, so hashable, keys
	}
	if other != nil {
		return other, nil
	}
	return m, nil
}

func decodeInto(raw []byte, dst any) error {
	return withDecoder(raw, func(d *msgpack.Decoder) error { return d.Decode(dst) })
}

// decodeMap is the map decoder of Get[T]'s decoder, so that a map inside
// an interface decodes as it does for Get: map[string]any when every key
// is a string.
func decodeMap(d *msgpack.Decoder) (any, error) {
	return decodeMapWith(d, (*msgpack.Decoder).DecodeInterface)
}

func isNumberKind(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Float64 && k != reflect.Uintptr
}

// number is a value converted for a number kind: i for signed kinds, u for
// unsigned ones, f for floats.
type number struct {
	i int64
	u uint64
	f float64
}

// store writes n to p, which points at a value of kind k.
func (n number) store(p unsafe.Pointer, k reflect.Kind) {
	switch k {
	case reflect.Int:
		*(*int)(p) = int(n.i)
	case reflect.Int8:
		*(*int8)(p) = int8(n.i)
	case reflect.Int16:
		*(*int16)(p) = int16(n.i)
	case reflect.Int32:
		*(*int32)(p) = int32(n.i)
	case reflect.Int64:
		*(*int64)(p) = n.i
	case reflect.Uint:
		*(*uint)(p) = uint(n.u)
	case reflect.Uint8:
		*(*uint8)(p) = uint8(n.u)
	case reflect.Uint16:
		*(*uint16)(p) = uint16(n.u)
	case reflect.Uint32:
		*(*uint32)(p) = uint32(n.u)
	case reflect.Uint64:
		*(*uint64)(p) = n.u
	case reflect.Float32:
		*(*float32)(p) = float32(n.f)
	case reflect.Float64:
		*(*float64)(p) = n.f
	}
}

// kindBits is the width of a number kind.
func kindBits(k reflect.Kind) uint {
	switch k {
	case reflect.Int8, reflect.Uint8:
		return 8
	case reflect.Int16, reflect.Uint16:
		return 16
	case reflect.Int32, reflect.Uint32, reflect.Float32:
		return 32
	case reflect.Int, reflect.Uint:
		return strconv.IntSize
	}
	return 64
}

// numberValue is a number as read from a value: a signed integer, an
// unsigned one above math.MaxInt64, or a float.
type numberValue struct {
	i                      int64
	u                      uint64
	f                      float64
	isInt, isUint, isFloat bool
}

// convertNumber converts v to a number of kind k if it fits exactly.
func convertNumber(v any, k reflect.Kind) (number, bool) {
	var (
		i       int64
		u       uint64
		f       float64
		isInt   bool
		isUint  bool
		isFloat bool
	)
	switch n := v.(type) {
	case int:
		i, isInt = int64(n), true
	case int8:
		i, isInt = int64(n), true
	case int16:
		i, isInt = int64(n), true
	case int32:
		i, isInt = int64(n), true
	case int64:
		i, isInt = n, true
	case uint:
		u, isUint = uint64(n), true
	case uint8:
		u, isUint = uint64(n), true
	case uint16:
		u, isUint = uint64(n), true
	case uint32:
		u, isUint = uint64(n), true
	case uint64:
		u, isUint = n, true
	case float32:
		f, isFloat = float64(n), true
	case float64:
		f, isFloat = n, true
	default:
		rv := reflect.ValueOf(v) // a named number type set in this request
		switch {
		case !rv.IsValid():
			return number{}, false
		case rv.CanInt():
			i, isInt = rv.Int(), true
		case rv.CanUint():
			u, isUint = rv.Uint(), true
		case rv.CanFloat():
			f, isFloat = rv.Float(), true
		default:
			return number{}, false
		}
	}
	return numberValue{i: i, u: u, f: f, isInt: isInt, isUint: isUint, isFloat: isFloat}.fit(k)
}

// fit converts n to a number of kind k if it fits exactly.
func (n numberValue) fit(k reflect.Kind) (number, bool) {
	i, u, f, isInt, isUint, isFloat := n.i, n.u, n.f, n.isInt, n.isUint, n.isFloat
	if isUint && u <= math.MaxInt64 {
		i, isInt, isUint = int64(u), true, false
	}
	bits := kindBits(k)
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if isFloat {
			if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
				return number{}, false
			}
			i, isInt = int64(f), true
		}
		if !isInt || bits < 64 && (i < -(1<<(bits-1)) || i > 1<<(bits-1)-1) {
			return number{}, false
		}
		return number{i: i}, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		switch {
		case isInt && i < 0:
			return number{}, false
		case isInt:
			u = uint64(i)
		case isFloat:
			if f != math.Trunc(f) || f < 0 || f >= 1<<64 {
				return number{}, false
			}
			u = uint64(f)
		}
		if bits < 64 && u > 1<<bits-1 {
			return number{}, false
		}
		return number{u: u}, true
	}
	switch { // floats
	case isInt:
		f = float64(i)
		if f >= 1<<63 || int64(f) != i {
			return number{}, false
		}
	case isUint:
		f = float64(u)
		if f >= 1<<64 || uint64(f) != u {
			return number{}, false
		}
	}
	if k == reflect.Float32 && !math.IsNaN(f) && float64(float32(f)) != f {
		return number{}, false
	}
	return number{f: f}, true
}
