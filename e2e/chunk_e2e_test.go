package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cookiesession/cookiesession"
)

// A session too large for one cookie spans NAME, NAME.1, ...; the browser
// must store every chunk, send them all back, and drop the ones a smaller
// session or a logout no longer needs.
//
// bigValue is 10 KB of pseudo-random hex digits, sealed uncompressed: the
// seal grows it to about 18.4 KB, so it spans five cookies of 4096 bytes.
func TestChunkedSession(t *testing.T) {
	a := newApp(t, func(cfg *cookiesession.Config) {
		cfg.MaxCookies = 6
	})
	ctx := isolatedTab(t)
	a.login(t, ctx, "alice")
	if got := cookieNames(a.sessionCookies(t, ctx)); got != hostName {
		t.Fatalf("after login the store holds %s, want session", got)
	}

	a.load(t, ctx, "/big")
	got := a.sessionCookies(t, ctx)
	if names := cookieNames(got); names != chunkNames(5) {
		t.Fatalf("after /big the store holds %s, want session,session.1,session.2,session.3,session.4", names)
	}
	if v := got[hostName].Value; !strings.HasPrefix(v, "5:k1.") {
		t.Errorf("first chunk starts %.10q, want 5:k1.", v)
	}
	for name, c := range got {
		if n := len(c.Name) + 1 + len(c.Value); n > cookiesession.DefaultMaxLength {
			t.Errorf("%s is %d bytes over name=value, over %d", name, n, cookiesession.DefaultMaxLength)
		}
		if !c.HTTPOnly || !c.Secure || c.SameSite != "Lax" || c.Path != "/" || c.Session {
			t.Errorf("%s attributes = {HttpOnly:%v Secure:%v SameSite:%q Path:%q Session:%v}", name, c.HTTPOnly, c.Secure, c.SameSite, c.Path, c.Session)
		}
	}

	// The next page reads all 10 KB back from the five cookies.
	a.load(t, ctx, "/big-len")
	want := fmt.Sprintf("big: 10240 found=true intact=true sha=%s", sha(bigValue))
	if got := elementText(t, ctx, "#big"); got != want {
		t.Errorf("/big-len shows %q, want %q", got, want)
	}
	if got := a.userOn(t, ctx); got != "alice" {
		t.Errorf("with the chunked session /me shows %q, want alice", got)
	}

	// Shrinking to one cookie drops the stale chunks.
	a.load(t, ctx, "/shrink")
	got = a.sessionCookies(t, ctx)
	if names := cookieNames(got); names != hostName {
		t.Errorf("after /shrink the store holds %s, want only session", names)
	}
	if v := got[hostName].Value; !strings.HasPrefix(v, "k1.") {
		t.Errorf("after /shrink the cookie starts %.10q, want an unchunked k1. value", v)
	}
	a.load(t, ctx, "/big-len")
	if got, want := elementText(t, ctx, "#big"), "big: 5 found=true intact=false sha="+sha("small"); got != want {
		t.Errorf("after /shrink /big-len shows %q, want %q", got, want)
	}

	// Grow again, then log out: no cookie of the session is left.
	a.load(t, ctx, "/big")
	if names := cookieNames(a.sessionCookies(t, ctx)); names != chunkNames(5) {
		t.Fatalf("after the second /big the store holds %s, want session,session.1,session.2,session.3,session.4", names)
	}
	a.load(t, ctx, "/logout")
	if got := a.sessionCookies(t, ctx); len(got) != 0 {
		t.Errorf("after /logout the store still holds %s", cookieNames(got))
	}
	if got := a.userOn(t, ctx); got != "anonymous" {
		t.Errorf("after /logout /me shows %q, want anonymous", got)
	}
	a.load(t, ctx, "/big-len")
	if got, want := elementText(t, ctx, "#big"), "big: 0 found=false intact=false sha="+sha(""); got != want {
		t.Errorf("after /logout /big-len shows %q, want %q", got, want)
	}
}
