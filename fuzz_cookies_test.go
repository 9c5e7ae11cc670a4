package cookiesession

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// FuzzDecodeCookies feeds arbitrary Cookie headers to the reader of a
// request's session cookies (FORMAT.md §6), through DecodeCookies and
// through the middleware's header parser. Whatever the header: no panic;
// either a session that is one of the genuine ones or a nil session and an
// error of exactly one kind; and never more work than the budget.
func FuzzDecodeCookies(f *testing.F) {
	c := wfCodec(f, "s", Config{MaxLength: 200, MaxCookies: 4})
	small := c.New()
	small.Set("u", "o")
	big := c.New()
	big.Set("u", "a")
	big.Set("b", lgBlob(1, 150))
	var pairs []string
	for _, ck := range lgSetCookies(lgMustCookies(f, c, big)) {
		pairs = append(pairs, ck.Name+"="+ck.Value)
	}
	if len(pairs) < 2 {
		f.Fatalf("setup: the big session takes %d cookies", len(pairs))
	}
	o := "s=" + mustEncode(f, c, small)
	genuine := strings.Join(pairs, "; ")
	for _, seed := range []string{
		genuine,
		o,
		o + "; s.1=AAAA",
		"s=k1.AAAA; " + genuine,
		strings.Join([]string{pairs[1], pairs[0], "s.1=" + strings.Repeat("A", len(pairs[1])-4)}, "; "),
		strings.Replace(genuine, pairs[0][:4], "s=9:", 1),
		"s.1=x; s.2=y",
		"",
	} {
		f.Add(seed)
	}
	want := map[string]bool{lgRaws(small)["u"]: true, lgRaws(big)["u"]: true}
	kinds := []error{ErrInvalid, ErrExpired, ErrUnknownKey, ErrTooLarge, ErrClockSkew}
	f.Fuzz(func(t *testing.T, header string) {
		var bytes, tries int
		c.onTry = func(n int) { bytes += n; tries++ }
		check := func(how string, s *Session, err error) {
			if bytes > 2*c.capacity() || tries > maxSessionCookies {
				t.Fatalf("%s: %d values, %d bytes opened; budget %d", how, tries, bytes, 2*c.capacity())
			}
			bytes, tries = 0, 0
			if err != nil {
				n := 0
				for _, k := range kinds {
					if errors.Is(err, k) {
						n++
					}
				}
				if s != nil || n != 1 {
					t.Fatalf("%s: %v, %v: want a nil session and one kind of error", how, s, err)
				}
				return
			}
			if s == nil {
				t.Fatalf("%s: nil session and nil error", how)
			}
			if u := lgRaws(s)["u"]; s.Len() > 0 && !want[u] {
				t.Fatalf("%s: opened into a session that is not a genuine one", how)
			}
		}
		cks, perr := http.ParseCookie(header)
		if perr == nil {
			s, err := c.DecodeCookies(cks)
			check("DecodeCookies", s, err)
		}
		var st state
		in := c.read(context.Background(), []string{header}, nil, false, &st, c.unixNow())
		if in.opened != (in.err == nil && st.hasID) {
			t.Fatalf("middleware reader: opened %v with error %v", in.opened, in.err)
		}
		var s *Session
		if in.opened {
			s = &Session{c: c, state: st}
		} else if in.err == nil {
			s = c.New()
		}
		check("middleware reader", s, in.err)
	})
}
