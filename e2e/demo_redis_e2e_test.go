package e2e

import (
	"fmt"
	"testing"

	"github.com/cookiesession/cookiesession/redisguard/redistest"
)

// TestDemoSMSReplayLockedOutRedis is issue 10's attack in Chromium against
// the demo with its guard in Redis (-redis): the cookie saved right after
// "Send code", put back before every guess, gets smsMaxTries guesses
// compared and never logs in, the right code last included.
func TestDemoSMSReplayLockedOutRedis(t *testing.T) {
	srv := redistest.Start(t)
	base := startDemo(t, "-redis", srv.Addr())
	ctx := newBrowser(t)
	code := demoSendCode(t, ctx, base, "+1 555 0100")
	saved, ok := storeCookie(t, ctx, "session", base+"/")
	if !ok {
		t.Fatal("no session cookie after sending a code")
	}
	guesses := make([]string, 200)
	for i := range guesses {
		guesses[i] = fmt.Sprintf("%06d", i)
		if guesses[i] == code {
			guesses[i] = "999999"
		}
	}
	guesses[len(guesses)-1] = code
	replayGuessesFrom(t, ctx, base, saved, guesses, 0, len(guesses))
}
