package cookiesession

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Chunk vectors (FORMAT.md §6): the `chunked` and `chunk_cases` sections of
// testdata/vectors.json. format_test.go writes them with -update, from
// wfChunkVectors below; TestChunkVectors checks them.

// wfChunkVector is the canonical split of a vector's cookie.
type wfChunkVector struct {
	Name       string     `json:"name"`
	Vector     string     `json:"vector"` // whose key, cookie name, clock and cookie to use
	MaxLength  int        `json:"max_length"`
	MaxCookies int        `json:"max_cookies"`
	Cookies    []wfCookie `json:"cookies"`
}

// wfCookie is one cookie of a request or a response.
type wfCookie struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// wfChunkCase is a request's session cookies and what a reader must make
// of them.
type wfChunkCase struct {
	Name    string     `json:"name"`
	Chunked string     `json:"chunked"` // the chunk vector whose configuration to use
	Cookies []wfCookie `json:"cookies"` // in the order the request sends them
	Result  string     `json:"result"`  // "opens" (as the vector), "empty" (no session, no error), or an error
}

// wfSpecCap is cap(L, i, n) of FORMAT.md §6.1, written from the text.
func wfSpecCap(name string, limit, i, n int) int {
	switch {
	case i == 0 && n == 1:
		return limit - len(name) - 1
	case i == 0:
		return limit - len(name) - 1 - len(strconv.Itoa(n)) - 1
	}
	return limit - len(name) - 1 - 1 - len(strconv.Itoa(i))
}

// wfSpecSplit is FORMAT.md §6.1, written from the text: the cookies a
// writer with MaxLength limit and MaxCookies most sends for value v.
func wfSpecSplit(name, v string, limit, most int) []wfCookie {
	for n := 1; n <= most; n++ {
		room := 0
		for i := 0; i < n; i++ {
			room += wfSpecCap(name, limit, i, n)
		}
		if room < len(v) {
			continue
		}
		if n == 1 {
			return []wfCookie{{name, v}}
		}
		var out []wfCookie
		for i := 0; i < n; i++ {
			take := min(wfSpecCap(name, limit, i, n), len(v))
			if i == n-1 {
				take = len(v)
			}
			cn, part := name, v[:take]
			if i == 0 {
				part = strconv.Itoa(n) + ":" + part
			} else {
				cn += "." + strconv.Itoa(i)
			}
			out = append(out, wfCookie{cn, part})
			v = v[take:]
		}
		return out
	}
	return nil
}

// wfChunkVectors derives the chunk vectors and cases from the vectors.
func wfChunkVectors(tb testing.TB, vs []wfVector) ([]wfChunkVector, []wfChunkCase) {
	tb.Helper()
	byName := map[string]wfVector{}
	for _, v := range vs {
		byName[v.Name] = v
	}
	// limitFor returns the smallest MaxLength at which v's cookie needs at
	// most n cookies.
	limitFor := func(v wfVector, n int) int {
		for limit := len(v.CookieName) + 8; ; limit++ {
			if got := wfSpecSplit(v.CookieName, v.Cookie, limit, n); got != nil {
				return limit
			}
		}
	}
	one, three, eleven := byName["minimal"], byName["minimal"], byName["small-idle-ttl-flash"]
	chunked := []wfChunkVector{
		{Name: "one cookie", Vector: one.Name, MaxLength: DefaultMaxLength, MaxCookies: 4},
		{Name: "three cookies", Vector: three.Name, MaxLength: limitFor(three, 3), MaxCookies: 4},
		{Name: "eleven cookies", Vector: eleven.Name, MaxLength: limitFor(eleven, 11), MaxCookies: 16},
	}
	for i := range chunked {
		cv := &chunked[i]
		v := byName[cv.Vector]
		cv.Cookies = wfSpecSplit(v.CookieName, v.Cookie, cv.MaxLength, cv.MaxCookies)
	}

	ck := func(name, value string) wfCookie { return wfCookie{name, value} }
	list := func(cks ...wfCookie) []wfCookie { return cks }
	// Cases on the three-cookie set c0, c1, c2 of the vector "minimal".
	c := chunked[1].Cookies
	name := three.CookieName
	c0, c1, c2 := c[0], c[1], c[2]
	body0 := strings.TrimPrefix(c0.Value, "3:")
	n1, n2, n3 := name+".1", name+".2", name+".3"
	cases := []wfChunkCase{
		{"canonical, in another order", "three cookies", list(c2, c0, c1), "opens"},
		{"identical copy of a chunk", "three cookies", list(c0, c1, c1, c2), "opens"},
		{"stray chunk beyond the count is ignored", "three cookies", list(c0, c1, c2, ck(n3, "AAAA")), "opens"},
		{"empty stray chunk beyond the count is ignored", "three cookies", list(c0, c1, c2, ck(n3, "")), "opens"},
		{"NAME.16 is not a chunk name", "three cookies", list(c0, c1, c2, ck(name+".16", "AAAA")), "opens"},
		{"NAME.01 is not a chunk name", "three cookies", list(c0, ck(name+".01", c1.Value), c2), "ErrInvalid"},
		{"junk chunk 1 of the right length sent first", "three cookies", list(c0, ck(n1, strings.Repeat("A", len(c1.Value))), c1, c2), "opens"},
		{"junk chunk 1 of the right length alone", "three cookies", list(c0, ck(n1, strings.Repeat("A", len(c1.Value))), c2), "ErrInvalid"},
		{"junk first cookie sent first", "three cookies", list(ck(name, "k1.AAAA"), c0, c1, c2), "opens"},
		{"re-split: a byte moved from chunk 1 to chunk 2", "three cookies", list(c0, ck(n1, c1.Value[:len(c1.Value)-1]), ck(n2, c1.Value[len(c1.Value)-1:]+c2.Value)), "ErrInvalid"},
		{"re-split: a byte moved from chunk 2 to chunk 1", "three cookies", list(c0, ck(n1, c1.Value+c2.Value[:1]), ck(n2, c2.Value[1:])), "ErrInvalid"},
		{"empty middle chunk", "three cookies", list(ck(name, "4:"+body0), ck(n1, c1.Value), ck(n2, ""), ck(n3, c2.Value)), "ErrInvalid"},
		{"empty last chunk", "three cookies", list(ck(name, "4:"+body0), c1, c2, ck(n3, "")), "ErrInvalid"},
		{"chunk 1 missing", "three cookies", list(c0, c2), "ErrInvalid"},
		{"last chunk missing", "three cookies", list(c0, c1), "ErrInvalid"},
		{"chunks 1 and 2 swapped", "three cookies", list(c0, ck(n1, c2.Value), ck(n2, c1.Value)), "ErrInvalid"},
		{"chunks without the first cookie", "three cookies", list(c1, c2), "empty"},
		{"count prefix removed", "three cookies", list(ck(name, body0), c1, c2), "ErrInvalid"},
		{"count 03", "three cookies", list(ck(name, "03:"+body0[1:]), c1, c2), "ErrInvalid"},
		{"count 1", "three cookies", list(ck(name, "1:"+body0), c1, c2), "ErrInvalid"},
		{"count 2 (one too few)", "three cookies", list(ck(name, "2:"+body0), c1, c2), "ErrInvalid"},
		{"count 5 (over MaxCookies)", "three cookies", list(ck(name, "5:"+body0), c1, c2), "ErrTooLarge"},
		{"count with nothing after it", "three cookies", list(ck(name, "3:"), ck(n1, "A"), ck(n2, "A")), "ErrInvalid"},
		{"count 100", "three cookies", list(ck(name, "100:"+body0[2:]), c1, c2), "ErrInvalid"},
		{"first cookie over MaxLength", "three cookies", list(ck(name, c0.Value+"A"), c1, c2), "ErrTooLarge"},
		{"chunk over the length the first implies", "three cookies", list(c0, ck(n1, c1.Value+"A"), c2), "ErrInvalid"},
	}
	// Cases on the one-cookie form: no prefix, and a needless split (a
	// first cookie that implies a smaller MaxLength, and a 1-byte rest that
	// would have fitted) is refused.
	v := one.Cookie
	cases = append(cases,
		wfChunkCase{"unchunked value with a stray NAME.1", "one cookie", list(ck(one.CookieName, v), ck(one.CookieName+".1", "AAAA")), "opens"},
		wfChunkCase{"needless split in two", "one cookie", list(ck(one.CookieName, "2:"+v[:len(v)-1]), ck(one.CookieName+".1", v[len(v)-1:])), "ErrInvalid"},
		wfChunkCase{"count 1 on an unchunked value", "one cookie", list(ck(one.CookieName, "1:"+v)), "ErrInvalid"},
	)
	return chunked, cases
}

// wfChunkCodec is the codec a chunk vector describes.
func wfChunkCodec(tb testing.TB, v wfVector, cv wfChunkVector) *Codec {
	tb.Helper()
	c, err := NewCodec(Config{
		Name:            v.CookieName,
		Keys:            wfKeyring(tb, Key{ID: v.KeyID, Secret: wfMustHex(tb, v.SecretHex)}),
		MaxAge:          time.Duration(v.MaxAge) * time.Second,
		AbsoluteTimeout: time.Duration(v.Absolute) * time.Second,
		Now:             func() time.Time { return time.Unix(v.Now, 0) },
		MaxLength:       cv.MaxLength,
		MaxCookies:      cv.MaxCookies,
	})
	if err != nil {
		tb.Fatalf("chunk vector %s: NewCodec: %v", cv.Name, err)
	}
	return c
}

func wfHTTPCookies(cks []wfCookie) []*http.Cookie {
	out := make([]*http.Cookie, len(cks))
	for i, c := range cks {
		out[i] = &http.Cookie{Name: c.Name, Value: c.Value}
	}
	return out
}

// TestChunkVectors checks the committed chunk vectors against FORMAT.md
// §6 (wfSpecSplit) and the library: the library splits each vector's
// cookie into exactly the listed cookies, every cookie but the last is
// MaxLength long, and DecodeCookies makes of each case what it says.
func TestChunkVectors(t *testing.T) {
	data, err := os.ReadFile(wfVectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	var vf wfVectorFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&vf); err != nil {
		t.Fatalf("%s: %v", wfVectorsPath, err)
	}
	if len(vf.Chunked) < 3 || len(vf.ChunkCases) < 25 {
		t.Fatalf("%s has %d chunk vectors and %d chunk cases", wfVectorsPath, len(vf.Chunked), len(vf.ChunkCases))
	}
	vectors := map[string]wfVector{}
	for _, v := range vf.Vectors {
		vectors[v.Name] = v
	}
	chunked := map[string]wfChunkVector{}
	counts := map[int]bool{}
	for _, cv := range vf.Chunked {
		chunked[cv.Name] = cv
		t.Run(cv.Name, func(t *testing.T) {
			v, ok := vectors[cv.Vector]
			if !ok {
				t.Fatalf("names vector %q", cv.Vector)
			}
			if got := wfSpecSplit(v.CookieName, v.Cookie, cv.MaxLength, cv.MaxCookies); !slices.Equal(got, cv.Cookies) {
				t.Fatalf("FORMAT.md §6.1 splits the cookie into %d cookies, not the %d listed", len(got), len(cv.Cookies))
			}
			c := wfChunkCodec(t, v, cv)
			parts := c.split(v.Cookie)
			if len(parts) != len(cv.Cookies) {
				t.Fatalf("the library splits into %d cookies, want %d", len(parts), len(cv.Cookies))
			}
			for i, p := range parts {
				if got := (wfCookie{c.chunkName(i), p}); got != cv.Cookies[i] {
					t.Fatalf("cookie %d: the library writes %s=%.20q..., want %s=%.20q...", i, got.Name, got.Value, cv.Cookies[i].Name, cv.Cookies[i].Value)
				}
				size := len(cv.Cookies[i].Name) + 1 + len(p)
				if size > cv.MaxLength || i < len(parts)-1 && size != cv.MaxLength || p == "" {
					t.Errorf("cookie %d is %d bytes over name=value, MaxLength %d", i, size, cv.MaxLength)
				}
			}
			counts[len(parts)] = true
			want, err := c.Decode(v.Cookie)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.DecodeCookies(wfHTTPCookies(cv.Cookies))
			if err != nil {
				t.Fatalf("DecodeCookies: %v", err)
			}
			if !reflectEqualRaws(got, want) {
				t.Fatal("the cookies open into another session than the vector's cookie")
			}
		})
	}
	if !counts[1] || !counts[3] || !counts[11] {
		t.Errorf("chunk vectors span %v cookies; want 1, 3 and 11 (a two-digit count)", counts)
	}
	for _, tc := range vf.ChunkCases {
		t.Run("case/"+tc.Name, func(t *testing.T) {
			cv, ok := chunked[tc.Chunked]
			if !ok {
				t.Fatalf("names chunk vector %q", tc.Chunked)
			}
			v := vectors[cv.Vector]
			c := wfChunkCodec(t, v, cv)
			got, err := c.DecodeCookies(wfHTTPCookies(tc.Cookies))
			switch tc.Result {
			case "opens":
				want, _ := c.Decode(v.Cookie)
				if err != nil || !reflectEqualRaws(got, want) {
					t.Fatalf("DecodeCookies: %v; want the vector's session", err)
				}
			case "empty":
				if err != nil || got == nil || got.Len() != 0 {
					t.Fatalf("DecodeCookies: %v, %v; want no session and no error", got, err)
				}
			default:
				sentinel, known := wfSentinels[tc.Result]
				if !known {
					t.Fatalf("unknown result %q", tc.Result)
				}
				if got != nil || !errors.Is(err, sentinel) {
					t.Fatalf("DecodeCookies: %v, %v; want %s", got, err, tc.Result)
				}
				for _, other := range wfSentinels {
					if other != sentinel && errors.Is(err, other) {
						t.Fatalf("error %v is also %v", err, other)
					}
				}
			}
		})
	}
}

// reflectEqualRaws reports whether two sessions hold the same ID, data and
// flashes, byte for byte.
func reflectEqualRaws(a, b *Session) bool {
	if a == nil || b == nil || a.ID() != b.ID() || len(a.flashes) != len(b.flashes) {
		return false
	}
	for i := range a.flashes {
		if !bytes.Equal(a.flashes[i].raw, b.flashes[i].raw) {
			return false
		}
	}
	ra, rb := lgRaws(a), lgRaws(b)
	if len(ra) != len(rb) {
		return false
	}
	for k, v := range ra {
		if rb[k] != v {
			return false
		}
	}
	return true
}

// TestChunk_SplitForAnotherMaxLength: a reader learns the cookie length
// from the first cookie (FORMAT.md §6.2 step 4), so raising MaxLength logs
// nobody out, while a set whose cookies are longer than the reader's
// MaxLength is too large.
func TestChunk_SplitForAnotherMaxLength(t *testing.T) {
	kr := newKeyring(t, "k1")
	small, _ := newTestCodec(t, Config{Keys: kr, MaxLength: 3000, MaxCookies: 4})
	large, _ := newTestCodec(t, Config{Keys: kr, MaxLength: 4096, MaxCookies: 4})
	s := small.New()
	s.Set("blob", lgBlob(4, 3000))
	set := lgSetCookies(lgMustCookies(t, small, s))
	if len(set) < 2 || len(set[0].Name)+1+len(set[0].Value) != 3000 {
		t.Fatalf("setup: %d cookies", len(set))
	}
	got, err := large.DecodeCookies(set)
	if err != nil || GetOr(got, "blob", "") != lgBlob(4, 3000) {
		t.Fatalf("a set split at 3000 bytes under MaxLength 4096: %v", err)
	}
	big := large.New()
	big.Set("blob", lgBlob(5, 3000))
	if _, err := small.DecodeCookies(lgSetCookies(lgMustCookies(t, large, big))); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a set split at 4096 bytes under MaxLength 3000: %v, want ErrTooLarge", err)
	}
}
