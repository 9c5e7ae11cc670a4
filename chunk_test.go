package cookiesession

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Shared helpers of chunk_test.go, compress_test.go and size_test.go. They
// carry the lg prefix so that they never clash with other test files.

// lgCartItem is one line of the LARGE session's cart.
type lgCartItem struct {
	SKU   string `msgpack:"sku"`
	Name  string `msgpack:"name"`
	Qty   int    `msgpack:"qty"`
	Price int    `msgpack:"price"` // cents
}

// lgFillSmall stores the SMALL session: a user mid two-factor login.
func lgFillSmall(s *Session) {
	s.Set("user_id", int64(42))
	s.Set("name", "Alice")
	s.Set("roles", []string{"admin", "editor"})
	s.Set("csrf", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
	s.Set("sms_code", "493817")
}

// lgFillLarge stores the LARGE session: 40 short keys with short string or
// integer values, and a 20-item cart.
func lgFillLarge(s *Session) {
	for i := 0; i < 40; i++ {
		var v any = fmt.Sprintf("value-%02d", i)
		if i%2 == 1 {
			v = int64(1000 + i)
		}
		s.Set(fmt.Sprintf("k%02d", i), v)
	}
	cart := make([]lgCartItem, 20)
	for i := range cart {
		cart[i] = lgCartItem{
			SKU:   fmt.Sprintf("SKU-%04d", 1000+i),
			Name:  fmt.Sprintf("Widget model %02d, blue", i),
			Qty:   1 + i%3,
			Price: 499 + 100*i,
		}
	}
	s.Set("cart", cart)
}

// lg10KBBlob is the length of the blob that makes the 10 KB session: its
// cookies take about 10 KB of name=value. (10,000 bytes of data would seal
// to about 17.8 KB, more than 4 cookies of 4096 bytes can carry.)
const lg10KBBlob = 5600

// lgFill10KB stores a session whose cookies take about 10 KB: a user ID and
// a pseudo-random printable blob.
func lgFill10KB(s *Session) {
	s.Set("user_id", int64(7))
	s.Set("blob", lgBlob(1, lg10KBBlob))
}

// lgBlob returns n pseudo-random bytes of the base64url alphabet, the same
// for the same seed.
func lgBlob(seed uint64, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// lgRandomBytes returns n pseudo-random bytes, the same for the same seed.
func lgRandomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0xb17e5))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// lgCodec returns a Codec for cfg (a fresh key "k1" and a test clock unless
// cfg says otherwise).
func lgCodec(t testing.TB, cfg Config) *Codec {
	t.Helper()
	c, _ := newTestCodec(t, cfg)
	return c
}

// lgRaws returns every key of s with the exact msgpack bytes of its value.
func lgRaws(s *Session) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	m := make(map[string]string, len(s.entries))
	for _, e := range s.entries {
		m[e.key] = string(e.raw)
	}
	return m
}

// lgSameData fails unless got holds exactly want's keys with byte-identical
// msgpack values.
func lgSameData(t testing.TB, got, want *Session) {
	t.Helper()
	g, w := lgRaws(got), lgRaws(want)
	if len(g) != len(w) {
		t.Fatalf("session has %d keys, want %d", len(g), len(w))
	}
	for k, v := range w {
		if g[k] != v {
			t.Fatalf("key %q: %d bytes of msgpack, want %d identical bytes", k, len(g[k]), len(v))
		}
	}
}

// lgSetCookies returns the cookies to set, without the deletion cookies.
func lgSetCookies(cks []*http.Cookie) []*http.Cookie {
	var out []*http.Cookie
	for _, ck := range cks {
		if ck.MaxAge >= 0 {
			out = append(out, ck)
		}
	}
	return out
}

// lgCookieBytes is the name=value length of cks, deletion cookies excluded.
func lgCookieBytes(cks []*http.Cookie) int {
	n := 0
	for _, ck := range lgSetCookies(cks) {
		n += len(ck.Name) + 1 + len(ck.Value)
	}
	return n
}

// lgMustCookies is Codec.Cookies that fails the test on error.
func lgMustCookies(t testing.TB, c *Codec, s *Session) []*http.Cookie {
	t.Helper()
	cks, err := c.Cookies(s)
	if err != nil {
		t.Fatalf("Cookies: %v", err)
	}
	return cks
}

// lgSealRaw seals payload exactly as Encode seals an envelope.
func lgSealRaw(t testing.TB, c *Codec, payload []byte) string {
	t.Helper()
	buf := slices.Clip(slices.Clone(payload))
	v, err := c.seal(c.keys.load().primary, buf, c.unixNow(), &buf)
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	return v
}

// lgUnseal verifies and decrypts a sealed value and returns the payload as
// sealed: compressed or not.
func lgUnseal(t testing.TB, c *Codec, v string) []byte {
	t.Helper()
	id, sealed, ok := strings.Cut(v, ".")
	if !ok {
		t.Fatalf("value %.20q... has no key ID", v)
	}
	k := c.keys.load().lookup(id)
	if k == nil {
		t.Fatalf("key %q is not in the keyring", id)
	}
	var buf []byte
	plain, _, err := unseal(k, c.namePipe, sealed, &buf, nil)
	if err != nil {
		t.Fatalf("unseal: %v", err)
	}
	return plain
}

// lgEnvelope is the payload Encode would seal for s now, uncompressed.
func lgEnvelope(c *Codec, s *Session) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	now := c.unixNow()
	return c.appendPayload(nil, s, now, c.deadline(s, now))
}

// lgLog is a goroutine-safe log sink.
type lgLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lgLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lgLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *lgLog) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Reset()
}

func (l *lgLog) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// lgResp is what a request returned.
type lgResp struct {
	status  int
	body    string
	cookies []*http.Cookie // parsed Set-Cookie lines
	raw     []string       // raw Set-Cookie lines
}

// lgDo sends a GET for target with cl and the given Cookie header (none if
// empty).
func lgDo(t *testing.T, cl *http.Client, target, cookieHeader string) lgResp {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookieHeader != "" {
		req.Header.Set("Cookie", cookieHeader)
	}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", target, err)
	}
	return lgResp{resp.StatusCode, string(body), resp.Cookies(), resp.Header.Values("Set-Cookie")}
}

// lgNames returns the sorted names of cks.
func lgNames(cks []*http.Cookie) []string {
	var out []string
	for _, ck := range cks {
		out = append(out, ck.Name)
	}
	sort.Strings(out)
	return out
}

// lgChunkNames returns the sorted names NAME, NAME.1, ... NAME.(n-1).
func lgChunkNames(name string, n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		if i == 0 {
			out = append(out, name)
		} else {
			out = append(out, name+"."+strconv.Itoa(i))
		}
	}
	sort.Strings(out)
	return out
}

// lgHeader renders cookies as a Cookie request header, in order.
func lgHeader(cks []*http.Cookie) string {
	var parts []string
	for _, ck := range cks {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; ")
}

// --- Tests -----------------------------------------------------------------

// TestChunk_RoundTripOverHTTP drives the middleware with MaxCookies 4
// through a TLS loopback server and a cookie-jar client: a 10 KB session is
// set over three cookies, read back byte for byte, shrunk to one cookie (the
// chunks are deleted on that same response), grown again, refused when too
// large (old cookies stay) and flushed (every chunk deleted).
func TestChunk_RoundTripOverHTTP(t *testing.T) {
	var logs lgLog
	c := lgCodec(t, Config{MaxCookies: 4, Logger: logs.logger()})
	big := lgBlob(1, lg10KBBlob)
	medium := lgBlob(2, 2500)
	huge := lgBlob(3, 10000) // seals to about 17.8 KB: needs 5 cookies
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		s.Set("user_id", int64(7))
		s.Set("blob", big)
	})
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, GetOr(FromContext(r.Context()), "blob", "<none>"))
	})
	mux.HandleFunc("/set/{what}", func(w http.ResponseWriter, r *http.Request) {
		v := map[string]string{"tiny": "tiny", "medium": medium, "big": big, "huge": huge}[r.PathValue("what")]
		FromContext(r.Context()).Set("blob", v)
	})
	mux.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Flush()
	})
	srv := httptest.NewTLSServer(c.Middleware(mux))
	defer srv.Close()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := srv.Client()
	cl.Jar = jar
	base, _ := url.Parse(srv.URL)
	jarNames := func() []string { return lgNames(jar.Cookies(base)) }
	jarValues := func() map[string]string {
		m := map[string]string{}
		for _, ck := range jar.Cookies(base) {
			m[ck.Name] = ck.Value
		}
		return m
	}
	// checkSet verifies the sealed cookies of a response: names NAME..NAME.(n-1),
	// each within 4096 bytes, all with the same attributes.
	checkSet := func(step string, r lgResp, n int) {
		t.Helper()
		set := lgSetCookies(r.cookies)
		if got, want := lgNames(set), lgChunkNames("session", n); !slices.Equal(got, want) {
			t.Fatalf("%s: sets %v, want %v (Set-Cookie: %q)", step, got, want, r.raw)
		}
		for _, ck := range set {
			if l := len(ck.Name) + 1 + len(ck.Value); l > 4096 {
				t.Errorf("%s: %s is %d bytes of name=value, over 4096", step, ck.Name, l)
			}
			if ck.Path != "/" || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode ||
				ck.MaxAge != int(DefaultMaxAge.Seconds()) || ck.Domain != "" {
				t.Errorf("%s: %s has attributes Path=%q HttpOnly=%v Secure=%v SameSite=%v Max-Age=%d Domain=%q",
					step, ck.Name, ck.Path, ck.HttpOnly, ck.Secure, ck.SameSite, ck.MaxAge, ck.Domain)
			}
		}
	}
	checkDeleted := func(step string, r lgResp, names ...string) {
		t.Helper()
		var got []string
		for _, ck := range r.cookies {
			if ck.MaxAge < 0 {
				got = append(got, ck.Name)
				if ck.Value != "" || ck.Path != "/" || !ck.Secure || !ck.HttpOnly {
					t.Errorf("%s: deletion of %s: %q", step, ck.Name, ck.String())
				}
			}
		}
		sort.Strings(got)
		sort.Strings(names)
		if !slices.Equal(got, names) {
			t.Fatalf("%s: deletes %v, want %v (Set-Cookie: %q)", step, got, names, r.raw)
		}
	}
	read := func(step, want string) {
		t.Helper()
		r := lgDo(t, cl, srv.URL+"/read", "")
		if r.status != http.StatusOK || r.body != want {
			t.Fatalf("%s: /read: status %d, %d bytes, want %d bytes", step, r.status, len(r.body), len(want))
		}
		if len(r.raw) != 0 {
			t.Fatalf("%s: /read of an unchanged session sets cookies: %q", step, r.raw)
		}
	}

	r := lgDo(t, cl, srv.URL+"/login", "")
	checkSet("login", r, 3)
	checkDeleted("login", r)
	if got := jarNames(); !slices.Equal(got, lgChunkNames("session", 3)) {
		t.Fatalf("after login the jar holds %v", got)
	}
	total := lgCookieBytes(r.cookies)
	t.Logf("10 KB session: %d bytes of name=value over 3 cookies", total)
	if total < 9500 || total > 10500 {
		t.Errorf("the 10 KB session takes %d bytes of cookies", total)
	}
	read("after login", big)

	r = lgDo(t, cl, srv.URL+"/set/medium", "")
	checkSet("medium", r, 2)
	checkDeleted("medium", r, "session.2")
	if got := jarNames(); !slices.Equal(got, lgChunkNames("session", 2)) {
		t.Fatalf("after medium the jar holds %v", got)
	}
	read("after medium", medium)

	r = lgDo(t, cl, srv.URL+"/set/tiny", "")
	checkSet("shrink", r, 1)
	checkDeleted("shrink", r, "session.1")
	if got := jarNames(); !slices.Equal(got, []string{"session"}) {
		t.Fatalf("after shrinking the jar holds %v", got)
	}
	if v := jarValues()["session"]; strings.Contains(v, ":") {
		t.Fatalf("a one-cookie session carries a count prefix: %.10q", v)
	}
	read("after shrink", "tiny")

	r = lgDo(t, cl, srv.URL+"/set/big", "")
	checkSet("grow", r, 3)
	checkDeleted("grow", r)
	if got := jarNames(); !slices.Equal(got, lgChunkNames("session", 3)) {
		t.Fatalf("after growing the jar holds %v", got)
	}
	read("after grow", big)

	before := jarValues()
	logs.Reset()
	r = lgDo(t, cl, srv.URL+"/set/huge", "")
	if r.status != http.StatusOK || len(r.raw) != 0 {
		t.Fatalf("too large: status %d, Set-Cookie %q; want 200 and no cookie", r.status, r.raw)
	}
	if l := logs.String(); !strings.Contains(l, "session not saved") || !strings.Contains(l, "session too large") || !strings.Contains(l, `\"blob\"`) {
		t.Fatalf("too large: log %q does not say the session was not saved and why", l)
	}
	if after := jarValues(); len(after) != 3 || after["session"] != before["session"] ||
		after["session.1"] != before["session.1"] || after["session.2"] != before["session.2"] {
		t.Fatalf("too large: the old cookies did not stay")
	}
	read("after too large", big)

	r = lgDo(t, cl, srv.URL+"/flush", "")
	checkSet("flush", r, 0)
	checkDeleted("flush", r, "session", "session.1", "session.2")
	if got := jarNames(); len(got) != 0 {
		t.Fatalf("after flush the jar holds %v", got)
	}
	read("after flush", "<none>")
}

// TestChunk_CookiesAttributesAndDeletions checks Codec.Cookies: chunk
// cookies with the template's attributes, then deletions for every unused
// chunk name up to MaxCookies.
func TestChunk_CookiesAttributesAndDeletions(t *testing.T) {
	c := lgCodec(t, Config{MaxCookies: 4, Path: "/app", Domain: "example.com", SameSite: http.SameSiteStrictMode})
	for _, tc := range []struct {
		name string
		fill func(*Session)
		used int
	}{
		{"empty", func(*Session) {}, 0},
		{"SMALL", lgFillSmall, 1},
		{"medium", func(s *Session) { s.Set("blob", lgBlob(2, 2500)) }, 2},
		{"10KB", lgFill10KB, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := c.New()
			tc.fill(s)
			cks := lgMustCookies(t, c, s)
			if len(cks) != 4 {
				t.Fatalf("Cookies returned %d cookies, want 4 (every chunk name)", len(cks))
			}
			for i, ck := range cks {
				if want := c.chunkName(i); ck.Name != want {
					t.Errorf("cookie %d is %q, want %q", i, ck.Name, want)
				}
				if ck.Path != "/app" || ck.Domain != "example.com" || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
					t.Errorf("%s: attributes %q", ck.Name, ck.String())
				}
				if i < tc.used {
					if ck.Value == "" || ck.MaxAge != int(DefaultMaxAge.Seconds()) {
						t.Errorf("%s: value %d bytes, Max-Age %d", ck.Name, len(ck.Value), ck.MaxAge)
					}
					if l := len(ck.Name) + 1 + len(ck.Value); l > c.maxLength {
						t.Errorf("%s: %d bytes of name=value, over %d", ck.Name, l, c.maxLength)
					}
					if prefix := strconv.Itoa(tc.used) + ":"; i == 0 && tc.used > 1 != strings.HasPrefix(ck.Value, prefix) {
						t.Errorf("%s: value starts %.4q; count prefix %q expected: %v", ck.Name, ck.Value, prefix, tc.used > 1)
					}
				} else if ck.Value != "" || ck.MaxAge >= 0 || !strings.Contains(ck.String(), "Max-Age=0") {
					t.Errorf("%s: want a deletion cookie, got %q", ck.Name, ck.String())
				}
			}
			if tc.used == 0 {
				return
			}
			got, err := c.DecodeCookies(lgSetCookies(cks))
			if err != nil {
				t.Fatalf("DecodeCookies: %v", err)
			}
			lgSameData(t, got, s)
		})
	}
}

// TestChunk_TooManyCookies: a session that needs more than MaxCookies
// cookies is ErrTooLarge from Encode, Cookies and Cookie, naming the key.
func TestChunk_TooManyCookies(t *testing.T) {
	c := lgCodec(t, Config{MaxCookies: 4})
	s := c.New()
	s.Set("blob", lgBlob(3, 10000))
	if v, err := c.Encode(s); !errors.Is(err, ErrTooLarge) || v != "" || !strings.Contains(err.Error(), `"blob"`) {
		t.Fatalf("Encode: %d bytes, %v; want ErrTooLarge naming \"blob\"", len(v), err)
	}
	if cks, err := c.Cookies(s); !errors.Is(err, ErrTooLarge) || cks != nil {
		t.Fatalf("Cookies: %d cookies, %v; want ErrTooLarge", len(cks), err)
	}
	if ck, err := c.Cookie(s); !errors.Is(err, ErrTooLarge) || ck != nil {
		t.Fatalf("Cookie: %v, %v; want ErrTooLarge", ck, err)
	}
	if s.Room() >= 0 {
		t.Fatalf("Room() = %d for a session that does not fit", s.Room())
	}
	// The same session fits in 5 cookies.
	c5 := lgCodec(t, Config{MaxCookies: 5, Keys: c.keys})
	if cks := lgMustCookies(t, c5, s); len(lgSetCookies(cks)) != 5 {
		t.Fatalf("with MaxCookies 5 the session takes %d cookies, want 5", len(lgSetCookies(cks)))
	}
}

// TestChunk_MaxCookiesValidation: 0 means 1, 1 to 16 are accepted, the rest
// refused.
func TestChunk_MaxCookiesValidation(t *testing.T) {
	kr := newKeyring(t, "k1")
	for _, n := range []int{-1, 17, 100} {
		if c, err := NewCodec(Config{Keys: kr, MaxCookies: n}); err == nil || c != nil || !strings.Contains(err.Error(), "MaxCookies") {
			t.Errorf("MaxCookies %d: %v, %v; want an error naming MaxCookies", n, c, err)
		}
	}
	for _, n := range []int{0, 1, 2, 16} {
		c, err := NewCodec(Config{Keys: kr, MaxCookies: n})
		if err != nil {
			t.Fatalf("MaxCookies %d: %v", n, err)
		}
		if want := max(n, 1); c.chunks != want || c.capacity() != want*DefaultMaxLength {
			t.Errorf("MaxCookies %d: %d chunks, capacity %d", n, c.chunks, c.capacity())
		}
	}
	// MaxCookies 0 behaves as 1: a session needing two cookies is too large.
	c, _ := NewCodec(Config{Keys: kr})
	s := c.New()
	s.Set("blob", lgBlob(2, 2500))
	if _, err := c.Encode(s); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("MaxCookies 0: Encode of a two-cookie session: %v, want ErrTooLarge", err)
	}
	if cks, err := c.Cookies(lgDecoded(t, c, lgSmall(c))); err != nil || len(cks) != 1 || cks[0].Name != "session" {
		t.Fatalf("MaxCookies 0: Cookies of SMALL: %v, %v; want one cookie", lgNames(cks), err)
	}
}

// lgSmall returns a new SMALL session of c.
func lgSmall(c *Codec) *Session {
	s := c.New()
	lgFillSmall(s)
	return s
}

// lgDecoded round-trips s through Encode and Decode.
func lgDecoded(t testing.TB, c *Codec, s *Session) *Session {
	t.Helper()
	return mustRoundTrip(t, c, s)
}

// TestChunk_CookieRefusesMultiCookieSession: the singular Cookie works for a
// session that fits in one cookie and refuses one that does not, pointing at
// Cookies.
func TestChunk_CookieRefusesMultiCookieSession(t *testing.T) {
	c := lgCodec(t, Config{MaxCookies: 4})
	s := c.New()
	lgFill10KB(s)
	ck, err := c.Cookie(s)
	if !errors.Is(err, ErrTooLarge) || ck != nil || !strings.Contains(err.Error(), "Codec.Cookies") {
		t.Fatalf("Cookie of a 3-cookie session: %v, %v; want ErrTooLarge telling to use Codec.Cookies", ck, err)
	}
	small := lgSmall(c)
	ck, err = c.Cookie(small)
	if err != nil || ck.Name != "session" || strings.Contains(ck.Value, ":") {
		t.Fatalf("Cookie of SMALL: %v, %v", ck, err)
	}
	got, err := c.DecodeCookies([]*http.Cookie{ck})
	if err != nil {
		t.Fatal(err)
	}
	lgSameData(t, got, small)
	// Cookie of an empty session is a deletion of NAME.
	if ck, err = c.Cookie(c.New()); err != nil || ck.MaxAge >= 0 || ck.Name != "session" {
		t.Fatalf("Cookie of an empty session: %v, %v", ck, err)
	}
}

// TestChunk_DecodeCookiesOrderAndNoise: names carry the order, so shuffled
// cookies open; unrelated cookies are ignored; no session cookie at all is a
// new empty session.
func TestChunk_DecodeCookiesOrderAndNoise(t *testing.T) {
	c := lgCodec(t, Config{MaxCookies: 4})
	s := c.New()
	lgFill10KB(s)
	set := lgSetCookies(lgMustCookies(t, c, s))
	if len(set) != 3 {
		t.Fatalf("10 KB session takes %d cookies, want 3", len(set))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20; i++ {
		cks := append(slices.Clone(set), &http.Cookie{Name: "other", Value: "x"}, &http.Cookie{Name: "session.x", Value: "y"})
		r.Shuffle(len(cks), func(i, j int) { cks[i], cks[j] = cks[j], cks[i] })
		got, err := c.DecodeCookies(cks)
		if err != nil {
			t.Fatalf("order %v: %v", lgNames(cks), err)
		}
		lgSameData(t, got, s)
	}
	for _, cks := range [][]*http.Cookie{nil, {}, {{Name: "other", Value: "1"}, {Name: "Session", Value: "2"}}} {
		got, err := c.DecodeCookies(cks)
		if err != nil || got == nil || got.Len() != 0 || got.Modified() || got.Size() != 0 {
			t.Fatalf("DecodeCookies(%v): %v, %v; want a new empty session", lgNames(cks), got, err)
		}
		got.Set("a", 1)
		if _, err := c.Encode(got); err != nil {
			t.Fatal(err)
		}
	}
}

// TestChunk_MaxCookiesOneIgnoresChunkCookies: with MaxCookies 1, NAME.i
// cookies are not the session's at all: never read, never deleted.
func TestChunk_MaxCookiesOneIgnoresChunkCookies(t *testing.T) {
	kr := newKeyring(t, "k1")
	c1 := lgCodec(t, Config{Keys: kr})
	c4 := lgCodec(t, Config{Keys: kr, MaxCookies: 4})
	s := lgSmall(c1)
	v := mustEncode(t, c1, s)
	junk := []*http.Cookie{{Name: "session", Value: v}, {Name: "session.1", Value: "junk"}, {Name: "session.2", Value: v}, {Name: "session.15", Value: ""}}
	got, err := c1.DecodeCookies(junk)
	if err != nil {
		t.Fatalf("MaxCookies 1 with stray chunk cookies: %v", err)
	}
	lgSameData(t, got, s)
	// The same cookies under MaxCookies 4: chunks beyond a one-cookie session.
	if _, err := c4.DecodeCookies(junk); !errors.Is(err, ErrInvalid) {
		t.Fatalf("MaxCookies 4 with chunks beyond a one-cookie session: %v, want ErrInvalid", err)
	}
	// A chunked session does not open under MaxCookies 1: it spans too many.
	big := c4.New()
	lgFill10KB(big)
	set := lgSetCookies(lgMustCookies(t, c4, big))
	if _, err := c1.DecodeCookies(set); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("MaxCookies 1 reading a 3-cookie session: %v, want ErrTooLarge", err)
	}

	// Through the middleware: the chunk cookies are neither read nor deleted.
	var logs lgLog
	c1.logger = logs.logger()
	srv := httptest.NewServer(c1.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		s.Set("seen", true) // before the body: the cookie goes out with the headers
		io.WriteString(w, GetOr(s, "name", "<none>"))
	})))
	defer srv.Close()
	resp := lgDo(t, srv.Client(), srv.URL, lgHeader(junk))
	if resp.body != "Alice" {
		t.Fatalf("middleware with MaxCookies 1: body %q, want Alice (log %q)", resp.body, logs.String())
	}
	if got := lgNames(resp.cookies); !slices.Equal(got, []string{"session"}) {
		t.Fatalf("middleware with MaxCookies 1 sets %v, want only session", got)
	}
}

// lgTamperCase is one way of sending a chunked session's cookies.
type lgTamperCase struct {
	name string
	cks  []*http.Cookie
	want error // nil: opens as session A; errEmpty: a new empty session
}

// errLgEmpty marks a case that yields a new, empty session without error.
var errLgEmpty = errors.New("empty session")

// lgTamperCases builds the chunk-tampering cases from two 3-cookie sessions
// A and B of the same codec, and a one-cookie session O.
func lgTamperCases(a, b []*http.Cookie, o string) []lgTamperCase {
	ck := func(name, value string) *http.Cookie { return &http.Cookie{Name: name, Value: value} }
	a0, a1, a2 := a[0].Value, a[1].Value, a[2].Value
	b0, b2 := b[0].Value, b[2].Value
	body0 := strings.TrimPrefix(a0, "3:")
	list := func(cs ...*http.Cookie) []*http.Cookie { return cs }
	withFirst := func(first string) []*http.Cookie {
		return list(ck("session", first), ck("session.1", a1), ck("session.2", a2))
	}
	flip := []byte(a2)
	flip[len(flip)/2] ^= 'A' ^ 'B'
	cases := []lgTamperCase{
		{"intact", list(ck("session", a0), ck("session.1", a1), ck("session.2", a2)), nil},
		{"reversed order", list(ck("session.2", a2), ck("session.1", a1), ck("session", a0)), nil},
		{"identical duplicate of a chunk", list(ck("session", a0), ck("session.1", a1), ck("session.2", a2), ck("session.1", a1)), nil},
		{"chunk index beyond the hard cap is not a chunk", list(ck("session", a0), ck("session.1", a1), ck("session.2", a2), ck("session.16", "x")), nil},
		{"non-canonical chunk index is not a chunk", list(ck("session", a0), ck("session.1", a1), ck("session.2", a2), ck("session.03", "x"), ck("session.+3", "x")), nil},
		{"drop the first cookie", list(ck("session.1", a1), ck("session.2", a2)), errLgEmpty},
		{"drop a middle chunk", list(ck("session", a0), ck("session.2", a2)), ErrInvalid},
		{"drop the last chunk", list(ck("session", a0), ck("session.1", a1)), ErrInvalid},
		{"foreign duplicate of a chunk sent first", list(ck("session", a0), ck("session.1", b[1].Value), ck("session.1", a1), ck("session.2", a2)), ErrInvalid},
		{"chunk 1 duplicated into chunk 2", list(ck("session", a0), ck("session.1", a1), ck("session.2", a1)), ErrInvalid},
		{"swap chunks 1 and 2", list(ck("session", a0), ck("session.1", a2), ck("session.2", a1)), ErrInvalid},
		{"swap the first body and chunk 1", list(ck("session", "3:"+a1), ck("session.1", body0), ck("session.2", a2)), ErrInvalid},
		{"last chunk from another session", list(ck("session", a0), ck("session.1", a1), ck("session.2", b2)), ErrInvalid},
		{"first cookie from another session", list(ck("session", b0), ck("session.1", a1), ck("session.2", a2)), ErrInvalid},
		{"one bit flipped in a chunk", list(ck("session", a0), ck("session.1", a1), ck("session.2", string(flip))), ErrInvalid},
		{"extra chunk beyond the count", list(ck("session", a0), ck("session.1", a1), ck("session.2", a2), ck("session.3", "x")), ErrInvalid},
		{"extra empty chunk beyond the count", list(ck("session", a0), ck("session.1", a1), ck("session.2", a2), ck("session.3", "")), ErrInvalid},
		{"extra chunk 15", list(ck("session", a0), ck("session.1", a1), ck("session.2", a2), ck("session.15", a2)), ErrInvalid},
		{"count 1:", withFirst("1:" + body0), ErrInvalid},
		{"count 0:", withFirst("0:" + body0), ErrInvalid},
		{"count 03:", withFirst("03:" + body0), ErrInvalid},
		{"count 01:", withFirst("01:" + body0), ErrInvalid},
		{"count -3:", withFirst("-3:" + body0), ErrInvalid},
		{"count +3:", withFirst("+3:" + body0), ErrInvalid},
		{"count empty", withFirst(":" + body0), ErrInvalid},
		{"count x:", withFirst("x:" + body0), ErrInvalid},
		{"count ab:", withFirst("ab:" + body0), ErrInvalid},
		{"count abc:", withFirst("abc:" + body0), ErrInvalid},
		{"count 2: (one too few)", withFirst("2:" + body0), ErrInvalid},
		{"count 4: (one too many)", withFirst("4:" + body0), ErrInvalid},
		{"count 5: (over MaxCookies)", withFirst("5:" + body0), ErrTooLarge},
		{"count 16:", withFirst("16:" + body0), ErrTooLarge},
		{"count 99:", withFirst("99:" + body0), ErrTooLarge},
		{"count prefix removed", withFirst(body0), ErrInvalid},
		{"count prefix doubled", withFirst("3:" + a0), ErrInvalid},
		{"re-partitioned chunk boundaries (same bytes)", list(ck("session", a0), ck("session.1", a1[:len(a1)-10]), ck("session.2", a1[len(a1)-10:]+a2)), nil},
		{"one-cookie session with a count", list(ck("session", "2:"+o)), ErrInvalid},
		{"one-cookie session with a stray chunk", list(ck("session", o), ck("session.1", a1)), ErrInvalid},
		{"oversized chunk", list(ck("session", a0), ck("session.1", strings.Repeat("A", 20000)), ck("session.2", a2)), ErrTooLarge},
	}
	return cases
}

// lgTamperSetup returns a MaxCookies-4 codec, the cookies of two 3-cookie
// sessions and the value of a one-cookie one.
func lgTamperSetup(t *testing.T, cfg Config) (c *Codec, sa *Session, a, b []*http.Cookie, o string) {
	t.Helper()
	cfg.MaxCookies = 4
	c = lgCodec(t, cfg)
	sa = c.New()
	lgFill10KB(sa)
	sb := c.New()
	sb.Set("user_id", int64(8))
	sb.Set("blob", lgBlob(9, lg10KBBlob))
	a = lgSetCookies(lgMustCookies(t, c, sa))
	b = lgSetCookies(lgMustCookies(t, c, sb))
	if len(a) != 3 || len(b) != 3 || !strings.HasPrefix(a[0].Value, "3:") {
		t.Fatalf("setup: sessions take %d and %d cookies, want 3", len(a), len(b))
	}
	return c, sa, a, b, mustEncode(t, c, lgSmall(c))
}

// TestChunk_TamperingDecodeCookies: every tampering case yields its typed
// error (or, where harmless, the intact session), never a panic and never
// another session's data.
func TestChunk_TamperingDecodeCookies(t *testing.T) {
	c, sa, a, b, o := lgTamperSetup(t, Config{})
	for _, tc := range lgTamperCases(a, b, o) {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.DecodeCookies(tc.cks)
			switch tc.want {
			case nil:
				if err != nil {
					t.Fatalf("DecodeCookies: %v, want the session", err)
				}
				lgSameData(t, got, sa)
			case errLgEmpty:
				if err != nil || got == nil || got.Len() != 0 {
					t.Fatalf("DecodeCookies: %v, %v; want a new empty session", got, err)
				}
			default:
				if !errors.Is(err, tc.want) || got != nil {
					t.Fatalf("DecodeCookies: %v, %v; want %v", got, err, tc.want)
				}
				for _, other := range []error{ErrInvalid, ErrTooLarge, ErrExpired, ErrUnknownKey} {
					if other != tc.want && errors.Is(err, other) {
						t.Fatalf("error %v is also %v", err, other)
					}
				}
			}
		})
	}
}

// TestChunk_TamperingMiddleware sends every tampering case to a real
// server: the handler sees the session only when it is intact, the
// rejection is logged with its kind, and the response deletes every session
// cookie the request carried.
func TestChunk_TamperingMiddleware(t *testing.T) {
	var logs lgLog
	c, sa, a, b, o := lgTamperSetup(t, Config{Logger: logs.logger()})
	wantBlob := lgRaws(sa)["blob"]
	srv := httptest.NewServer(c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		if got := lgRaws(s); len(got) == 0 {
			io.WriteString(w, "empty")
		} else if got["blob"] == wantBlob && len(got) == 2 {
			io.WriteString(w, "A")
		} else {
			io.WriteString(w, "other")
		}
	})))
	defer srv.Close()
	for _, tc := range lgTamperCases(a, b, o) {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			r := lgDo(t, srv.Client(), srv.URL, lgHeader(tc.cks))
			if r.status != http.StatusOK {
				t.Fatalf("status %d", r.status)
			}
			if tc.want == nil {
				if r.body != "A" || len(r.raw) != 0 {
					t.Fatalf("body %q, Set-Cookie %q; want the intact session and no cookie (log %q)", r.body, r.raw, logs.String())
				}
				return
			}
			if r.body != "empty" {
				t.Fatalf("body %q, want an empty session", r.body)
			}
			// Every session cookie sent (NAME and canonical NAME.1..15) is deleted.
			var sent []string
			for _, ck := range tc.cks {
				_, err := strconv.Atoi(strings.TrimPrefix(ck.Name, "session."))
				idx, _ := strconv.Atoi(strings.TrimPrefix(ck.Name, "session."))
				if ck.Name == "session" || err == nil && idx >= 1 && idx < 16 && ck.Name == "session."+strconv.Itoa(idx) {
					if !slices.Contains(sent, ck.Name) {
						sent = append(sent, ck.Name)
					}
				}
			}
			sort.Strings(sent)
			var deleted []string
			for _, ck := range r.cookies {
				if ck.MaxAge >= 0 {
					t.Fatalf("sets %s on a rejected session", ck.Name)
				}
				deleted = append(deleted, ck.Name)
			}
			sort.Strings(deleted)
			if !slices.Equal(deleted, sent) {
				t.Fatalf("deletes %v, want %v", deleted, sent)
			}
			if tc.want == errLgEmpty {
				return
			}
			l := logs.String()
			if !strings.Contains(l, "session cookie rejected") || !strings.Contains(l, tc.want.Error()) {
				t.Fatalf("log %q does not record a %v rejection", l, tc.want)
			}
			for _, ck := range tc.cks {
				if len(ck.Value) > 16 && strings.Contains(l, ck.Value[2:18]) {
					t.Fatalf("log carries a cookie value")
				}
			}
		})
	}
}

// TestChunk_TamperingRandom mutates the chunk set at random: DecodeCookies
// either returns session A exactly or a typed error, and never panics.
func TestChunk_TamperingRandom(t *testing.T) {
	c, sa, a, b, o := lgTamperSetup(t, Config{})
	sb, err := c.DecodeCookies(b)
	if err != nil {
		t.Fatal(err)
	}
	pool := append(slices.Clone(a), b...)
	pool = append(pool, &http.Cookie{Name: "session", Value: o}, &http.Cookie{Name: "session.3", Value: a[1].Value},
		&http.Cookie{Name: "session", Value: "2:" + a[2].Value})
	r := rand.New(rand.NewPCG(7, 7))
	opened := 0
	for i := 0; i < 3000; i++ {
		n := 1 + r.IntN(5)
		cks := make([]*http.Cookie, n)
		for j := range cks {
			p := pool[r.IntN(len(pool))]
			ck := &http.Cookie{Name: p.Name, Value: p.Value}
			switch r.IntN(6) {
			case 0: // rename to another chunk index
				ck.Name = c.chunkName(r.IntN(5))
			case 1: // cut the value
				ck.Value = ck.Value[:r.IntN(len(ck.Value)+1)]
			case 2: // change the count prefix
				ck.Value = strconv.Itoa(r.IntN(20)) + ":" + ck.Value[min(2, len(ck.Value)):]
			}
			cks[j] = ck
		}
		got, err := c.DecodeCookies(cks)
		switch {
		case err == nil && got.Len() == 0:
		case err == nil:
			opened++
			if raws := lgRaws(got); raws["blob"] != lgRaws(sa)["blob"] && raws["blob"] != lgRaws(sb)["blob"] && raws["name"] != "\xa5Alice" {
				t.Fatalf("case %d (%v) opened into a session that is none of A, B, O", i, lgNames(cks))
			}
		case errors.Is(err, ErrInvalid), errors.Is(err, ErrTooLarge):
			if got != nil {
				t.Fatalf("case %d: a session and an error", i)
			}
		default:
			t.Fatalf("case %d (%v): untyped error %v", i, lgNames(cks), err)
		}
	}
	t.Logf("3000 random chunk sets: %d opened", opened)
}

// TestChunk_SameNameCookiesShareNoBudget: a request may carry several
// cookies named NAME (set under another Path or Domain, or left by an older
// deployment); DecodeCookies and the middleware use the first that opens,
// and each candidate is held to the session limit on its own: their
// lengths are not added up.
func TestChunk_SameNameCookiesShareNoBudget(t *testing.T) {
	for _, tc := range []struct {
		chunks, blob int
	}{{1, 2000}, {4, lg10KBBlob}} {
		t.Run(fmt.Sprintf("MaxCookies=%d", tc.chunks), func(t *testing.T) {
			c := lgCodec(t, Config{MaxCookies: tc.chunks})
			other := lgCodec(t, Config{MaxCookies: tc.chunks}) // another key
			cur := c.New()
			cur.Set("blob", lgBlob(5, tc.blob))
			set := lgSetCookies(lgMustCookies(t, c, cur))
			stale := other.New()
			stale.Set("blob", lgBlob(6, 2000))
			vStale := mustEncode(t, other, stale) // one cookie, does not open here
			old := c.New()
			old.Set("blob", lgBlob(4, 2000))
			vOld := mustEncode(t, c, old) // one cookie, opens here when alone

			staleFirst := []*http.Cookie{{Name: "session", Value: vStale}, {Name: "session", Value: vStale}}
			staleFirst = append(staleFirst, set...)
			curFirst := slices.Clone(set[:1])
			for range maxCookieTries - 1 {
				curFirst = append(curFirst, &http.Cookie{Name: "session", Value: vOld})
			}
			curFirst = append(curFirst, set[1:]...)
			for name, cks := range map[string][]*http.Cookie{"stale cookies first": staleFirst, "current first": curFirst} {
				sum := 0
				for _, ck := range cks {
					sum += len(ck.Value)
				}
				if sum <= c.capacity() {
					t.Fatalf("%s: setup: %d bytes of cookies, want more than %d", name, sum, c.capacity())
				}
				got, err := c.DecodeCookies(cks)
				if err != nil {
					t.Fatalf("%s: DecodeCookies: %v", name, err)
				}
				lgSameData(t, got, cur)
			}
			// Through the middleware.
			srv := httptest.NewServer(c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, GetOr(FromContext(r.Context()), "blob", "<none>"))
			})))
			defer srv.Close()
			if r := lgDo(t, srv.Client(), srv.URL, lgHeader(staleFirst)); r.body != lgBlob(5, tc.blob) {
				t.Fatalf("middleware: %d bytes of blob (%.40q), want the current session", len(r.body), r.body)
			}
		})
	}
}
