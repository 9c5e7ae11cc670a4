package benchmarks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	cs "github.com/cookiesession/cookiesession"
	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/vmihailenco/msgpack/v5"
)

// Benchmark names are flat (no sub-benchmarks) so that a -bench pattern such
// as 'Lib.*RoundTrip.*SMALL' selects exactly one of them, and read
//
//	<Impl>Codec<Op>_<SIZE>        Impl: Lib, Naive, Gorilla; Op: Encode, Decode,
//	                              RoundTrip (reads one key), RoundTripAll (reads every key)
//	Floor<Op>_<SIZE>              the raw primitives on the same payload bytes
//	TightFloor<Op>_<SIZE>         the same without any allocation
//	TightFloorStdB64RoundTrip_SMALL  TightFloor with encoding/base64 (earlier runs' floor)
//	MiddlewareRoundTrip_<SIZE>_<impl>, MiddlewareUntouched_<impl>, MiddlewareNoop_bare
//	KeyRotationDecode_<impl>_<key>, PayloadRoundTrip_<size>_<impl>
//	ParallelCodecRoundTrip_SMALL_<impl>, ParallelMiddlewareRoundTrip_SMALL_<impl>,
//	Parallel[Tight]FloorRoundTrip_SMALL
//
// cmd/ratios reads these names; keep them in step.
//
// "cookie-bytes" is len("name=value") of the cookie produced: what the
// browser stores and sends back, and what Config.MaxLength limits.

// ---------------------------------------------------------------- keys

func secret(label string) []byte {
	s := sha256.Sum256([]byte("cookiesession benchmarks: " + label))
	return s[:]
}

var (
	libKey1 = cs.Key{ID: "k1", Secret: secret("key 1")}
	libKey2 = cs.Key{ID: "k2", Secret: secret("key 2")}
	libKey3 = cs.Key{ID: "k3", Secret: secret("key 3")}
)

// Pairs of 32-byte hashKey and blockKey (AES-256) for securecookie.
func scPair(label string) [][]byte {
	return [][]byte{secret(label + " hash"), secret(label + " block")}
}

func newLib(tb testing.TB, primary cs.Key, accepted ...cs.Key) *cs.Codec {
	kr, err := cs.NewKeyring(primary, accepted...)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := cs.NewCodec(cs.Config{Name: CookieName, Keys: kr})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// ---------------------------------------------------------------- fixtures

type fixture struct {
	label   string
	kv      []KV
	readKey string
	str     bool // readKey holds a string, else an integer

	lib       *cs.Codec
	libSess   *cs.Session // holds kv; what LibCodecEncode seals
	libCookie string      // kv sealed by lib

	naive       []securecookie.Codec
	naiveEnv    *naiveEnvelope // the lib's envelope of kv, decoded
	naiveCookie string

	store   *sessions.CookieStore
	gValues map[any]any
	gCookie string

	scs       *scs.SessionManager // its default memstore holds kv
	scsCookie string              // the session's token

	floor    *Floor
	floorIn  []byte // libCookie, as bytes
	floorOut []byte // the envelope lib seals after a round trip on libCookie
}

// loose and tight make the two floors (Floor and TightFloor) for the
// benchmarks' key.
func loose() sealer { return NewFloor(CookieName, libKey1.ID, libKey1.Secret) }
func tight() sealer { return NewTightFloor(CookieName, libKey1.ID, libKey1.Secret) }

// tightStdB64 is TightFloor with encoding/base64, the floor of earlier runs.
func tightStdB64() sealer { return newStdB64TightFloor(CookieName, libKey1.ID, libKey1.Secret) }

var (
	fixturesMu sync.Mutex
	fixtures   = map[string]*fixture{}
)

func getFixture(tb testing.TB, label string) *fixture {
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f := fixtures[label]; f != nil {
		return f
	}
	var kv []KV
	switch label {
	case "SMALL":
		kv = Small()
	case "LARGE":
		kv = Large()
	case "100B":
		kv = Blob(100)
	case "1KB":
		kv = Blob(1024)
	case "2KB":
		kv = Blob(2048)
	default:
		tb.Fatalf("no fixture %q", label)
	}
	f := &fixture{label: label, kv: kv, readKey: ReadKey(kv)}
	_, f.str = Map(kv)[f.readKey].(string)
	var err error

	f.lib = newLib(tb, libKey1)
	f.libSess = f.lib.New()
	for _, e := range kv {
		f.libSess.Set(e.Key, e.Value)
	}
	if f.libCookie, err = f.lib.Encode(f.libSess); err != nil || f.libCookie == "" {
		tb.Fatalf("%s: lib Encode: %q, %v", label, f.libCookie, err)
	}

	f.store = sessions.NewCookieStore(scPair("gorilla")...)
	f.gValues = IfaceMap(kv)
	if f.gCookie, err = securecookie.EncodeMulti(CookieName, f.gValues, f.store.Codecs...); err != nil {
		tb.Fatalf("%s: gorilla/sessions EncodeMulti: %v", label, err)
	}

	f.scs = scs.New()
	f.scs.Cookie.Name = CookieName
	ctx, err := f.scs.Load(context.Background(), "")
	if err != nil {
		tb.Fatalf("%s: scs Load: %v", label, err)
	}
	for _, e := range kv {
		f.scs.Put(ctx, e.Key, e.Value)
	}
	if f.scsCookie, _, err = f.scs.Commit(ctx); err != nil {
		tb.Fatalf("%s: scs Commit: %v", label, err)
	}

	// The floor works on the bytes the lib really seals: the envelope is
	// taken by decrypting the lib's own cookies, which also checks that the
	// floor speaks the same format.
	f.floor = NewFloor(CookieName, libKey1.ID, libKey1.Secret)
	f.floorIn = []byte(f.libCookie)
	libEnv, err := f.floor.Decode(f.floorIn)
	if err != nil {
		tb.Fatalf("%s: floor cannot open the lib's cookie: %v", label, err)
	}

	// The naive codec carries the lib's own envelope: the same fields and
	// values, read from the lib's payload, which also checks that
	// naiveEnvelope still matches the lib's format.
	f.naive = newNaive(scPair("naive")...)
	f.naiveEnv = new(naiveEnvelope)
	if err := msgpack.Unmarshal(libEnv, f.naiveEnv); err != nil {
		tb.Fatalf("%s: the lib's envelope does not decode as naiveEnvelope (update naive.go to the lib's format): %v", label, err)
	}
	if f.naiveCookie, err = naiveSeal(f.naive, f.naiveEnv); err != nil {
		tb.Fatalf("%s: naive seal: %v", label, err)
	}
	rt, err := libRoundTrip(f, f.lib, f.libCookie, false)
	if err != nil {
		tb.Fatalf("%s: lib round trip: %v", label, err)
	}
	env, err := f.floor.Decode([]byte(rt))
	if err != nil {
		tb.Fatalf("%s: floor cannot open the lib's round-trip cookie: %v", label, err)
	}
	f.floorOut = append([]byte(nil), env...)
	if s, err := f.lib.Decode(string(f.floor.Encode(f.floorOut))); err != nil || !s.Has(SetKey) {
		tb.Fatalf("%s: lib cannot open the floor's cookie: %v", label, err)
	}
	fixtures[label] = f
	return f
}

// ---------------------------------------------------------------- operations

var errRead = errors.New("round trip: the read key is missing or mistyped")

func libRead(f *fixture, s *cs.Session) bool {
	if f.str {
		v, ok := cs.Get[string](s, f.readKey)
		return ok && v != ""
	}
	_, ok := cs.Get[int64](s, f.readKey)
	return ok
}

// libReadAll reads every key of the fixture's session as the Go type it
// was set with, as a handler that needs them all would.
func libReadAll(f *fixture, s *cs.Session) bool {
	for _, e := range f.kv {
		var ok bool
		switch e.Value.(type) {
		case int64:
			_, ok = cs.Get[int64](s, e.Key)
		case string:
			var v string
			v, ok = cs.Get[string](s, e.Key)
			ok = ok && v != ""
		case []string:
			var v []string
			v, ok = cs.Get[[]string](s, e.Key)
			ok = ok && len(v) > 0
		case []CartItem:
			var v []CartItem
			v, ok = cs.Get[[]CartItem](s, e.Key)
			ok = ok && len(v) > 0
		}
		if !ok {
			return false
		}
	}
	return true
}

// libRoundTrip opens cookie, reads a key (every key with all), sets a key
// and seals.
func libRoundTrip(f *fixture, c *cs.Codec, cookie string, all bool) (string, error) {
	s, err := c.Decode(cookie)
	if err != nil {
		return "", err
	}
	if all && !libReadAll(f, s) || !all && !libRead(f, s) {
		return "", errRead
	}
	s.Set(SetKey, SetValue)
	return c.Encode(s)
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case int:
		return int64(n), true
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		return int64(n), true
	}
	return 0, false
}

func readAny(f *fixture, v any) bool {
	if f.str {
		s, ok := v.(string)
		return ok && s != ""
	}
	_, ok := toInt64(v)
	return ok
}

// naiveReadAll reads every key of the fixture's session from msgpack's
// generic decoding, checking each value's type without converting it (a
// []string arrives as []any and is left so): the least a handler can do.
func naiveReadAll(f *fixture, data map[string]any) bool {
	for _, e := range f.kv {
		v := data[e.Key]
		ok := false
		switch e.Value.(type) {
		case int64:
			_, ok = toInt64(v)
		case string:
			s, isStr := v.(string)
			ok = isStr && s != ""
		case []string, []CartItem:
			items, isSlice := v.([]any)
			ok = isSlice && len(items) > 0
		}
		if !ok {
			return false
		}
	}
	return true
}

func naiveRoundTrip(f *fixture, codecs []securecookie.Codec, cookie string, all bool) (string, error) {
	env, err := naiveOpen(codecs, cookie)
	if err != nil {
		return "", err
	}
	if all && !naiveReadAll(f, env.Data) || !all && !readAny(f, env.Data[f.readKey]) {
		return "", errRead
	}
	env.Data[SetKey] = SetValue
	return naiveSeal(codecs, env)
}

// gorillaRoundTrip is what CookieStore.New and CookieStore.Save do around a
// handler, without the HTTP plumbing.
func gorillaRoundTrip(f *fixture, cookie string) (string, error) {
	values := make(map[any]any) // as sessions.NewSession makes it
	if err := securecookie.DecodeMulti(CookieName, cookie, &values, f.store.Codecs...); err != nil {
		return "", err
	}
	if !readAny(f, values[f.readKey]) {
		return "", errRead
	}
	values[SetKey] = SetValue
	return securecookie.EncodeMulti(CookieName, values, f.store.Codecs...)
}

// sealer is Floor or TightFloor.
type sealer interface {
	Encode(payload []byte) []byte
	Decode(value []byte) ([]byte, error)
}

func floorRoundTrip(f *fixture, fl sealer) ([]byte, error) {
	if _, err := fl.Decode(f.floorIn); err != nil {
		return nil, err
	}
	return fl.Encode(f.floorOut), nil
}

// cpuMeter measures the process's CPU time over a benchmark loop and
// reports it per operation as "cpu-ns/op". On a machine shared with other
// work, wall-clock ns/op counts the time other processes held the cores;
// CPU time mostly does not, so ratios of cpu-ns/op hold up better under
// load. It includes the garbage collector's work on every thread, which the
// operation caused. For a RunParallel benchmark it is CPU per operation,
// summed over the cores, not wall time.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

// startCPU is called just before the loop; b.Loop resets the timer on its
// first call, so the two start together.
func startCPU() cpuMeter {
	t, ok := processCPU()
	return cpuMeter{t, ok}
}

func (m cpuMeter) report(b *testing.B) {
	end, ok := processCPU()
	if m.ok && ok && b.N > 0 {
		b.ReportMetric(float64(end-m.start)/float64(b.N), "cpu-ns/op")
	}
}

func reportCookie(b *testing.B, value string) {
	b.ReportMetric(float64(len(CookieName)+1+len(value)), "cookie-bytes")
}

// ---------------------------------------------------------------- codec benchmarks

func benchLibEncode(b *testing.B, label string) {
	f := getFixture(b, label)
	b.ReportAllocs()
	var v string
	var err error
	cpu := startCPU()
	for b.Loop() {
		if v, err = f.lib.Encode(f.libSess); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
	reportCookie(b, v)
}

func benchLibDecode(b *testing.B, label string) {
	f := getFixture(b, label)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		if _, err := f.lib.Decode(f.libCookie); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

func benchLibRoundTrip(b *testing.B, label string, all bool) {
	f := getFixture(b, label)
	b.ReportAllocs()
	var v string
	var err error
	cpu := startCPU()
	for b.Loop() {
		if v, err = libRoundTrip(f, f.lib, f.libCookie, all); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
	reportCookie(b, v)
}

func benchNaiveEncode(b *testing.B, label string) {
	f := getFixture(b, label)
	b.ReportAllocs()
	var v string
	var err error
	cpu := startCPU()
	for b.Loop() {
		if v, err = naiveSeal(f.naive, f.naiveEnv); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
	reportCookie(b, v)
}

func benchNaiveDecode(b *testing.B, label string) {
	f := getFixture(b, label)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		if _, err := naiveOpen(f.naive, f.naiveCookie); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

func benchNaiveRoundTrip(b *testing.B, label string, all bool) {
	f := getFixture(b, label)
	b.ReportAllocs()
	var v string
	var err error
	cpu := startCPU()
	for b.Loop() {
		if v, err = naiveRoundTrip(f, f.naive, f.naiveCookie, all); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
	reportCookie(b, v)
}

func benchGorillaEncode(b *testing.B, label string) {
	f := getFixture(b, label)
	b.ReportAllocs()
	var v string
	var err error
	cpu := startCPU()
	for b.Loop() {
		if v, err = securecookie.EncodeMulti(CookieName, f.gValues, f.store.Codecs...); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
	reportCookie(b, v)
}

func benchGorillaDecode(b *testing.B, label string) {
	f := getFixture(b, label)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		values := make(map[any]any)
		if err := securecookie.DecodeMulti(CookieName, f.gCookie, &values, f.store.Codecs...); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

func benchGorillaRoundTrip(b *testing.B, label string) {
	f := getFixture(b, label)
	b.ReportAllocs()
	var v string
	var err error
	cpu := startCPU()
	for b.Loop() {
		if v, err = gorillaRoundTrip(f, f.gCookie); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
	reportCookie(b, v)
}

func benchFloorEncode(b *testing.B, label string, newFl func() sealer) {
	f := getFixture(b, label)
	fl := newFl()
	b.ReportAllocs()
	var v []byte
	cpu := startCPU()
	for b.Loop() {
		v = fl.Encode(f.floorOut)
	}
	cpu.report(b)
	reportCookie(b, string(v))
}

func benchFloorDecode(b *testing.B, label string, newFl func() sealer) {
	f := getFixture(b, label)
	fl := newFl()
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		if _, err := fl.Decode(f.floorIn); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

func benchFloorRoundTrip(b *testing.B, label string, newFl func() sealer) {
	f := getFixture(b, label)
	fl := newFl()
	b.ReportAllocs()
	var v []byte
	var err error
	cpu := startCPU()
	for b.Loop() {
		if v, err = floorRoundTrip(f, fl); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
	reportCookie(b, string(v))
}

// Related benchmarks sit next to each other so that, in one interleaved
// run, they see the same machine.

func BenchmarkLibCodecEncode_SMALL(b *testing.B)        { benchLibEncode(b, "SMALL") }
func BenchmarkNaiveCodecEncode_SMALL(b *testing.B)      { benchNaiveEncode(b, "SMALL") }
func BenchmarkGorillaCodecEncode_SMALL(b *testing.B)    { benchGorillaEncode(b, "SMALL") }
func BenchmarkFloorEncode_SMALL(b *testing.B)           { benchFloorEncode(b, "SMALL", loose) }
func BenchmarkLibCodecDecode_SMALL(b *testing.B)        { benchLibDecode(b, "SMALL") }
func BenchmarkNaiveCodecDecode_SMALL(b *testing.B)      { benchNaiveDecode(b, "SMALL") }
func BenchmarkGorillaCodecDecode_SMALL(b *testing.B)    { benchGorillaDecode(b, "SMALL") }
func BenchmarkFloorDecode_SMALL(b *testing.B)           { benchFloorDecode(b, "SMALL", loose) }
func BenchmarkLibCodecRoundTrip_SMALL(b *testing.B)     { benchLibRoundTrip(b, "SMALL", false) }
func BenchmarkNaiveCodecRoundTrip_SMALL(b *testing.B)   { benchNaiveRoundTrip(b, "SMALL", false) }
func BenchmarkGorillaCodecRoundTrip_SMALL(b *testing.B) { benchGorillaRoundTrip(b, "SMALL") }
func BenchmarkFloorRoundTrip_SMALL(b *testing.B)        { benchFloorRoundTrip(b, "SMALL", loose) }
func BenchmarkTightFloorEncode_SMALL(b *testing.B)      { benchFloorEncode(b, "SMALL", tight) }
func BenchmarkTightFloorDecode_SMALL(b *testing.B)      { benchFloorDecode(b, "SMALL", tight) }
func BenchmarkTightFloorRoundTrip_SMALL(b *testing.B)   { benchFloorRoundTrip(b, "SMALL", tight) }
func BenchmarkTightFloorStdB64RoundTrip_SMALL(b *testing.B) {
	benchFloorRoundTrip(b, "SMALL", tightStdB64)
}

// The handler reads every key of SMALL, as the Go type it was set with,
// instead of one.
func BenchmarkLibCodecRoundTripAll_SMALL(b *testing.B)   { benchLibRoundTrip(b, "SMALL", true) }
func BenchmarkNaiveCodecRoundTripAll_SMALL(b *testing.B) { benchNaiveRoundTrip(b, "SMALL", true) }

func BenchmarkLibCodecEncode_LARGE(b *testing.B)        { benchLibEncode(b, "LARGE") }
func BenchmarkNaiveCodecEncode_LARGE(b *testing.B)      { benchNaiveEncode(b, "LARGE") }
func BenchmarkGorillaCodecEncode_LARGE(b *testing.B)    { benchGorillaEncode(b, "LARGE") }
func BenchmarkFloorEncode_LARGE(b *testing.B)           { benchFloorEncode(b, "LARGE", loose) }
func BenchmarkLibCodecDecode_LARGE(b *testing.B)        { benchLibDecode(b, "LARGE") }
func BenchmarkNaiveCodecDecode_LARGE(b *testing.B)      { benchNaiveDecode(b, "LARGE") }
func BenchmarkGorillaCodecDecode_LARGE(b *testing.B)    { benchGorillaDecode(b, "LARGE") }
func BenchmarkFloorDecode_LARGE(b *testing.B)           { benchFloorDecode(b, "LARGE", loose) }
func BenchmarkLibCodecRoundTrip_LARGE(b *testing.B)     { benchLibRoundTrip(b, "LARGE", false) }
func BenchmarkNaiveCodecRoundTrip_LARGE(b *testing.B)   { benchNaiveRoundTrip(b, "LARGE", false) }
func BenchmarkGorillaCodecRoundTrip_LARGE(b *testing.B) { benchGorillaRoundTrip(b, "LARGE") }
func BenchmarkFloorRoundTrip_LARGE(b *testing.B)        { benchFloorRoundTrip(b, "LARGE", loose) }
func BenchmarkTightFloorRoundTrip_LARGE(b *testing.B)   { benchFloorRoundTrip(b, "LARGE", tight) }

// ---------------------------------------------------------------- net/http harness

// serve runs h once per iteration on a shallow copy of tmpl (gorilla/sessions
// stores its registry by rewriting *r, so each request must be its own) and
// a fresh recorder, the same for every implementation.
func serve(h http.Handler, tmpl *http.Request) *httptest.ResponseRecorder {
	r := *tmpl
	w := httptest.NewRecorder()
	h.ServeHTTP(w, &r)
	return w
}

func requestWith(cookie string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://example.com/account", nil)
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: CookieName, Value: cookie})
	}
	return r
}

// libHandler is Codec.Middleware around a handler that reads a key and sets
// one; the middleware seals the change.
func libHandler(f *fixture) http.Handler {
	return f.lib.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cs.FromContext(r.Context())
		if !libRead(f, s) {
			http.Error(w, errRead.Error(), http.StatusInternalServerError)
			return
		}
		s.Set(SetKey, SetValue)
	}))
}

// gorillaHandler does the same with gorilla/sessions' CookieStore.
func gorillaHandler(f *fixture) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := f.store.Get(r, CookieName)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if !readAny(f, s.Values[f.readKey]) {
			http.Error(w, errRead.Error(), http.StatusInternalServerError)
			return
		}
		s.Values[SetKey] = SetValue
		if err := s.Save(r, w); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
}

// scsHandler does the same with scs's LoadAndSave and its default
// in-memory store: the server-side alternative, whose cookie carries only a
// random token.
func scsHandler(f *fixture) http.Handler {
	sm := f.scs
	return sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !readAny(f, sm.Get(r.Context(), f.readKey)) {
			http.Error(w, errRead.Error(), http.StatusInternalServerError)
			return
		}
		sm.Put(r.Context(), SetKey, SetValue)
	}))
}

// checkResponse fails unless w is a 200 that sets the session cookie (or,
// with wantCookie false, sets none), and reports the cookie's length.
func checkResponse(b *testing.B, w *httptest.ResponseRecorder, wantCookie bool) {
	if w.Code != http.StatusOK {
		b.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var value string
	found := false
	for _, c := range w.Result().Cookies() {
		if c.Name == CookieName {
			value, found = c.Value, true
		}
	}
	switch {
	case found != wantCookie:
		b.Fatalf("Set-Cookie present = %v, want %v", found, wantCookie)
	case found:
		reportCookie(b, value)
	}
}

func benchMiddleware(b *testing.B, h http.Handler, cookie string) {
	tmpl := requestWith(cookie)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		serve(h, tmpl)
	}
	cpu.report(b)
	checkResponse(b, serve(h, tmpl), true)
}

func BenchmarkMiddlewareRoundTrip_SMALL_lib(b *testing.B) {
	f := getFixture(b, "SMALL")
	benchMiddleware(b, libHandler(f), f.libCookie)
}

func BenchmarkMiddlewareRoundTrip_SMALL_gorilla(b *testing.B) {
	f := getFixture(b, "SMALL")
	benchMiddleware(b, gorillaHandler(f), f.gCookie)
}

func BenchmarkMiddlewareRoundTrip_SMALL_scs(b *testing.B) {
	f := getFixture(b, "SMALL")
	benchMiddleware(b, scsHandler(f), f.scsCookie)
}

func BenchmarkMiddlewareRoundTrip_LARGE_lib(b *testing.B) {
	f := getFixture(b, "LARGE")
	benchMiddleware(b, libHandler(f), f.libCookie)
}

func BenchmarkMiddlewareRoundTrip_LARGE_gorilla(b *testing.B) {
	f := getFixture(b, "LARGE")
	benchMiddleware(b, gorillaHandler(f), f.gCookie)
}

func BenchmarkMiddlewareRoundTrip_LARGE_scs(b *testing.B) {
	f := getFixture(b, "LARGE")
	benchMiddleware(b, scsHandler(f), f.scsCookie)
}

// BenchmarkMiddlewareNoop_bare is the harness alone (a recorder and a
// request copy per iteration, a handler that does nothing): what every
// Middleware* benchmark pays before any session work.
func BenchmarkMiddlewareNoop_bare(b *testing.B) {
	tmpl := requestWith(getFixture(b, "SMALL").libCookie)
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		serve(h, tmpl)
	}
	cpu.report(b)
}

// A request that never touches its session, against the same handler with
// no middleware: what Middleware costs the routes that do not use sessions.

var okBody = []byte("ok")

func untouched(w http.ResponseWriter, r *http.Request) { w.Write(okBody) }

func benchUntouched(b *testing.B, h http.Handler) {
	f := getFixture(b, "SMALL")
	tmpl := requestWith(f.libCookie)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		serve(h, tmpl)
	}
	cpu.report(b)
	checkResponse(b, serve(h, tmpl), false)
}

func BenchmarkMiddlewareUntouched_bare(b *testing.B) { benchUntouched(b, http.HandlerFunc(untouched)) }

func BenchmarkMiddlewareUntouched_lib(b *testing.B) {
	f := getFixture(b, "SMALL")
	benchUntouched(b, f.lib.Middleware(http.HandlerFunc(untouched)))
}

// ---------------------------------------------------------------- key rotation

// Three keys; cookies sealed by the primary and by the third. The lib finds
// the key by the ID in the cookie; securecookie's DecodeMulti tries each
// codec (a base64 pass and an HMAC each) until one verifies.

type rotation struct {
	lib                  *cs.Codec
	libPrimary, libThird string
	sc                   []securecookie.Codec
	scPrimary, scThird   string
}

var rotationOnce = sync.OnceValues(func() (*rotation, error) {
	var (
		rt  = &rotation{}
		err error
	)
	kr, err := cs.NewKeyring(libKey1, libKey2, libKey3)
	if err != nil {
		return nil, err
	}
	if rt.lib, err = cs.NewCodec(cs.Config{Name: CookieName, Keys: kr}); err != nil {
		return nil, err
	}
	seal := func(c *cs.Codec) (string, error) {
		s := c.New()
		for _, e := range Small() {
			s.Set(e.Key, e.Value)
		}
		return c.Encode(s)
	}
	if rt.libPrimary, err = seal(rt.lib); err != nil {
		return nil, err
	}
	kr3, _ := cs.NewKeyring(libKey3)
	lib3, err := cs.NewCodec(cs.Config{Name: CookieName, Keys: kr3})
	if err != nil {
		return nil, err
	}
	if rt.libThird, err = seal(lib3); err != nil {
		return nil, err
	}
	var pairs [][]byte
	for _, l := range []string{"rot 1", "rot 2", "rot 3"} {
		pairs = append(pairs, scPair(l)...)
	}
	rt.sc = newNaive(pairs...)
	env := *getFixture(nil, "SMALL").naiveEnv // SMALL, as the naive codec carries it
	if rt.scPrimary, err = naiveSeal(rt.sc[:1], &env); err != nil {
		return nil, err
	}
	if rt.scThird, err = naiveSeal(rt.sc[2:], &env); err != nil {
		return nil, err
	}
	return rt, nil
})

func getRotation(b *testing.B) *rotation {
	getFixture(b, "SMALL") // built here, where it can fail the benchmark; rotationOnce reuses it
	rt, err := rotationOnce()
	if err != nil {
		b.Fatal(err)
	}
	return rt
}

func benchRotationLib(b *testing.B, cookie, wantKey string) {
	rt := getRotation(b)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		if _, err := rt.lib.Decode(cookie); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
	if s, _ := rt.lib.Decode(cookie); s.KeyID() != wantKey {
		b.Fatalf("opened with key %q, want %q", s.KeyID(), wantKey)
	}
}

func benchRotationSC(b *testing.B, cookie string) {
	rt := getRotation(b)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		if _, err := naiveOpen(rt.sc, cookie); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

func BenchmarkKeyRotationDecode_lib_primary(b *testing.B) {
	benchRotationLib(b, getRotation(b).libPrimary, "k1")
}

func BenchmarkKeyRotationDecode_lib_third(b *testing.B) {
	benchRotationLib(b, getRotation(b).libThird, "k3")
}

func BenchmarkKeyRotationDecode_securecookie_primary(b *testing.B) {
	benchRotationSC(b, getRotation(b).scPrimary)
}

func BenchmarkKeyRotationDecode_securecookie_third(b *testing.B) {
	benchRotationSC(b, getRotation(b).scThird)
}

// ---------------------------------------------------------------- payload sizes

func BenchmarkPayloadRoundTrip_100B_lib(b *testing.B)   { benchLibRoundTrip(b, "100B", false) }
func BenchmarkPayloadRoundTrip_100B_floor(b *testing.B) { benchFloorRoundTrip(b, "100B", loose) }
func BenchmarkPayloadRoundTrip_1KB_lib(b *testing.B)    { benchLibRoundTrip(b, "1KB", false) }
func BenchmarkPayloadRoundTrip_1KB_floor(b *testing.B)  { benchFloorRoundTrip(b, "1KB", loose) }
func BenchmarkPayloadRoundTrip_2KB_lib(b *testing.B)    { benchLibRoundTrip(b, "2KB", false) }
func BenchmarkPayloadRoundTrip_2KB_floor(b *testing.B)  { benchFloorRoundTrip(b, "2KB", loose) }

// ---------------------------------------------------------------- parallel

// The SMALL round trips on every core (GOMAXPROCS goroutines at least); set
// against their serial versions above, ns/op shows how they scale.

// benchParallel runs the round trip rt on every core and reports the cookie
// it makes.
func benchParallel(b *testing.B, rt func() (string, error)) {
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := rt(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	cpu.report(b)
	v, _ := rt()
	reportCookie(b, v)
}

func BenchmarkParallelCodecRoundTrip_SMALL_lib(b *testing.B) {
	f := getFixture(b, "SMALL")
	benchParallel(b, func() (string, error) { return libRoundTrip(f, f.lib, f.libCookie, false) })
}

func BenchmarkParallelCodecRoundTrip_SMALL_naive(b *testing.B) {
	f := getFixture(b, "SMALL")
	benchParallel(b, func() (string, error) { return naiveRoundTrip(f, f.naive, f.naiveCookie, false) })
}

func BenchmarkParallelFloorRoundTrip_SMALL(b *testing.B) { benchParallelFloor(b, loose) }

func BenchmarkParallelTightFloorRoundTrip_SMALL(b *testing.B) { benchParallelFloor(b, tight) }

func benchParallelFloor(b *testing.B, newFl func() sealer) {
	f := getFixture(b, "SMALL")
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	b.RunParallel(func(pb *testing.PB) {
		fl := newFl() // one per goroutine
		for pb.Next() {
			if _, err := floorRoundTrip(f, fl); err != nil {
				b.Error(err)
				return
			}
		}
	})
	cpu.report(b)
}

func benchParallelMiddleware(b *testing.B, h http.Handler, cookie string) {
	tmpl := requestWith(cookie)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve(h, tmpl)
		}
	})
	cpu.report(b)
	b.StopTimer()
	checkResponse(b, serve(h, tmpl), true)
}

func BenchmarkParallelMiddlewareRoundTrip_SMALL_lib(b *testing.B) {
	f := getFixture(b, "SMALL")
	benchParallelMiddleware(b, libHandler(f), f.libCookie)
}

func BenchmarkParallelMiddlewareRoundTrip_SMALL_gorilla(b *testing.B) {
	f := getFixture(b, "SMALL")
	benchParallelMiddleware(b, gorillaHandler(f), f.gCookie)
}

func BenchmarkParallelMiddlewareRoundTrip_SMALL_scs(b *testing.B) {
	f := getFixture(b, "SMALL")
	benchParallelMiddleware(b, scsHandler(f), f.scsCookie)
}

// ---------------------------------------------------------------- sanity

// TestHarness checks what the benchmarks rely on: every fixture builds, every
// round trip works, and the floor speaks the lib's format both ways.
func TestHarness(t *testing.T) {
	for _, label := range []string{"SMALL", "LARGE", "100B", "1KB", "2KB"} {
		f := getFixture(t, label)
		for _, all := range []bool{false, true} {
			if _, err := naiveRoundTrip(f, f.naive, f.naiveCookie, all); err != nil {
				t.Errorf("%s naive (all keys %v): %v", label, all, err)
			}
			if _, err := libRoundTrip(f, f.lib, f.libCookie, all); err != nil {
				t.Errorf("%s lib (all keys %v): %v", label, all, err)
			}
		}
		if _, err := gorillaRoundTrip(f, f.gCookie); err != nil {
			t.Errorf("%s gorilla: %v", label, err)
		}
		env, err := f.floor.Decode(f.floorIn)
		if err != nil {
			t.Fatalf("%s floor: %v", label, err)
		}
		// The payload is msgpack: the first byte is the envelope's array header.
		if env[0]&0xf0 != 0x90 {
			t.Errorf("%s: envelope starts with %#x", label, env[0])
		}
		t.Logf("%-5s envelope %4d B msgpack; cookie-bytes lib %d, naive %d, gorilla/sessions %d",
			label, len(env), len(CookieName)+1+len(f.libCookie),
			len(CookieName)+1+len(f.naiveCookie), len(CookieName)+1+len(f.gCookie))
	}
	// Every middleware peer reads the session and answers with a new cookie.
	for _, label := range []string{"SMALL", "LARGE"} {
		f := getFixture(t, label)
		for name, h := range map[string]struct {
			h      http.Handler
			cookie string
		}{
			"lib":     {libHandler(f), f.libCookie},
			"gorilla": {gorillaHandler(f), f.gCookie},
			"scs":     {scsHandler(f), f.scsCookie},
		} {
			w := serve(h.h, requestWith(h.cookie))
			if w.Code != http.StatusOK || len(w.Result().Cookies()) != 1 {
				t.Errorf("%s %s middleware: status %d, Set-Cookie %q", label, name, w.Code, w.Header()["Set-Cookie"])
			}
		}
	}
	// TightFloor, with either base64, speaks the same format as Floor, both
	// ways.
	for _, label := range []string{"SMALL", "LARGE"} {
		f := getFixture(t, label)
		for name, tight := range map[string]sealer{"TightFloor": tight(), "TightFloorStdB64": tightStdB64()} {
			env, err := tight.Decode(f.floorIn)
			if err != nil {
				t.Fatalf("%s: %s cannot open the lib's cookie: %v", label, name, err)
			}
			want, _ := f.floor.Decode(f.floorIn)
			if !bytes.Equal(env, want) {
				t.Fatalf("%s: %s and Floor open the lib's cookie differently", label, name)
			}
			if s, err := f.lib.Decode(string(tight.Encode(f.floorOut))); err != nil || !s.Has(SetKey) {
				t.Fatalf("%s: lib cannot open %s's cookie: %v", label, name, err)
			}
		}
	}
	// The lib's cookie is securecookie's format with NopEncoder and the
	// derived keys, after "keyID.".
	f := getFixture(t, "SMALL")
	hashKey, blockKey := DeriveKeys(libKey1.ID, libKey1.Secret)
	sc := securecookie.New(hashKey, blockKey).SetSerializer(securecookie.NopEncoder{})
	var plain []byte
	if err := sc.Decode(CookieName, f.libCookie[len(libKey1.ID)+1:], &plain); err != nil {
		t.Fatalf("securecookie cannot open the lib's cookie: %v", err)
	}
	env, _ := f.floor.Decode(f.floorIn)
	if string(plain) != string(env) {
		t.Fatal("securecookie and the floor disagree on the payload")
	}
}

// The machine's own ceiling for the parallel rows: a loop of integer
// arithmetic that touches no memory, serial and on every core. A 2-vCPU
// virtual machine whose vCPUs share a physical core scales well below 2×
// even here.

func spin(x uint64) uint64 {
	for i := 0; i < 1000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

var spinSink atomic.Uint64

func BenchmarkCalibrationSpin(b *testing.B) {
	b.ReportAllocs()
	x := uint64(1)
	cpu := startCPU()
	for b.Loop() {
		x = spin(x)
	}
	cpu.report(b)
	spinSink.Store(x)
}

func BenchmarkParallelCalibrationSpin(b *testing.B) {
	b.ReportAllocs()
	cpu := startCPU()
	b.RunParallel(func(pb *testing.PB) {
		x := uint64(1)
		for pb.Next() {
			x = spin(x)
		}
		spinSink.Store(x)
	})
	cpu.report(b)
}
