package cookiesession

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
)

// The attack suite: every input an attacker can put in a Cookie header, each
// checked three ways. (a) Decode (or DecodeCookies) returns the right typed
// error and a nil session, without panicking. (b) Through the middleware on a
// loopback server, the handler answers 200, sees an empty session, and the
// response deletes the cookie. (c) Where an input is built to exhaust memory,
// decoding it stays under a ceiling. SECURITY.md cites these tests by name.

// ---------------------------------------------------------------------------
// Helpers (prefix atk).

// atkLogBuf collects slog JSON records written by server goroutines.
type atkLogBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *atkLogBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *atkLogBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *atkLogBuf) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Reset()
}

// rejections returns the "session cookie rejected" records logged so far.
func (l *atkLogBuf) rejections(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(l.String(), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v: %q", err, line)
		}
		if rec["msg"] == "cookiesession: session cookie rejected" {
			out = append(out, rec)
		}
	}
	return out
}

// atkEnv is a Codec with a test clock and a JSON logger, serving atkHandler
// behind its middleware on a loopback server.
type atkEnv struct {
	c    *Codec
	clk  *testClock
	logs *atkLogBuf
	srv  *httptest.Server
}

func atkNewEnv(t *testing.T, cfg Config) *atkEnv {
	t.Helper()
	logs := &atkLogBuf{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	c, clk := newTestCodec(t, cfg)
	srv := httptest.NewUnstartedServer(c.Middleware(http.HandlerFunc(atkHandler)))
	srv.Config.MaxHeaderBytes = 4 << 20 // room for the 1 MB cookie
	srv.Start()
	t.Cleanup(srv.Close)
	return &atkEnv{c: c, clk: clk, logs: logs, srv: srv}
}

// atkHandler reads the session and writes "len=<Len()>", followed by
// " user=<user>" when the session holds a user. /login?user=X logs X in.
func atkHandler(w http.ResponseWriter, r *http.Request) {
	s := FromContext(r.Context())
	if r.URL.Path == "/login" {
		s.Renew()
		s.Set("user", r.URL.Query().Get("user"))
	}
	n := s.Len()
	if u, ok := Get[string](s, "user"); ok {
		fmt.Fprintf(w, "len=%d user=%s", n, u)
		return
	}
	fmt.Fprintf(w, "len=%d", n)
}

type atkResp struct {
	status int
	body   string
	set    []string // Set-Cookie lines
}

// send requests path with cookieHeader as the raw Cookie header (none if "").
func (e *atkEnv) send(t *testing.T, path, cookieHeader string) atkResp {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookieHeader != "" {
		req.Header["Cookie"] = []string{cookieHeader}
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return atkResp{status: resp.StatusCode, body: string(body), set: resp.Header.Values("Set-Cookie")}
}

// cookie returns the Set-Cookie for name, parsed and raw, or nil.
func (r atkResp) cookie(t *testing.T, name string) (*http.Cookie, string) {
	t.Helper()
	var found *http.Cookie
	var raw string
	for _, line := range r.set {
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			t.Errorf("unparsable Set-Cookie %q: %v", line, err)
			continue
		}
		if ck.Name == name {
			if found != nil {
				t.Errorf("two Set-Cookie lines for %q: %q", name, r.set)
			}
			found, raw = ck, line
		}
	}
	return found, raw
}

// atkWantRejected asserts a 200 with an empty session, a deletion for each
// of names, and no Set-Cookie that carries a value.
func atkWantRejected(t *testing.T, r atkResp, names ...string) {
	t.Helper()
	if r.status != http.StatusOK || r.body != "len=0" {
		t.Errorf("middleware: got %d %q, want 200 %q", r.status, r.body, "len=0")
	}
	for _, name := range names {
		ck, raw := r.cookie(t, name)
		switch {
		case ck == nil:
			t.Errorf("middleware: no deletion of %q; Set-Cookie: %q", name, r.set)
		case ck.Value != "" || !strings.Contains(raw, "Max-Age=0"):
			t.Errorf("middleware: Set-Cookie for %q is not a deletion: %q", name, raw)
		}
	}
	for _, line := range r.set {
		if ck, err := http.ParseSetCookie(line); err == nil && ck.Value != "" {
			t.Errorf("middleware: response sets a cookie with a value: %.80q", line)
		}
	}
}

// atkMaxTries is how many cookies named like the session one request may
// make the server open: "a few", fixed here so that raising the library's
// cap fails the test.
const atkMaxTries = 4

// atkKinds are the sentinel errors; an error must match exactly the one
// expected (a revocation also matches ErrExpired, which it wraps).
var atkKinds = []error{ErrInvalid, ErrExpired, ErrUnknownKey, ErrTooLarge, ErrRevoked}

func atkIsKind(err, want error) bool {
	if !errors.Is(err, want) {
		return false
	}
	for _, k := range atkKinds {
		if k == want || want == ErrRevoked && k == ErrExpired {
			continue
		}
		if errors.Is(err, k) {
			return false
		}
	}
	return true
}

func atkWantErr(t *testing.T, what string, s *Session, err, want error) {
	t.Helper()
	if !atkIsKind(err, want) {
		t.Errorf("%s: err = %v, want only %v", what, err, want)
	}
	if s != nil {
		t.Errorf("%s: non-nil session returned with the error", what)
	}
}

// atkSendable reports whether net/http lets value travel in a header: no
// control bytes other than tab. The others never reach any handler.
func atkSendable(value string) bool {
	for i := 0; i < len(value); i++ {
		if b := value[i]; b < 0x20 && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

// atkAllocs returns the fewest bytes f allocated over three runs (the
// minimum filters out allocations by anything else running).
func atkAllocs(f func()) uint64 {
	best := ^uint64(0)
	for i := 0; i < 3; i++ {
		var a, b runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&a)
		f()
		runtime.ReadMemStats(&b)
		best = min(best, b.TotalAlloc-a.TotalAlloc)
	}
	return best
}

// atkSealRaw seals arbitrary payload bytes under c's primary key, exactly as
// Encode seals an envelope: a genuine cookie around hostile plaintext.
func atkSealRaw(t *testing.T, c *Codec, payload []byte) string {
	t.Helper()
	p := append(make([]byte, 0, len(payload)), payload...) // seal writes past len
	var bp []byte
	v, err := c.seal(c.keys.load().primary, p, c.unixNow(), &bp)
	if err != nil {
		t.Fatalf("seal of %d payload bytes: %v", len(payload), err)
	}
	return v
}

type atkKV struct {
	key string
	raw []byte // msgpack
}

// atkEnvelope builds a payload envelope (FORMAT.md's field order) created
// and sealed at now, expiring an hour later, holding data as given (in the
// given order, duplicates and all).
func atkEnvelope(version, now int64, data ...atkKV) []byte {
	id := []byte("atk-session-id16")
	b := appendArrayLen(nil, envelopeFields)
	b = appendInt(b, version)
	b = appendBin8(b, id)
	b = appendInt(b, now)
	b = appendInt(b, now)
	b = appendInt(b, int64(expiryDefault))
	b = appendInt(b, 0)
	b = appendInt(b, now+3600)
	b = appendMapLen(b, len(data))
	for _, kv := range data {
		b = appendString(b, kv.key)
		b = append(b, kv.raw...)
	}
	b = appendMapLen(b, 0)
	return appendArrayLen(b, 0)
}

func atkMsgpack(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := encodeValue(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func atkHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// atkMid splits the securecookie part of a value into its decoded bytes.
func atkMid(t *testing.T, v string) (id string, mid []byte) {
	t.Helper()
	id, sealed, ok := strings.Cut(v, ".")
	if !ok {
		t.Fatalf("value %q has no key ID", v)
	}
	mid, err := base64.URLEncoding.DecodeString(sealed)
	if err != nil {
		t.Fatalf("value does not decode: %v", err)
	}
	return id, mid
}

func atkRepack(id string, mid []byte) string {
	return id + "." + base64.URLEncoding.EncodeToString(mid)
}

// atkSession returns the sealed value of a session holding user.
func atkSession(t *testing.T, c *Codec, user string) string {
	t.Helper()
	s := c.New()
	s.Set("user", user)
	return mustEncode(t, c, s)
}

// atkCase is one hostile cookie value: what Decode must return, and whether
// the middleware case applies (values net/http cannot carry never reach it).
type atkCase struct {
	name  string
	value string
	want  error // nil: Decode returns a fresh empty session
}

// atkRun runs the Decode and middleware checks for each case, with a
// memory ceiling on Decode if ceiling > 0.
func atkRun(t *testing.T, e *atkEnv, cases []atkCase, ceiling uint64) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := e.c.Decode(tc.value)
			if tc.want == nil {
				if err != nil || s == nil || s.Len() != 0 {
					t.Errorf("Decode: got %v, %v; want a fresh empty session", s, err)
				}
			} else {
				atkWantErr(t, "Decode", s, err, tc.want)
			}
			if ceiling > 0 {
				if n := atkAllocs(func() { _, _ = e.c.Decode(tc.value) }); n > ceiling {
					t.Errorf("Decode allocated %d bytes, ceiling %d", n, ceiling)
				}
			}
			if !atkSendable(tc.value) {
				return
			}
			e.logs.Reset()
			r := e.send(t, "/", e.c.Name()+"="+tc.value)
			atkWantRejected(t, r, e.c.Name())
			if n := len(e.logs.rejections(t)); n != 1 {
				t.Errorf("middleware: %d rejection records, want 1: %s", n, e.logs.String())
			}
		})
	}
}

// ---------------------------------------------------------------------------

func TestAttack_Garbage(t *testing.T) {
	e := atkNewEnv(t, Config{})
	// A megabyte of well-formed base64 after a known key ID: if the size
	// check came after the key lookup or the crypto, this would reach them.
	mb := "k1." + strings.Repeat("AAAA", (1<<20)/4)
	atkRun(t, e, []atkCase{
		{"empty", "", nil},
		{"space", " ", ErrInvalid},
		{"bar", "|", ErrInvalid},
		{"two bars", "||", ErrInvalid},
		{"three bars", "|||", ErrInvalid},
		{"dot", ".", ErrInvalid},
		{"key ID alone", "k1", ErrInvalid},
		{"key ID and dot", "k1.", ErrInvalid},
		{"key ID, dot, one block", "k1.AAAA", ErrInvalid},
		{"unknown key ID and dot", "zz.", ErrUnknownKey},
		{"key ID with a space", "k 1.AAAA", ErrInvalid},
		{"key ID of 17 characters", strings.Repeat("k", 17) + ".AAAA", ErrInvalid},
		{"non-base64 punctuation", "k1.!!!!$$$$", ErrInvalid},
		{"non-base64 high bytes", "k1.\xff\xfe\xfd\xfc\x80\x81\x82\x83", ErrInvalid},
		{"non-base64 control bytes", "k1.AA\x00A\r\nAA", ErrInvalid},
		{"standard base64 alphabet", "k1.ab+/ab+/", ErrInvalid},
		{"base64 of bars", "k1." + base64.URLEncoding.EncodeToString([]byte("1|2|3")), ErrInvalid},
		{"base64 of a frame with a short MAC", "k1." + base64.URLEncoding.EncodeToString([]byte("1700000000|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA|"+strings.Repeat("x", 31))), ErrInvalid},
		{"4088 bytes, the most that fits", "k1." + strings.Repeat("A", 4088-3), ErrInvalid},
		{"4089 bytes", "k1." + strings.Repeat("A", 4089-3), ErrTooLarge},
		{"4097 bytes", "k1." + strings.Repeat("A", 4097-3), ErrTooLarge},
		{"1 MB", mb, ErrTooLarge},
		{"1 MB with an unknown key ID", "zz" + mb[2:], ErrTooLarge},
		{"1 MB without a key ID", strings.Repeat("|", 1<<20), ErrTooLarge},
	}, 64<<10)

	// 1 MB is refused before any base64 or crypto: those would need
	// megabytes of scratch space.
	if n := atkAllocs(func() { _, _ = e.c.Decode(mb) }); n > 4<<10 {
		t.Errorf("Decode of 1 MB allocated %d bytes: the size check is not first", n)
	}

	// Many cookies on one request.
	good := atkSession(t, e.c, "alice")
	header := func(names []string, values []string) (string, []*http.Cookie) {
		var b strings.Builder
		var cks []*http.Cookie
		for i := range names {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(names[i] + "=" + values[i])
			cks = append(cks, &http.Cookie{Name: names[i], Value: values[i]})
		}
		return b.String(), cks
	}
	repeat := func(s string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	t.Run("3000 other cookies then garbage", func(t *testing.T) {
		var names, values []string
		for i := 0; i < 3000; i++ {
			names, values = append(names, fmt.Sprintf("a%d", i)), append(values, "1")
		}
		h, cks := header(append(names, "session"), append(values, "garbage"))
		s, err := e.c.DecodeCookies(cks)
		atkWantErr(t, "DecodeCookies", s, err, ErrInvalid)
		e.logs.Reset()
		atkWantRejected(t, e.send(t, "/", h), "session")
		if n := len(e.logs.rejections(t)); n != 1 {
			t.Errorf("%d rejection records, want 1", n)
		}
		// Control: the same crowd with a good session cookie opens.
		h, cks = header(append(names, "session"), append(values, good))
		if s, err := e.c.DecodeCookies(cks); err != nil || s.Len() != 1 {
			t.Errorf("control: DecodeCookies = %v, %v", s, err)
		}
		if r := e.send(t, "/", h); r.body != "len=1 user=alice" {
			t.Errorf("control: body %q", r.body)
		}
	})
	t.Run("3000 session cookies of garbage", func(t *testing.T) {
		h, cks := header(repeat("session", 3000), repeat("k1.AAAA", 3000))
		s, err := e.c.DecodeCookies(cks)
		atkWantErr(t, "DecodeCookies", s, err, ErrInvalid)
		e.logs.Reset()
		atkWantRejected(t, e.send(t, "/", h), "session")
		if n := len(e.logs.rejections(t)); n != 1 {
			t.Errorf("%d rejection records, want exactly 1", n)
		}
	})
	t.Run("only the first few session cookies are tried", func(t *testing.T) {
		for bad := 0; bad <= atkMaxTries+1; bad++ {
			h, cks := header(repeat("session", bad+1), append(repeat("k1.AAAA", bad), good))
			s, err := e.c.DecodeCookies(cks)
			r := e.send(t, "/", h)
			if bad < atkMaxTries {
				if err != nil || s.Len() != 1 || r.body != "len=1 user=alice" {
					t.Errorf("%d bad then a good one: got %v, %q; want the good one", bad, err, r.body)
				}
				continue
			}
			atkWantErr(t, fmt.Sprintf("%d bad then a good one", bad), s, err, ErrInvalid)
			atkWantRejected(t, r, "session")
		}
	})

	// 3000 genuine cookies that Verify rejects: every one that is tried
	// costs a full open and a Verify call, so the calls count the tries.
	var calls atomic.Int64
	ev := atkNewEnv(t, Config{Verify: func(*Session) error {
		calls.Add(1)
		return errors.New("atk: every session is revoked")
	}})
	revoked := atkSession(t, ev.c, "alice")
	t.Run("3000 genuine session cookies, Verify counts the tries", func(t *testing.T) {
		h, cks := header(repeat("session", 3000), repeat(revoked, 3000))
		calls.Store(0)
		s, err := ev.c.DecodeCookies(cks)
		atkWantErr(t, "DecodeCookies", s, err, ErrRevoked)
		if n := calls.Load(); n < 1 || n > atkMaxTries {
			t.Errorf("DecodeCookies opened %d cookies, want 1..%d", n, atkMaxTries)
		}
		calls.Store(0)
		ev.logs.Reset()
		atkWantRejected(t, ev.send(t, "/", h), "session")
		if n := calls.Load(); n < 1 || n > atkMaxTries {
			t.Errorf("middleware opened %d cookies, want 1..%d", n, atkMaxTries)
		}
		if n := len(ev.logs.rejections(t)); n != 1 {
			t.Errorf("%d rejection records, want 1", n)
		}
	})
}

func TestAttack_Tampering(t *testing.T) {
	kr := newKeyring(t, "k1", "k2")
	e := atkNewEnv(t, Config{Keys: kr})
	v := atkSession(t, e.c, "alice")
	if s, err := e.c.Decode(v); err != nil || s.Len() != 1 {
		t.Fatalf("control: Decode = %v, %v", s, err)
	}
	if r := e.send(t, "/", "session="+v); r.body != "len=1 user=alice" {
		t.Fatalf("control: middleware body %q", r.body)
	}

	t.Run("every bit flipped", func(t *testing.T) {
		idLen := strings.IndexByte(v, '.')
		decodes, sent := 0, 0
		e.logs.Reset()
		for i := 0; i < len(v); i++ {
			for bit := 0; bit < 8; bit++ {
				b := []byte(v)
				b[i] ^= 1 << bit
				got := string(b)
				s, err := e.c.Decode(got)
				decodes++
				switch {
				case s != nil || err == nil:
					t.Errorf("byte %d bit %d: flipped value opened (err %v)", i, bit, err)
				case i < idLen && !atkIsKind(err, ErrInvalid) && !atkIsKind(err, ErrUnknownKey):
					t.Errorf("byte %d bit %d (key ID): err = %v", i, bit, err)
				case i >= idLen && !atkIsKind(err, ErrInvalid):
					t.Errorf("byte %d bit %d: err = %v, want ErrInvalid", i, bit, err)
				}
				if !atkSendable(got) {
					continue
				}
				sent++
				r := e.send(t, "/", "session="+got)
				if r.status != http.StatusOK || r.body != "len=0" {
					t.Fatalf("byte %d bit %d: middleware got %d %q", i, bit, r.status, r.body)
				}
				if ck, raw := r.cookie(t, "session"); ck == nil || ck.Value != "" || !strings.Contains(raw, "Max-Age=0") {
					t.Fatalf("byte %d bit %d: no deletion: %q", i, bit, r.set)
				}
			}
		}
		if decodes != 8*len(v) || sent < 4*len(v) {
			t.Errorf("%d decodes, %d requests for a %d-byte value", decodes, sent, len(v))
		}
		if n := len(e.logs.rejections(t)); n != sent {
			t.Errorf("%d rejection records for %d rejected requests", n, sent)
		}
	})

	// Values whose outer base64 ends in no, one and two padding bytes.
	padded := map[int]string{}
	for n := 0; len(padded) < 3 && n < 32; n++ {
		pv := atkSession(t, e.c, strings.Repeat("a", n))
		padded[len(pv)-len(strings.TrimRight(pv, "="))] = pv
	}
	if len(padded) != 3 {
		t.Fatalf("no values with 0, 1 and 2 padding bytes: %v", padded)
	}
	id, mid := atkMid(t, v)
	bar := bytes.IndexByte(mid, '|')
	ts, inner, mac := mid[:bar], mid[bar+1:len(mid)-macLen-1], mid[len(mid)-macLen:]
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, []byte("|")) }
	cut := func(n int) string { return atkRepack(id, mid[:len(mid)-n]) }

	// A value sealed by k2, from the same ring, opens: the key-ID swap
	// below is refused for the MAC alone.
	env := atkEnvelope(payloadVersion, e.c.unixNow(), atkKV{"user", atkMsgpack(t, "alice")})
	var bp []byte
	v2, err := e.c.seal(kr.load().lookup("k2"), env, e.c.unixNow(), &bp)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := e.c.Decode(v2); err != nil || s.KeyID() != "k2" {
		t.Fatalf("control: value sealed by k2: %v, %v", s, err)
	}

	atkRun(t, e, []atkCase{
		{"one padding byte removed", padded[1][:len(padded[1])-1], ErrInvalid},
		{"both padding bytes removed", padded[2][:len(padded[2])-2], ErrInvalid},
		{"one of two padding bytes removed", padded[2][:len(padded[2])-1], ErrInvalid},
		{"padding byte added", padded[1] + "=", ErrInvalid},
		{"padding block added", padded[0] + "====", ErrInvalid},
		{"padding added to an unpadded value", padded[0] + "=", ErrInvalid},
		{"padding replaced by a character", padded[1][:len(padded[1])-1] + "A", ErrInvalid},
		{"MAC truncated by 1 byte", cut(1), ErrInvalid},
		{"MAC truncated by 16 bytes", cut(16), ErrInvalid},
		{"MAC removed", cut(macLen), ErrInvalid},
		{"MAC and its bar removed", cut(macLen + 1), ErrInvalid},
		{"byte appended inside", atkRepack(id, append(bytes.Clone(mid), 'x')), ErrInvalid},
		{"MAC byte appended inside", atkRepack(id, append(bytes.Clone(mid), mac[0])), ErrInvalid},
		{"line breaks inserted (base64 would skip them)", v[:len(id)+9] + "\r\n\r\n" + v[len(id)+9:], ErrInvalid},
		{"base64 block appended", v + "AAAA", ErrInvalid},
		{"dot appended", v + ".", ErrInvalid},
		{"value doubled", v + v, ErrInvalid},
		{"base64 block prepended", id + ".AAAA" + v[len(id)+1:], ErrInvalid},
		{"timestamp and ciphertext swapped", atkRepack(id, join(inner, ts, mac)), ErrInvalid},
		{"ciphertext and MAC swapped", atkRepack(id, join(ts, mac, inner)), ErrInvalid},
		{"timestamp and MAC swapped", atkRepack(id, join(mac, inner, ts)), ErrInvalid},
		{"parts rotated left", atkRepack(id, join(inner, mac, ts)), ErrInvalid},
		{"parts rotated right", atkRepack(id, join(mac, ts, inner)), ErrInvalid},
		{"timestamp changed", atkRepack(id, join([]byte(fmt.Sprint(e.c.unixNow()+1)), inner, mac)), ErrInvalid},
		{"timestamp with a leading zero", atkRepack(id, join(append([]byte("0"), ts...), inner, mac)), ErrInvalid},
		{"timestamp dropped", atkRepack(id, join(inner, mac)), ErrInvalid},
		{"ciphertext of another session", atkRepack(id, join(ts, atkInner(t, padded[0]), mac)), ErrInvalid},
		{"key ID swapped for another in the ring", "k2" + v[len(id):], ErrInvalid},
		{"k2's value with key ID k1", "k1" + v2[2:], ErrInvalid},
		{"key ID changed to one not in the ring", "K1" + v[len(id):], ErrUnknownKey},
		{"key ID removed", v[len(id)+1:], ErrInvalid},
		{"key ID and dot doubled", id + "." + v, ErrInvalid},
	}, 64<<10)
}

// atkInner returns the base64 ciphertext inside the value v.
func atkInner(t *testing.T, v string) []byte {
	t.Helper()
	_, mid := atkMid(t, v)
	bar := bytes.IndexByte(mid, '|')
	return mid[bar+1 : len(mid)-macLen-1]
}

func TestAttack_WrongContext(t *testing.T) {
	kr := newKeyring(t, "k0")
	e := atkNewEnv(t, Config{Keys: kr})

	// Sealed by k0, which is then rotated out and retired.
	retired := atkSession(t, e.c, "alice")
	k1, err := GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Rotate(k1); err != nil {
		t.Fatal(err)
	}
	if s, err := e.c.Decode(retired); err != nil || s.KeyID() != "k0" {
		t.Fatalf("control: k0's value before Retire: %v, %v", s, err)
	}
	if err := kr.Retire("k0"); err != nil {
		t.Fatal(err)
	}
	// k2 joins the ring as an accepted key; k1 stays primary.
	k2, err := GenerateKey("k2")
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Rotate(k2); err != nil {
		t.Fatal(err)
	}
	if err := kr.Rotate(k1); err != nil {
		t.Fatal(err)
	}
	if ids := kr.IDs(); len(ids) != 2 || ids[0] != "k1" {
		t.Fatalf("ring %v, want k1 then k2", ids)
	}
	current := atkSession(t, e.c, "alice")
	if s, err := e.c.Decode(current); err != nil || s.KeyID() != "k1" {
		t.Fatalf("control: k1's value: %v, %v", s, err)
	}

	// Same keys, another cookie name.
	other, err := NewCodec(Config{Name: "other", Keys: kr, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	moved := atkSession(t, other, "alice")
	if s, err := other.Decode(moved); err != nil || s.Len() != 1 {
		t.Fatalf("control: other.Decode = %v, %v", s, err)
	}

	// securecookie with the same derived keys, the same name and a genuine
	// envelope: with encryption it opens (control), without it does not.
	sk := kr.load().lookup("k1")
	env := atkEnvelope(payloadVersion, e.c.unixNow(), atkKV{"user", atkMsgpack(t, "alice")})
	scEncode := func(blockKey []byte) string {
		sc := securecookie.New(sk.hashKey, blockKey)
		sc.SetSerializer(securecookie.NopEncoder{})
		v, err := sc.Encode("session", env)
		if err != nil {
			t.Fatalf("securecookie.Encode: %v", err)
		}
		return "k1." + v
	}
	if s, err := e.c.Decode(scEncode(sk.blockKey)); err != nil || s.Len() != 1 {
		t.Fatalf("control: securecookie with encryption: %v, %v", s, err)
	}
	plain := scEncode(nil)

	// Same key ID, another secret; and a key the ring never held.
	impostor, _ := newTestCodec(t, Config{Keys: newKeyring(t, "k1"), Now: e.clk.Now})
	stranger, _ := newTestCodec(t, Config{Keys: newKeyring(t, "k9"), Now: e.clk.Now})

	atkRun(t, e, []atkCase{
		{"moved from cookie other to session", moved, ErrInvalid},
		{"sealed by a retired key", retired, ErrUnknownKey},
		{"key ID swapped for another in the ring", "k2" + current[2:], ErrInvalid},
		{"securecookie without encryption", plain, ErrInvalid},
		{"securecookie without encryption, key ID k0", "k0" + plain[2:], ErrUnknownKey},
		{"same key ID, another secret", atkSession(t, impostor, "alice"), ErrInvalid},
		{"key never in the ring", atkSession(t, stranger, "alice"), ErrUnknownKey},
	}, 64<<10)
}

func TestAttack_Time(t *testing.T) {
	e := atkNewEnv(t, Config{MaxAge: 2 * time.Hour})
	start := e.clk.Now()
	shifted := func(d time.Duration) *Codec {
		c, err := NewCodec(Config{Keys: e.c.keys, MaxAge: 2 * time.Hour, Now: func() time.Time { return e.clk.Now().Add(d) }})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	idle := e.c.New() // expires an hour after its seal
	idle.Set("user", "alice")
	idle.SetExpiry(time.Hour)
	idleV := mustEncode(t, e.c, idle)
	deflt := atkSession(t, e.c, "alice") // Config.MaxAge: two hours
	future61 := atkSession(t, shifted(61*time.Second), "alice")
	future60 := atkSession(t, shifted(60*time.Second), "alice")
	ttl := e.c.New() // otp lives ten minutes, the session two hours
	ttl.Set("user", "alice")
	ttl.SetWithTTL("otp", "493817", 10*time.Minute)
	ttlV := mustEncode(t, e.c, ttl)

	for _, tc := range []struct {
		name  string
		at    time.Duration // after start
		value string
		want  error
		body  string // for a session that opens
	}{
		{"idle: one second before the deadline", time.Hour - time.Second, idleV, nil, "len=1 user=alice"},
		{"idle: exactly at the deadline", time.Hour, idleV, ErrExpired, ""},
		{"idle: expired by one second", time.Hour + time.Second, idleV, ErrExpired, ""},
		{"MaxAge: one second before", 2*time.Hour - time.Second, deflt, nil, "len=1 user=alice"},
		{"MaxAge: exactly at the deadline", 2 * time.Hour, deflt, ErrExpired, ""},
		{"MaxAge: expired by a day", 26 * time.Hour, deflt, ErrExpired, ""},
		{"sealed 61 s in the future", 0, future61, ErrInvalid, ""},
		{"sealed 60 s in the future", 0, future60, nil, "len=1 user=alice"},
		{"sealed 61 s ahead, clock caught up by 1 s", time.Second, future61, nil, "len=1 user=alice"},
		{"per-key TTL: one second before its end", 10*time.Minute - time.Second, ttlV, nil, "len=2 user=alice"},
		{"per-key TTL: exactly at its end", 10 * time.Minute, ttlV, nil, "len=1 user=alice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.clk.Set(start.Add(tc.at))
			s, err := e.c.Decode(tc.value)
			if tc.want != nil {
				atkWantErr(t, "Decode", s, err, tc.want)
				e.logs.Reset()
				atkWantRejected(t, e.send(t, "/", "session="+tc.value), "session")
				if n := len(e.logs.rejections(t)); n != 1 {
					t.Errorf("%d rejection records, want 1", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got := fmt.Sprintf("len=%d user=%s", s.Len(), GetOr(s, "user", "")); got != tc.body {
				t.Errorf("Decode: %s, want %s", got, tc.body)
			}
			if r := e.send(t, "/", "session="+tc.value); r.status != http.StatusOK || r.body != tc.body {
				t.Errorf("middleware: %d %q, want %q", r.status, r.body, tc.body)
			}
		})
	}
	t.Run("per-key TTL: the key is gone, not the session", func(t *testing.T) {
		e.clk.Set(start.Add(10 * time.Minute))
		s, err := e.c.Decode(ttlV)
		if err != nil || s.Has("otp") || !s.Has("user") {
			t.Errorf("at the TTL's end: err %v, otp %v, user %v", err, s != nil && s.Has("otp"), s != nil && s.Has("user"))
		}
		e.clk.Set(start.Add(10*time.Minute - time.Second))
		if s, err := e.c.Decode(ttlV); err != nil || GetOr(s, "otp", "") != "493817" {
			t.Errorf("a second before: err %v", err)
		}
	})

	t.Run("resealed hourly for a day, AbsoluteTimeout 12h", func(t *testing.T) {
		a := atkNewEnv(t, Config{MaxAge: 2 * time.Hour, AbsoluteTimeout: 12 * time.Hour})
		noAbs, err := NewCodec(Config{Keys: a.c.keys, MaxAge: 2 * time.Hour, Now: a.clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		v := atkSession(t, a.c, "alice")
		var fresh string // the hour-11 session resealed without the cap
		for h := 1; h <= 24; h++ {
			a.clk.Advance(time.Hour)
			s, err := a.c.Decode(v)
			if h < 12 {
				if err != nil {
					t.Fatalf("hour %d: %v", h, err)
				}
				s.Set("hour", h)
				v = mustEncode(t, a.c, s)
				if v == "" {
					t.Fatalf("hour %d: resealed to nothing", h)
				}
				if h == 11 {
					fresh = mustEncode(t, noAbs, s) // idle deadline: hour 13
				}
				continue
			}
			atkWantErr(t, fmt.Sprintf("hour %d", h), s, err, ErrExpired)
			if h > 12 {
				continue
			}
			// Hour 12: the idle deadline of fresh is an hour away, as a
			// codec without the cap confirms, but the session is 12 hours
			// old.
			if s, err := noAbs.Decode(fresh); err != nil || s.Len() != 2 {
				t.Fatalf("control: without AbsoluteTimeout, hour 12: %v, %v", s, err)
			}
			s, err = a.c.Decode(fresh)
			atkWantErr(t, "idle-fresh session at hour 12", s, err, ErrExpired)
			a.logs.Reset()
			atkWantRejected(t, a.send(t, "/", "session="+fresh), "session")
			atkWantRejected(t, a.send(t, "/", "session="+v), "session")
			if recs := a.logs.rejections(t); len(recs) != 2 || !strings.Contains(fmt.Sprint(recs[0]["reason"]), "AbsoluteTimeout") {
				t.Errorf("rejection records: %v", recs)
			}
		}
	})
}

func TestAttack_MsgpackUnderValidSeal(t *testing.T) {
	e := atkNewEnv(t, Config{MaxLength: 64 << 10})
	now := e.c.unixNow()
	good := atkEnvelope(payloadVersion, now, atkKV{"user", atkMsgpack(t, "alice")})

	// Controls: the raw seal of a genuine envelope opens, compressed or not.
	padded := atkEnvelope(payloadVersion, now, atkKV{"pad", atkMsgpack(t, strings.Repeat("x", 500))}, atkKV{"user", atkMsgpack(t, "alice")})
	if deflate(padded)[0] != compressedMarker {
		t.Fatal("control: the envelope did not compress")
	}
	for _, tc := range []struct {
		payload []byte
		body    string
	}{{good, "len=1 user=alice"}, {padded, "len=2 user=alice"}, {deflate(padded), "len=2 user=alice"}} {
		v := atkSealRaw(t, e.c, tc.payload)
		if s, err := e.c.Decode(v); err != nil || GetOr(s, "user", "") != "alice" {
			t.Fatalf("control (compressed %v): %v, %v", tc.payload[0] == compressedMarker, s, err)
		}
		if r := e.send(t, "/", "session="+v); r.body != tc.body {
			t.Fatalf("control: middleware body %q, want %q", r.body, tc.body)
		}
	}

	var zeros bytes.Buffer
	zw, err := flate.NewWriter(&zeros, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(make([]byte, 10<<20)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	bomb := append([]byte{compressedMarker}, zeros.Bytes()...)
	// Just over the limit, and a genuine envelope padded past it.
	overLimit := deflateRaw(t, append(bytes.Clone(good), make([]byte, maxPayload+1-len(good))...))

	withData := func(kvs ...atkKV) []byte { return atkEnvelope(payloadVersion, now, kvs...) }
	hexv := func(s string) []byte { return atkHex(t, s) }
	wrongLen := append([]byte{0x9b}, good[1:]...)
	wrongLen = append(wrongLen, 0xc0)

	for _, tc := range []struct {
		name    string
		payload []byte
		ceiling uint64
	}{
		{"array32 of 2^32-1", hexv("dd ff ff ff ff"), 256 << 10},
		{"map32 of 2^32-1", hexv("df ff ff ff ff"), 256 << 10},
		{"str32 of 2^32-1", hexv("db ff ff ff ff"), 256 << 10},
		{"bin32 of 2^32-1", hexv("c6 ff ff ff ff"), 256 << 10},
		{"ext32 of 2^32-1", hexv("c9 ff ff ff ff 01"), 256 << 10},
		{"1000 x array16 of 65535", bytes.Repeat(hexv("dc ff ff"), 1000), 256 << 10},
		{"3000 nested arrays", append(bytes.Repeat([]byte{0x91}, 3000), 0x01), 256 << 10},
		{"never-used code c1", hexv("c1"), 256 << 10},
		{"never-used code inside a value", withData(atkKV{"a", hexv("91 c1")}), 256 << 10},
		{"fixstr truncated", hexv("a5 61 62"), 256 << 10},
		{"str8 truncated", hexv("d9 20 61 62"), 256 << 10},
		{"str16 truncated", hexv("da 01 00 61"), 256 << 10},
		{"string value truncated", good[:len(good)-4], 256 << 10},
		{"trailing byte", append(bytes.Clone(good), 0x00), 256 << 10},
		{"trailing envelope", append(bytes.Clone(good), good...), 256 << 10},
		{"fixext1 type 5", hexv("d4 05 00"), 256 << 10},
		{"fixext4 type 5 as a value", withData(atkKV{"a", hexv("d6 05 00 00 00 00")}), 256 << 10},
		{"ext8 type 5 as a value", withData(atkKV{"a", hexv("c7 01 05 00")}), 256 << 10},
		{"timestamp extension of 4 bytes in ext8", withData(atkKV{"a", hexv("c7 04 ff 00 00 00 01")}), 256 << 10},
		{"duplicate keys in the data map", withData(atkKV{"a", hexv("01")}, atkKV{"a", hexv("02")}), 256 << 10},
		{"data keys out of order", withData(atkKV{"b", hexv("01")}, atkKV{"a", hexv("02")}), 256 << 10},
		{"array32 inside a value", withData(atkKV{"a", hexv("dd ff ff ff ff")}), 256 << 10},
		{"33 nested arrays inside a value", withData(atkKV{"a", append(bytes.Repeat([]byte{0x91}, 33), 0x01)}), 256 << 10},
		{"map key that is an array", withData(atkKV{"a", hexv("81 91 01 02")}), 256 << 10},
		{"top-level array of 3", hexv("93 01 02 03"), 256 << 10},
		{"envelope of 11 fields", wrongLen, 256 << 10},
		{"envelope of 9 fields", append([]byte{0x99}, good[1:len(good)-1]...), 256 << 10},
		{"top-level map", hexv("81 a1 61 01"), 256 << 10},
		{"nil", hexv("c0"), 256 << 10},
		{"empty payload", nil, 256 << 10},
		{"envelope version 1 under v2 keys", atkEnvelope(1, now, atkKV{"user", atkMsgpack(t, "alice")}), 256 << 10},
		{"envelope version 3", atkEnvelope(3, now, atkKV{"user", atkMsgpack(t, "alice")}), 256 << 10},
		{"envelope version 0", atkEnvelope(0, now, atkKV{"user", atkMsgpack(t, "alice")}), 256 << 10},
		{"compressed bomb: 10 MB of zeros", bomb, 1 << 20},
		{"compressed: 64 KiB + 1 after inflating", overLimit, 1 << 20},
		{"compressed: truncated stream", bomb[:len(bomb)/2], 1 << 20},
		{"compressed: trailing bytes", append(deflate(good), 0x00), 1 << 20},
		{"compressed twice", deflateRaw(t, deflateRaw(t, good)), 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := atkSealRaw(t, e.c, tc.payload)
			s, err := e.c.Decode(v)
			atkWantErr(t, "Decode", s, err, ErrInvalid)
			if n := atkAllocs(func() { _, _ = e.c.Decode(v) }); n > tc.ceiling {
				t.Errorf("Decode allocated %d bytes, ceiling %d", n, tc.ceiling)
			}
			e.logs.Reset()
			atkWantRejected(t, e.send(t, "/", "session="+v), "session")
			if n := len(e.logs.rejections(t)); n != 1 {
				t.Errorf("%d rejection records, want 1", n)
			}
		})
	}
}

// deflateRaw is compressedMarker followed by the raw DEFLATE of p, whether
// or not that is shorter.
func deflateRaw(t *testing.T, p []byte) []byte {
	return lgRawDeflate(t, p, flate.BestCompression)
}

func TestAttack_LogNeverShowsValue(t *testing.T) {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	secret := "atkSecret" + hex.EncodeToString(rnd[:])
	const card = "4111111111111111"
	e := atkNewEnv(t, Config{Verify: func(s *Session) error {
		if GetOr(s, "user", "") == "mallory" {
			return errors.New("atk: account locked")
		}
		return nil
	}})
	mk := func(c *Codec, user string, expiry time.Duration) string {
		s := c.New()
		s.Set("user", user)
		s.Set("secret", secret)
		s.Set("card", card)
		if expiry != 0 {
			s.SetExpiry(expiry)
		}
		return mustEncode(t, c, s)
	}
	good := mk(e.c, "alice", 0)
	tampered := []byte(good)
	tampered[len(tampered)/2] ^= 0x01
	past, err := NewCodec(Config{Keys: e.c.keys, Now: func() time.Time { return e.clk.Now().Add(-time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	stranger, _ := newTestCodec(t, Config{Keys: newKeyring(t, "k9"), Now: e.clk.Now})

	e.logs.Reset()
	if r := e.send(t, "/", "session="+good); r.body != "len=3 user=alice" {
		t.Fatalf("control: body %q", r.body)
	}
	if n := len(e.logs.rejections(t)); n != 0 {
		t.Fatalf("control: a good cookie logged %d rejections", n)
	}

	for _, tc := range []struct {
		name  string
		value string
		kind  error
		keyID string // "" when the cookie is refused before its key ID is read
	}{
		{"tampered", string(tampered), ErrInvalid, "k1"},
		{"expired", mk(past, "alice", time.Minute), ErrExpired, "k1"},
		{"unknown key", mk(stranger, "alice", 0), ErrUnknownKey, "k9"},
		{"revoked by Verify", mk(e.c, "mallory", 0), ErrRevoked, "k1"},
		{"oversize", "k1." + strings.Repeat(secret, 4200/len(secret)+1), ErrTooLarge, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.logs.Reset()
			atkWantRejected(t, e.send(t, "/", "session="+tc.value), "session")
			recs := e.logs.rejections(t)
			if len(recs) != 1 {
				t.Fatalf("%d rejection records, want 1: %s", len(recs), e.logs.String())
			}
			rec := recs[0]
			reason, _ := rec["reason"].(string)
			if !strings.Contains(reason, tc.kind.Error()) {
				t.Errorf("reason %q does not name %v", reason, tc.kind)
			}
			if rec["cookie"] != "session" {
				t.Errorf("record names cookie %v", rec["cookie"])
			}
			if tc.keyID != "" && rec["key_id"] != tc.keyID {
				t.Errorf("record key_id = %v, want %q: %v", rec["key_id"], tc.keyID, rec)
			}
			if tc.keyID == "" && rec["key_id"] != nil {
				t.Errorf("record key_id = %v for a cookie refused before its key ID was read", rec["key_id"])
			}

			logged := e.logs.String()
			if strings.Contains(logged, tc.value) {
				t.Fatal("the log holds the cookie value")
			}
			_, sealed, _ := strings.Cut(tc.value, ".")
			for i := 0; i+12 <= len(sealed); i++ {
				if strings.Contains(logged, sealed[i:i+12]) {
					t.Fatalf("the log holds a piece of the cookie value: %q", sealed[i:i+12])
				}
			}
			for _, data := range []struct {
				s string
				w int // window
			}{{secret, 8}, {card, 8}, {"alice", 5}, {"mallory", 7}} {
				for i := 0; i+data.w <= len(data.s); i++ {
					if piece := data.s[i : i+data.w]; strings.Contains(logged, piece) {
						t.Fatalf("the log holds %q, a piece of the session data", piece)
					}
				}
			}
		})
	}
}

func TestAttack_Chunks(t *testing.T) {
	e := atkNewEnv(t, Config{MaxCookies: 4})
	big := func(user string) []*http.Cookie {
		var blob [4000]byte
		if _, err := rand.Read(blob[:]); err != nil {
			t.Fatal(err)
		}
		s := e.c.New()
		s.Set("user", user)
		s.Set("blob", base64.RawURLEncoding.EncodeToString(blob[:])) // ~5.3 KB
		cks, err := e.c.Cookies(s)
		if err != nil {
			t.Fatal(err)
		}
		var out []*http.Cookie
		for _, ck := range cks {
			if ck.Value != "" {
				out = append(out, &http.Cookie{Name: ck.Name, Value: ck.Value})
			}
		}
		return out
	}
	a, b := big("alice"), big("bob")
	if len(a) != 3 || len(b) != 3 {
		t.Fatalf("sessions span %d and %d cookies, want 3", len(a), len(b))
	}
	total := 0
	for _, ck := range a {
		total += len(ck.Value)
	}
	if total < 9000 {
		t.Fatalf("session is only %d bytes", total)
	}
	ck := func(name, value string) *http.Cookie { return &http.Cookie{Name: name, Value: value} }
	list := func(cks ...*http.Cookie) []*http.Cookie { return cks }
	first := a[0].Value
	_, rest, _ := strings.Cut(first, ":")
	forged := ck("session.1", strings.Repeat("A", len(a[1].Value)))
	small := atkSession(t, e.c, "carol")

	for _, tc := range []struct {
		name    string
		cookies []*http.Cookie
		want    error  // nil: opens, or no session at all when body is "len=0"
		body    string // for want == nil
	}{
		{"all chunks", a, nil, "len=2 user=alice"},
		{"all chunks, another order", list(a[2], a[0], a[1]), nil, "len=2 user=alice"},
		{"NAME.1 dropped", list(a[0], a[2]), ErrInvalid, ""},
		{"last chunk dropped", list(a[0], a[1]), ErrInvalid, ""},
		{"first cookie dropped", list(a[1], a[2]), nil, "len=0"},
		{"NAME.1 twice, forged copy first", list(a[0], forged, a[1], a[2]), ErrInvalid, ""},
		{"NAME.1 twice, genuine copy first", list(a[0], a[1], forged, a[2]), nil, "len=2 user=alice"},
		{"NAME.1 and NAME.2 swapped", list(a[0], ck("session.1", a[2].Value), ck("session.2", a[1].Value)), ErrInvalid, ""},
		{"last chunk from another session", list(a[0], a[1], b[2]), ErrInvalid, ""},
		{"first cookie from another session", list(b[0], a[1], a[2]), ErrInvalid, ""},
		{"extra chunk NAME.3", list(a[0], a[1], a[2], ck("session.3", "AAAA")), ErrInvalid, ""},
		{"extra chunk NAME.15", list(a[0], a[1], a[2], ck("session.15", "AAAA")), ErrInvalid, ""},
		{"stray NAME.1 next to a single cookie", list(ck("session", small), ck("session.1", "AAAA")), ErrInvalid, ""},
		{"count 2 of 3 chunks", list(ck("session", "2:"+rest), a[1], a[2]), ErrInvalid, ""},
		{"count 4 of 3 chunks", list(ck("session", "4:"+rest), a[1], a[2]), ErrInvalid, ""},
		{"count 5, over MaxCookies", list(ck("session", "5:"+rest), a[1], a[2]), ErrTooLarge, ""},
		{"count 17, over the hard cap", list(ck("session", "17:"+rest), a[1], a[2]), ErrTooLarge, ""},
		{"count 99", list(ck("session", "99:"+rest), a[1], a[2]), ErrTooLarge, ""},
		{"count 1", list(ck("session", "1:"+rest), a[1], a[2]), ErrInvalid, ""},
		{"count 03", list(ck("session", "03:"+rest), a[1], a[2]), ErrInvalid, ""},
		{"count -3", list(ck("session", "-3:"+rest), a[1], a[2]), ErrInvalid, ""},
		{"count missing", list(ck("session", rest), a[1], a[2]), ErrInvalid, ""},
		{"chunks over the total capacity", list(ck("session", "4:"+rest), ck("session.1", strings.Repeat("A", 4080)),
			ck("session.2", strings.Repeat("A", 4080)), ck("session.3", strings.Repeat("A", 4080)), ck("session.4", strings.Repeat("A", 4080))), ErrTooLarge, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := e.c.DecodeCookies(tc.cookies)
			var h []string
			var names []string
			seen := map[string]bool{}
			for _, c := range tc.cookies {
				h = append(h, c.Name+"="+c.Value)
				if !seen[c.Name] {
					seen[c.Name] = true
					names = append(names, c.Name)
				}
			}
			e.logs.Reset()
			r := e.send(t, "/", strings.Join(h, "; "))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("DecodeCookies: %v", err)
				}
				if got := fmt.Sprintf("len=%d", s.Len()); !strings.HasPrefix(tc.body, got) {
					t.Errorf("DecodeCookies: %s, want %s", got, tc.body)
				}
				if tc.body == "len=0" {
					atkWantRejected(t, r, names...) // stray chunks are deleted
					return
				}
				if r.status != http.StatusOK || r.body != tc.body {
					t.Errorf("middleware: %d %q, want %q", r.status, r.body, tc.body)
				}
				return
			}
			atkWantErr(t, "DecodeCookies", s, err, tc.want)
			atkWantRejected(t, r, names...)
			if n := len(e.logs.rejections(t)); n != 1 {
				t.Errorf("%d rejection records, want 1", n)
			}
		})
	}
}
