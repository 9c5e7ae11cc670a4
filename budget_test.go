package cookiesession

import (
	"net/http"
	"strings"
	"testing"
)

// Forged chunk sets (issue 13, item 2): the work a request's cookies cause
// is bounded by twice the bytes of the largest session the codec accepts,
// counted as the bytes handed to open (each is base64-decoded and MACed),
// whatever the request carries.

// bgForgedSet returns a forged full-size chunk set for c: a first cookie
// announcing MaxCookies chunks and every chunk of exactly the length that
// first cookie implies, so that the set passes every check before the MAC.
// Each value carries a well-formed key ID and canonical base64 so the MAC
// is reached. variant makes sets differ.
func bgForgedSet(c *Codec, variant byte) []*http.Cookie {
	n := c.chunks
	limit := c.maxLength
	fill := func(size int) string {
		b := []byte(strings.Repeat("A", size))
		b[size/2] = variant
		return string(b)
	}
	first := "k1." + fill(c.chunkCap(limit, 0, n)-3)
	out := []*http.Cookie{{Name: c.name, Value: "16:" + first}}
	for i := 1; i < n; i++ {
		out = append(out, &http.Cookie{Name: c.chunkName(i), Value: fill(c.chunkCap(limit, i, n))})
	}
	return out
}

// bgCount counts what c hands to open.
type bgCount struct{ tries, bytes int }

func bgCounting(c *Codec) *bgCount {
	n := &bgCount{}
	c.onTry = func(size int) { n.tries++; n.bytes += size }
	return n
}

func TestBudget_ForgedChunkSetsAreBounded(t *testing.T) {
	c := lgCodec(t, Config{MaxCookies: 16})
	limit := 2 * c.capacity()
	count := bgCounting(c)

	// The request: four forged first cookies and a forged chunk for
	// every index, about 78 KB of header. Unbounded, each first cookie
	// re-joins and re-MACs all sixteen chunks: four times 65 KB.
	var cks []*http.Cookie
	for v := byte('B'); v < 'F'; v++ {
		set := bgForgedSet(c, v)
		cks = append(cks, set[0])
		if v == 'B' {
			cks = append(cks, set[1:]...)
		}
	}
	header := 0
	for _, ck := range cks {
		header += len(ck.Name) + 1 + len(ck.Value) + 2
	}
	if header < 75_000 {
		t.Fatalf("setup: header is %d bytes", header)
	}
	if _, err := c.DecodeCookies(cks); err == nil {
		t.Fatal("a forged set opened")
	}
	if count.bytes > limit || count.tries > maxSessionCookies {
		t.Errorf("one request had %d values, %d bytes opened; the budget is %d bytes (unbounded: about %d)", count.tries, count.bytes, limit, 4*c.capacity())
	}
	if count.bytes < c.capacity()/2 {
		t.Errorf("only %d bytes opened: the forged sets were not tried at all", count.bytes)
	}

	// Many candidates for every chunk: the combinations are bounded too.
	*count = bgCount{}
	cks = nil
	for v := byte('B'); v < 'B'+3; v++ {
		cks = append(cks, bgForgedSet(c, v)...)
	}
	if _, err := c.DecodeCookies(cks); err == nil {
		t.Fatal("a forged set opened")
	}
	if count.bytes > limit || count.tries > maxSessionCookies {
		t.Errorf("3^15 combinations: %d values, %d bytes opened; the budget is %d bytes", count.tries, count.bytes, limit)
	}

	// Through the middleware: an empty session, no cookie, the same bound.
	*count = bgCount{}
	r := pcServe(t, c, nil, "/get?k=user", lgHeader(cks))
	if r.status != http.StatusOK || r.body != "<none>" || len(r.set) != 0 {
		t.Errorf("middleware: %d %q, Set-Cookie %v", r.status, r.body, r.names())
	}
	if count.bytes > limit {
		t.Errorf("middleware: %d bytes opened, budget %d", count.bytes, limit)
	}
}

func TestBudget_GenuineLargestSessionStillOpens(t *testing.T) {
	c := lgCodec(t, Config{MaxCookies: 16})
	count := bgCounting(c)
	s := c.New()
	s.Set("user", "victim")
	s.Set("blob", lgBlob(11, 34000))
	genuine := lgSetCookies(lgMustCookies(t, c, s))
	if len(genuine) < 14 {
		t.Fatalf("setup: the session spans %d cookies, want nearly all 16", len(genuine))
	}
	forged := bgForgedSet(c, 'B')
	for _, tc := range []struct {
		name string
		cks  []*http.Cookie
	}{
		{"alone", genuine},
		{"forged set after it", append(append([]*http.Cookie{}, genuine...), forged...)},
		{"one forged full set sent first", append(append([]*http.Cookie{}, forged...), genuine...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			*count = bgCount{}
			got, err := c.DecodeCookies(tc.cks)
			if err != nil || GetOr(got, "user", "") != "victim" {
				t.Fatalf("DecodeCookies: %v", err)
			}
			if count.bytes > 2*c.capacity() {
				t.Errorf("%d bytes opened, budget %d", count.bytes, 2*c.capacity())
			}
			if r := pcServe(t, c, nil, "/get?k=user", lgHeader(tc.cks)); r.body != "victim" {
				t.Errorf("middleware: body %q", r.body)
			}
		})
	}
}
