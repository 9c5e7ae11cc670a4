package cookiesession

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
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
)

// A Session is the data of one visitor, Django's request.session in Go: a
// map from string keys to values that msgpack can encode, plus an ID, an
// expiry policy, per-key deadlines and flash messages.
//
// Values come back as msgpack decodes them: 5 as int8, 300 as uint16, a
// struct as map[string]any. Get[T] converts to the type the caller wants.
//
// A Session is safe for concurrent use by a handler's goroutines. Sessions
// come from Codec.New, Codec.Decode or FromContext; the zero Session is not
// usable.
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
	hadCookie bool     // the request carried a cookie with the session's name
	chunksIn  uint32   // bit i: the request carried chunk cookie NAME.i

	// Config.Guard bookkeeping.
	ctx     context.Context // the request's: bounds the Guard's checks
	retired retiredID       // the ID Flush or Renew left, revoked at commit
}

// state is everything a cookie carries, plus whether it changed.
type state struct {
	id       [sessionIDLen]byte
	hasID    bool
	created  int64 // Unix seconds
	sealed   int64 // Unix seconds of the seal this session came from; 0 if new
	deadline int64 // the deadline that seal carried
	keyID    string
	mode     expiryMode
	expArg   int64   // seconds for expiryIdle, Unix seconds for expiryAt
	entries  []entry // sorted by key
	flashes  []entry
	modified bool
}

// entry is one value, kept both as msgpack (what the cookie carries; values
// read from a cookie are decoded only when asked for) and as a Go value.
type entry struct {
	key      string
	raw      []byte
	val      any
	hasVal   bool
	deadline int64 // Unix seconds after which the key is gone; 0 = none
}

// load opens the request's session cookie on first touch. The first cookie
// with the session's name that opens (with its chunks) wins; if none does,
// the session starts empty and the reason is logged.
func (s *Session) load() {
	s.accessed = true
	if !s.unopened {
		return
	}
	s.unopened = false
	s.state = state{created: s.c.unixNow()}
	var cs cookieSet
	forEachCookie(s.header, func(name, value string) { s.c.add(&cs, name, value) })
	s.header = nil
	s.hadCookie = len(cs.first) > 0
	s.chunksIn = cs.present
	if !s.hadCookie {
		return
	}
	var st state
	opened, err := s.c.openSet(s.ctx, &cs, &st)
	if opened {
		s.state = st
		return
	}
	s.c.logRejected(err)
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

// Get returns the value stored under key and whether it is there.
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
// fits exactly: Get[int] of a stored 300 (which msgpack hands back as
// uint16) is 300, true; Get[uint8] of 300, or Get[int] of 2.5, is 0, false.
// Other types (time.Time, []byte, []string, map[string]int, structs) are
// decoded from the value's msgpack form into T.
func Get[T any](s *Session, key string) (T, bool) {
	var out T
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.find(key)
	if e == nil {
		return out, false
	}
	k := reflect.TypeFor[T]().Kind()
	if e.hasVal || k == reflect.Interface || isNumberKind(k) {
		v, err := e.value()
		if err != nil {
			return out, false
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
	}
	if e.raw == nil {
		return out, false
	}
	p := new(T)
	if decodeInto(e.raw, p) != nil {
		return out, false
	}
	return *p, true
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
// is encoded with msgpack at once, so later changes to it are not seen
// unless Set is called again; a value msgpack cannot encode is reported by
// Encode.
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
	raw, _ := encodeValue(value) // nil if it does not encode: Encode says why
	e := entry{key: key, raw: raw, val: value, hasVal: true, deadline: deadline}
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
// stores value there and returns it (Django's setdefault).
func (s *Session) SetDefault(key string, value any) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.find(key); e != nil {
		if v, err := e.value(); err == nil {
			return v
		}
	}
	s.set(key, value, 0)
	return value
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
// opened from, or "" for a new session.
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
// (to the second), or the zero Time for a session not opened from a cookie.
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

// AddFlash appends a flash message: a value that Flashes returns once.
func (s *Session) AddFlash(v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	raw, _ := encodeValue(v) // nil if it does not encode: Encode says why
	s.flashes = append(s.flashes, entry{raw: raw, val: v, hasVal: true})
	s.modified = true
}

// Flashes returns the flash messages and removes them from the session.
func (s *Session) Flashes() []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if len(s.flashes) == 0 {
		return nil
	}
	out := make([]any, 0, len(s.flashes))
	for i := range s.flashes {
		if v, err := s.flashes[i].value(); err == nil {
			out = append(out, v)
		}
	}
	s.flashes = nil
	s.modified = true
	return out
}

// value returns the entry as a Go value, decoding it on first use.
func (e *entry) value() (any, error) {
	if !e.hasVal {
		v, err := decodeAny(e.raw)
		if err != nil {
			return nil, err
		}
		e.val, e.hasVal = v, true
	}
	return e.val, nil
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

func encodeValue(v any) ([]byte, error) {
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
	return bytes.Clone(e.buf.Bytes()), nil
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

func decodeAny(raw []byte) (v any, err error) {
	err = withDecoder(raw, func(d *msgpack.Decoder) error {
		v, err = d.DecodeInterface()
		return err
	})
	return v, err
}

func decodeInto(raw []byte, dst any) error {
	return withDecoder(raw, func(d *msgpack.Decoder) error { return d.Decode(dst) })
}

func decodeMap(d *msgpack.Decoder) (any, error) {
	n, err := d.DecodeMapLen()
	if err != nil || n < 0 {
		return nil, err
	}
	m := make(map[string]any, n)
	var other map[any]any // once a key is not a string
	for i := 0; i < n; i++ {
		k, err := d.DecodeInterface()
		if err != nil {
			return nil, err
		}
		v, err := d.DecodeInterface()
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
		other[k] = v // checkValue admits only hashable keys
	}
	if other != nil {
		return other, nil
	}
	return m, nil
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
