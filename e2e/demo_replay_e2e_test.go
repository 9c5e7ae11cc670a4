package e2e

// Issue 10's attack in a real browser: the cookie saved right after "Send
// code" is put back into Chromium's cookie store before every guess, so each
// guess is sent with that copy, and the demo's guard must still lock out.

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// replayGuesses is how many guesses the attack sends, the last one right.
// They are split over browsers, so that each stays within browserTimeout.
const (
	replayGuesses  = 2000
	replayBrowsers = 2
)

// smsMaxTries is the demo's limit on tries per code (cmd/cookiesession).
const smsMaxTries = 5

// guessJS submits the code form of the page on screen with fetch (so the
// page, and the form's other fields, stay as they were) and returns the
// path the demo's redirect led to, then the flash messages of that page.
const guessJS = `(async (guess) => {
	const form = new FormData(document.querySelector("#check-form"));
	form.set("code", guess);
	const r = await fetch("/sms/check", {method: "POST", body: new URLSearchParams(form)});
	const doc = new DOMParser().parseFromString(await r.text(), "text/html");
	return [new URL(r.url).pathname, ...Array.from(doc.querySelectorAll(".flash"), e => e.textContent)];
})(%q)`

func TestDemoSMSReplayLockedOut(t *testing.T) {
	base := startDemo(t)
	ctx := newBrowser(t)
	code := demoSendCode(t, ctx, base, "+1 555 0100")
	saved, ok := storeCookie(t, ctx, "session", base+"/")
	if !ok {
		t.Fatal("no session cookie after sending a code")
	}

	guesses := make([]string, replayGuesses)
	for i := range guesses {
		guesses[i] = fmt.Sprintf("%06d", i)
		if guesses[i] == code {
			guesses[i] = "999999"
		}
	}
	guesses[len(guesses)-1] = code

	start := time.Now()
	per := replayGuesses / replayBrowsers
	for b := range replayBrowsers {
		// A fresh browser each time, given the saved cookie: the attacker
		// may carry it anywhere.
		ctx := ctx
		if b > 0 {
			ctx = newBrowser(t)
		}
		replayGuessesFrom(t, ctx, base, saved, guesses, b*per, (b+1)*per)
	}
	t.Logf("%d replayed guesses in %v", replayGuesses, time.Since(start).Round(time.Millisecond))
}

// replayGuessesFrom sends guesses[from:to], each with the saved cookie put
// back first, and checks that only the first smsMaxTries are compared and
// none logs in.
func replayGuessesFrom(t *testing.T, ctx context.Context, base string, saved browserCookie, guesses []string, from, to int) {
	t.Helper()
	setSaved := chromedp.ActionFunc(func(ctx context.Context) error {
		return network.SetCookie(saved.Name, saved.Value).
			WithURL(base + "/").WithPath(saved.Path).WithHTTPOnly(saved.HTTPOnly).Do(ctx)
	})
	// The demo's CSP forbids fetch from its pages; the test's own script
	// is not the page's. The bypass takes effect from the next load.
	run(t, ctx, "bypass CSP", cdppage.SetBypassCSP(true), setSaved)
	if status := navigate(t, ctx, base+"/"); status != http.StatusOK {
		t.Fatalf("GET /: status %d", status)
	}
	for i := from; i < to; i++ {
		var res []string
		run(t, ctx, "replay guess "+guesses[i], setSaved,
			chromedp.Evaluate(fmt.Sprintf(guessJS, guesses[i]), &res, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
				return p.WithAwaitPromise(true)
			}),
		)
		want := "Wrong code"
		if i >= smsMaxTries {
			want = "Too many wrong codes: wait a few minutes, then ask for a new one"
		}
		if len(res) != 2 || res[0] != "/" || res[1] != want {
			t.Fatalf("guess %d (%s) with the saved cookie: landed on %q; want / and the flash %q", i+1, guesses[i], res, want)
		}
	}
}
