package fibersession

import (
	"net/http"
	"slices"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/valyala/fasthttp"
)

// TestApplyMatchesCommitHeaders: apply leaves a fasthttp header with the
// same Vary, Cache-Control and Set-Cookie lines as CommitHeaders.Apply
// leaves a net/http one, whether the handler set those headers (the merge)
// or not (the shortcut).
func TestApplyMatchesCommitHeaders(t *testing.T) {
	handlerSets := []http.Header{
		{},
		{"Vary": {"Accept-Encoding"}},
		{"Vary": {"*"}},
		{"Vary": {"Accept, cookie"}},
		{"Cache-Control": {"private, max-age=60"}},
		{"Cache-Control": {"No-Store"}},
		{"Vary": {"Origin"}, "Cache-Control": {"max-age=0", "must-revalidate"}},
	}
	commits := []cookiesession.CommitHeaders{
		{},
		{Vary: true},
		{Vary: true, NoStore: true, SetCookie: []string{"s=v; Path=/", "s_1=; Max-Age=0"}},
	}
	for _, set := range handlerSets {
		for _, ch := range commits {
			want := set.Clone()
			ch.Apply(want)

			var h fasthttp.ResponseHeader
			for key, values := range set {
				for _, v := range values {
					h.Add(key, v)
				}
			}
			apply(&h, ch)
			got := http.Header{}
			for _, key := range []string{"Vary", "Cache-Control"} {
				for _, v := range h.PeekAll(key) {
					got.Add(key, string(v))
				}
			}
			h.VisitAllCookie(func(_, line []byte) { got.Add("Set-Cookie", string(line)) })
			for _, key := range []string{"Vary", "Cache-Control", "Set-Cookie"} {
				if !slices.Equal(got[key], want[key]) {
					t.Errorf("handler set %v, commit %+v: %s %q, want %q", set, ch, key, got[key], want[key])
				}
			}
		}
	}
}
