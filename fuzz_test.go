package cookiesession

import (
	"bytes"
	"compress/flate"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// The fuzz codecs use wfKey("k1") and a clock stopped at wfNow, so the
// same input means the same thing in every worker process and in the
// committed corpus under testdata/fuzz. MaxLength is raised so that the
// larger hostile payloads reach the payload checks.
func wfFuzzCodec(tb testing.TB) *Codec {
	return wfCodec(tb, "session", Config{MaxLength: 1 << 14})
}

func wfIsSentinel(err error) bool {
	for _, e := range []error{ErrInvalid, ErrExpired, ErrUnknownKey, ErrTooLarge, ErrClockSkew} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// wfDeflate is a compressed payload as Config.Compress makes it: the
// marker byte, the envelope's head as is, then raw DEFLATE of the rest. A
// payload that is not an envelope is deflated whole.
func wfDeflate(p []byte) []byte {
	head := wfHeadLen(p)
	var b bytes.Buffer
	b.WriteByte(compressedMarker)
	b.Write(p[:head])
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(p[head:])
	w.Close()
	return b.Bytes()
}

// wfHeadLen is the length of an envelope's head (FORMAT.md §3: the array
// header and fields 0 to 6, integers and a bin8), or 0 if p does not start
// with one. It is written out here rather than taken from the library.
func wfHeadLen(p []byte) int {
	i := 0
	size := func(c byte) int { // of one integer or array header, 0 if neither
		switch {
		case c <= 0x7f || c >= 0xe0 || c&0xf0 == 0x90:
			return 1
		case c == 0xcc || c == 0xd0:
			return 2
		case c == 0xcd || c == 0xd1 || c == 0xdc:
			return 3
		case c == 0xce || c == 0xd2 || c == 0xdd:
			return 5
		case c == 0xcf || c == 0xd3:
			return 9
		}
		return 0
	}
	for field := -1; field < 7; field++ {
		if i >= len(p) {
			return 0
		}
		n := size(p[i])
		if field == 1 { // the session ID, bin8
			if p[i] != 0xc4 || i+1 >= len(p) {
				return 0
			}
			n = 2 + int(p[i+1])
		}
		if n == 0 || i+n > len(p) {
			return 0
		}
		i += n
	}
	return i
}

// wfPayloadSeeds are payloads worth starting from: valid envelopes of the
// test sessions (plain and compressed), and every hostile one.
func wfPayloadSeeds(tb testing.TB, c *Codec) [][]byte {
	var out [][]byte
	for _, ws := range wfSessions {
		s := c.New()
		ws.fill(s)
		p := wfPayload(tb, c, s)
		out = append(out, p, wfDeflate(p))
	}
	out = append(out, wfEnv(wfFields()), wfDeflate(make([]byte, 70000)))
	for _, h := range wfHostilePayloads() {
		out = append(out, h.payload)
	}
	return out
}

// wfCheckReopens checks the property shared by FuzzDecode and FuzzPayload
// for a session s that opened: every value reads back; sealing s again
// gives a value that opens to the same keys, values, TTLs, flashes and ID.
func wfCheckReopens(t *testing.T, c *Codec, s *Session) {
	t.Helper()
	keys := s.Keys()
	if !sort.StringsAreSorted(keys) {
		t.Fatalf("Keys not sorted: %q", keys)
	}
	vals := make([]any, len(keys))
	for i, k := range keys {
		v, ok := s.Get(k)
		if !ok {
			t.Fatalf("key %q is listed but its value (% x) does not read back", k, wfRaw(s, k))
		}
		vals[i] = v
	}
	flashes := wfFlashRaws(s)
	for _, f := range flashes {
		if _, err := decodeAny(f); err != nil {
			t.Fatalf("flash % x does not decode: %v", f, err)
		}
	}
	v2, err := c.Encode(s)
	switch {
	case errors.Is(err, ErrTooLarge):
		return // a compressed cookie can reseal larger than the limit
	case err != nil:
		t.Fatalf("resealing an opened session: %v", err)
	case v2 == "":
		// Only a session with nothing in it, or whose own expiry policy has
		// run out, seals to nothing.
		if (len(keys) > 0 || len(flashes) > 0) && s.ExpiryAge() > 0 {
			t.Fatalf("a live session with %d keys and %d flashes sealed to nothing", len(keys), len(flashes))
		}
		return
	}
	s2, err := c.Decode(v2)
	if err != nil {
		t.Fatalf("the library does not open its own reseal: %v", err)
	}
	if got := s2.Keys(); !reflect.DeepEqual(got, keys) {
		t.Fatalf("keys after reseal %q, want %q", got, keys)
	}
	for i, k := range keys {
		if !bytes.Equal(wfRaw(s2, k), wfRaw(s, k)) {
			t.Fatalf("key %q: msgpack changed on reseal: % x -> % x", k, wfRaw(s, k), wfRaw(s2, k))
		}
		got, ok := s2.Get(k)
		if !ok || !wfDeepEqual(got, vals[i]) {
			t.Fatalf("key %q: %#v after reseal, want %#v", k, got, vals[i])
		}
		e1, ok1 := s.KeyExpiry(k)
		e2, ok2 := s2.KeyExpiry(k)
		if ok1 != ok2 || !e1.Equal(e2) {
			t.Fatalf("key %q: TTL %v %v after reseal, want %v %v", k, e2, ok2, e1, ok1)
		}
	}
	if got := wfFlashRaws(s2); !reflect.DeepEqual(got, flashes) {
		t.Fatalf("flashes after reseal % x, want % x", got, flashes)
	}
	if s2.ID() != s.ID() || s2.ExpiresAtBrowserClose() != s.ExpiresAtBrowserClose() {
		t.Fatalf("ID or expiry policy changed on reseal")
	}
}

// FuzzDecode: any string. Decode never panics; an error is one of the
// sentinels with a nil session; whatever opens reseals and opens again
// with the same keys and values.
func FuzzDecode(f *testing.F) {
	c := wfFuzzCodec(f)
	for _, ws := range wfSessions {
		s := c.New()
		ws.fill(s)
		f.Add(mustEncode(f, c, s))
	}
	for _, p := range wfPayloadSeeds(f, c) {
		if len(p) < 8000 {
			f.Add(wfSeal(f, c, p))
		}
	}
	for _, g := range []string{"", ".", "k1", "k1.", "k1.AAAA", "zz.AAAA", "k1.====", "k1.\n", "\x00", strings.Repeat("A", 20000)} {
		f.Add(g)
	}
	f.Fuzz(func(t *testing.T, v string) {
		s, err := c.Decode(v)
		if err != nil {
			if s != nil {
				t.Fatalf("Decode returned a session and an error: %v", err)
			}
			if !wfIsSentinel(err) {
				t.Fatalf("Decode error wraps no sentinel: %v", err)
			}
			if strings.Contains(err.Error(), "panic") {
				t.Fatalf("Decode recovered from a panic: %v", err)
			}
			return
		}
		if s == nil {
			t.Fatal("Decode returned nil, nil")
		}
		if v == "" {
			if s.Len() != 0 || s.KeyID() != "" {
				t.Fatalf(`Decode("") is not a fresh session`)
			}
			return
		}
		wfCheckReopens(t, c, s)
	})
}

// wfAllocDuring returns the bytes allocated while f runs: the less of two
// runs, so that an allocation elsewhere in the process can only be missed.
func wfAllocDuring(f func()) uint64 {
	var best uint64 = math.MaxUint64
	for i := 0; i < 2; i++ {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		best = min(best, after.TotalAlloc-before.TotalAlloc)
	}
	return best
}

// wfPayloadAllocLimit is FuzzPayload's allocation bound for Decode of a
// sealed payload: memPerPayloadByte per payload byte plus 64 KiB, and for a
// compressed payload the cost of inflating up to maxPayload bytes on top
// (io.ReadAll's growth to the cap, about twice maxPayload, plus a fresh
// DEFLATE reader when the pool is empty, as it often is under -race).
func wfPayloadAllocLimit(payload []byte) uint64 {
	limit := uint64(memPerPayloadByte*len(payload) + 64<<10)
	if len(payload) > 0 && payload[0] == compressedMarker {
		limit += 4 * maxPayload
	}
	return limit
}

// FuzzPayload: raw bytes sealed under the codec's real key, so that they
// reach the payload checks. Decode never panics, fails only with
// ErrInvalid or ErrExpired, allocates within wfPayloadAllocLimit, and what
// opens reseals and opens again unchanged.
func FuzzPayload(f *testing.F) {
	c := wfFuzzCodec(f)
	for _, p := range wfPayloadSeeds(f, c) {
		f.Add(p)
	}
	primary := c.keys.load().primary
	f.Fuzz(func(t *testing.T, payload []byte) {
		var buf []byte
		v, err := c.seal(primary, bytes.Clone(payload), c.unixNow(), &buf)
		if errors.Is(err, ErrTooLarge) {
			return
		} else if err != nil {
			t.Fatalf("seal: %v", err)
		}
		var s *Session
		alloc := wfAllocDuring(func() { s, err = c.Decode(v) })
		if limit := wfPayloadAllocLimit(payload); alloc > limit {
			t.Fatalf("Decode of a %d-byte payload allocated %d bytes, over %d", len(payload), alloc, limit)
		}
		if err != nil {
			if s != nil {
				t.Fatalf("Decode returned a session and an error: %v", err)
			}
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrExpired) && !errors.Is(err, ErrClockSkew) {
				t.Fatalf("a genuine seal failed with none of ErrInvalid, ErrExpired, ErrClockSkew: %v", err)
			}
			if strings.Contains(err.Error(), "panic") {
				t.Fatalf("Decode recovered from a panic: %v", err)
			}
			return
		}
		wfCheckReopens(t, c, s)
	})
}

// FuzzRoundTrip builds a session from fuzzed keys and values and checks
// that it comes back exactly, or that Encode says ErrTooLarge.
func FuzzRoundTrip(f *testing.F) {
	c := wfCodec(f, "session", Config{})
	f.Add("user", "Alice", int64(42), uint64(7), 1.5, []byte{0, 1, 2}, true, uint8(3))
	f.Add("", "", int64(0), uint64(0), 0.0, []byte(nil), false, uint8(0))
	f.Add("ключ", "日本語 🍪", int64(math.MinInt64), uint64(math.MaxUint64), math.Inf(-1), bytes.Repeat([]byte{0xff}, 300), true, uint8(31))
	f.Add("\xff\x00|.=", "\x00\xff", int64(-33), uint64(256), math.NaN(), []byte{}, false, uint8(32))
	f.Add("k", strings.Repeat("x", 3000), int64(1)<<40, uint64(1)<<63, math.SmallestNonzeroFloat64, []byte("b"), true, uint8(40))
	f.Fuzz(func(t *testing.T, key, str string, i int64, u uint64, fl float64, b []byte, bo bool, depth uint8) {
		levels := int(depth % 40)
		var nested any = []any{i, str, b, fl, bo, nil}
		for l := 0; l < levels; l++ {
			nested = []any{nested, u}
		}
		want := map[string]any{
			"s/" + key: str,
			"i/" + key: i,
			"u/" + key: u,
			"f/" + key: fl,
			"b/" + key: b,
			"t/" + key: bo,
			"m/" + key: map[string]any{key: str, "": []any{i, u}},
			"n/" + key: nested,
		}
		s := c.New()
		for k, v := range want {
			s.Set(k, v)
		}
		v, err := c.Encode(s)
		if levels+1 > maxValueDepth {
			// Too deep to carry: Encode says so, naming the key.
			if err == nil || !strings.Contains(err.Error(), strconv.Quote("n/"+key)) || !strings.Contains(err.Error(), "deep") {
				t.Fatalf("%d nested levels: Encode = %d bytes, %v; want an error naming the key", levels+1, len(v), err)
			}
			s.Delete("n/" + key)
			delete(want, "n/"+key)
			v, err = c.Encode(s)
		}
		if errors.Is(err, ErrTooLarge) {
			if !strings.Contains(err.Error(), "largest entries") {
				t.Fatalf("ErrTooLarge does not give the largest sizes: %v", err)
			}
			return
		}
		if err != nil || v == "" {
			t.Fatalf("Encode = %q, %v", v, err)
		}
		if n := len("session=") + len(v); n > DefaultMaxLength {
			t.Fatalf("Encode returned %d bytes of name=value", n)
		}
		got, err := c.Decode(v)
		if err != nil {
			t.Fatalf("Decode of its own value: %v", err)
		}
		wantKeys := make([]string, 0, len(want))
		for k := range want {
			wantKeys = append(wantKeys, k)
		}
		sort.Strings(wantKeys)
		if keys := got.Keys(); !reflect.DeepEqual(keys, wantKeys) {
			t.Fatalf("keys %q, want %q", keys, wantKeys)
		}
		if g, ok := Get[string](got, "s/"+key); !ok || g != str {
			t.Fatalf("string %q, %v; want %q", g, ok, str)
		}
		if g, ok := Get[int64](got, "i/"+key); !ok || g != i {
			t.Fatalf("int64 %d, %v; want %d", g, ok, i)
		}
		if g, ok := Get[uint64](got, "u/"+key); !ok || g != u {
			t.Fatalf("uint64 %d, %v; want %d", g, ok, u)
		}
		if g, ok := Get[float64](got, "f/"+key); !ok || math.Float64bits(g) != math.Float64bits(fl) && !(math.IsNaN(g) && math.IsNaN(fl)) {
			t.Fatalf("float64 %v, %v; want %v", g, ok, fl)
		}
		if g, ok := Get[[]byte](got, "b/"+key); !ok || !bytes.Equal(g, b) {
			t.Fatalf("bytes % x, %v; want % x", g, ok, b)
		}
		if g, ok := Get[bool](got, "t/"+key); !ok || g != bo {
			t.Fatalf("bool %v, %v; want %v", g, ok, bo)
		}
		// Composite values: what comes back encodes to the same msgpack as
		// what went in (msgpack does not keep Go's integer types).
		for _, k := range []string{"m/" + key, "n/" + key} {
			if _, ok := want[k]; !ok {
				continue
			}
			g, ok := got.Get(k)
			if !ok {
				t.Fatalf("%q does not read back", k)
			}
			ge, err1 := wfSortedMsgpack(g)
			we, err2 := wfSortedMsgpack(want[k])
			if err1 != nil || err2 != nil || !bytes.Equal(ge, we) {
				t.Fatalf("%q: %#v (% x), want %#v (% x) [%v %v]", k, g, ge, want[k], we, err1, err2)
			}
		}
	})
}

// wfSortedMsgpack is v in msgpack with compact integers and map keys
// sorted: equal for values that carry the same data.
func wfSortedMsgpack(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := msgpack.NewEncoder(&b)
	enc.UseCompactInts(true)
	enc.SetSortMapKeys(true)
	err := enc.Encode(v)
	return b.Bytes(), err
}

// The committed seed corpus: testdata/fuzz/FuzzDecode and
// testdata/fuzz/FuzzPayload hold the hostile inputs (the cookies sealed
// with a fixed IV so the files are stable). go test -run TestFuzzCorpus
// -update rewrites them; without -update the test checks that every
// committed file parses and gives the outcome its name says.

var wfCorpusName = regexp.MustCompile(`[^a-z0-9]+`)

func wfCorpusFiles(tb testing.TB) map[string][]byte {
	c := wfFuzzCodec(tb)
	c.rand = wfFixedIV{0xfa, 0xce}
	files := map[string][]byte{}
	add := func(target, name, line string) {
		name = strings.Trim(wfCorpusName.ReplaceAllString(strings.ToLower(name), "-"), "-")
		path := filepath.Join("testdata", "fuzz", target, name)
		if _, dup := files[path]; dup {
			tb.Fatalf("two corpus files named %s", path)
		}
		files[path] = []byte("go test fuzz v1\n" + line + "\n")
	}
	for _, h := range wfHostilePayloads() {
		if strings.HasPrefix(h.name, "flash: ") {
			continue // the data-value versions cover the same ground
		}
		add("FuzzPayload", "invalid "+h.name, "[]byte("+strconv.Quote(string(h.payload))+")")
		if len(h.payload) < 8000 {
			add("FuzzDecode", "invalid "+h.name, "string("+strconv.Quote(wfSeal(tb, c, h.payload))+")")
		}
	}
	for _, ws := range wfSessions {
		s := c.New()
		ws.fill(s)
		s.mu.Lock()
		s.id, s.hasID = [sessionIDLen]byte{0x5e, 0x55}, true
		s.mu.Unlock()
		add("FuzzPayload", "valid "+ws.name, "[]byte("+strconv.Quote(string(wfPayload(tb, c, s)))+")")
		add("FuzzDecode", "valid "+ws.name, "string("+strconv.Quote(mustEncode(tb, c, s))+")")
	}
	return files
}

// wfCorpusValue reads the single value of a corpus file.
func wfCorpusValue(tb testing.TB, path string, data []byte) []byte {
	tb.Helper()
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" {
		tb.Fatalf("%s: not a one-value go test fuzz v1 file", path)
	}
	line := lines[1]
	var quoted string
	switch {
	case strings.HasPrefix(line, "[]byte(") && strings.HasSuffix(line, ")"):
		quoted = line[len("[]byte(") : len(line)-1]
	case strings.HasPrefix(line, "string(") && strings.HasSuffix(line, ")"):
		quoted = line[len("string(") : len(line)-1]
	default:
		tb.Fatalf("%s: unexpected line %.40q", path, line)
	}
	s, err := strconv.Unquote(quoted)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return []byte(s)
}

func TestFuzzCorpus(t *testing.T) {
	want := wfCorpusFiles(t)
	if *wfUpdate {
		for _, dir := range []string{"FuzzDecode", "FuzzPayload"} {
			old, _ := filepath.Glob(filepath.Join("testdata", "fuzz", dir, "*"))
			for _, p := range old {
				if strings.HasPrefix(filepath.Base(p), "valid-") || strings.HasPrefix(filepath.Base(p), "invalid-") {
					os.Remove(p)
				}
			}
			if err := os.MkdirAll(filepath.Join("testdata", "fuzz", dir), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for path, data := range want {
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("wrote %d corpus files", len(want))
	}
	c := wfFuzzCodec(t)
	checked := 0
	for _, dir := range []string{"FuzzDecode", "FuzzPayload"} {
		paths, _ := filepath.Glob(filepath.Join("testdata", "fuzz", dir, "*"))
		for _, path := range paths {
			base := filepath.Base(path)
			if !strings.HasPrefix(base, "valid-") && !strings.HasPrefix(base, "invalid-") {
				continue // found by the fuzzer, not ours: the fuzz target checks it
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// The hostile files must be what the list makes now. A valid
			// session's bytes can differ from run to run (msgpack writes a
			// Go map in iteration order), so those only have to open.
			if w, ok := want[path]; ok && strings.HasPrefix(base, "invalid-") && !bytes.Equal(w, data) {
				t.Errorf("%s is not what the hostile list makes now (go test -run TestFuzzCorpus -update)", path)
			}
			val := wfCorpusValue(t, path, data)
			cookie := string(val)
			if dir == "FuzzPayload" {
				cookie = wfSeal(t, c, val)
			}
			s, err := c.Decode(cookie)
			switch {
			case strings.HasPrefix(base, "valid-") && err != nil:
				t.Errorf("%s: %v, want it to open", path, err)
			case strings.HasPrefix(base, "valid-"):
				if s.Len()+len(wfFlashRaws(s)) == 0 {
					t.Errorf("%s opened empty", path)
				}
			case !errors.Is(err, ErrInvalid):
				t.Errorf("%s: %v, want ErrInvalid", path, err)
			}
			checked++
		}
	}
	if checked < len(want) {
		t.Fatalf("checked %d committed corpus files, want at least %d (go test -run TestFuzzCorpus -update)", checked, len(want))
	}
	for path := range want {
		if _, err := os.Stat(path); err != nil {
			t.Errorf("corpus file missing: %s", path)
		}
	}
}
