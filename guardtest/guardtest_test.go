package guardtest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/guardtest"
)

// brokenEnv names the flaw the reference Guard is given in the subprocess
// that TestSuiteCatchesFlaws starts.
const brokenEnv = "GUARDTEST_FLAW"

// TestReferenceGuard shows that a correct Guard passes the suite.
func TestReferenceGuard(t *testing.T) {
	guardtest.Run(t, func(t *testing.T) cookiesession.Guard { return newRefGuard("") })
}

// TestReferenceGuardMilliseconds shows that a Guard keeping revocation
// times to the millisecond, as the contract allows, passes too.
func TestReferenceGuardMilliseconds(t *testing.T) {
	guardtest.Run(t, func(t *testing.T) cookiesession.Guard { return newRefGuard("milliseconds") })
}

// TestSuiteCatchesFlaws runs the suite against the reference Guard with one
// flaw at a time, in a subprocess, and checks that the subtest meant to
// catch that flaw fails.
func TestSuiteCatchesFlaws(t *testing.T) {
	flaws := map[string]string{
		"consume-racy":      "ConsumeConcurrent",
		"consume-forever":   "ConsumeAfterTTL",
		"count-racy":        "CountConcurrent",
		"count-sliding":     "CountWindowStartsAtFirstIncrement",
		"count-forever":     "CountAfterWindow",
		"revoke-overwrites": "RevokeKeepsLaterTime",
		"revoke-seconds":    "RevokeKeepsLaterTime",
		"revoke-shortens":   "RevokeNeverShortens",
		"revoke-forever":    "RevokeExpires",
		"revokedat-found":   "RevokedAtSeveralKeys",
		"keys-cut":          "LongKeys",
		"ignores-context":   "CancelledContext",
		"ignores-deadline":  "ExpiredDeadline",
	}
	for flaw, subtest := range flaws {
		t.Run(flaw, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestFlawedGuard$/^"+subtest+"$", "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"="+flaw)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a Guard with flaw %q:\n%s", flaw, out)
			}
			if !strings.Contains(string(out), "--- FAIL: TestFlawedGuard/"+subtest) {
				t.Fatalf("flaw %q: want subtest %s to fail:\n%s", flaw, subtest, out)
			}
		})
	}
}

// TestFlawedGuard is the subprocess of TestSuiteCatchesFlaws.
func TestFlawedGuard(t *testing.T) {
	flaw := os.Getenv(brokenEnv)
	if flaw == "" {
		t.Skip("run by TestSuiteCatchesFlaws, with " + brokenEnv + " set")
	}
	guardtest.Run(t, func(t *testing.T) cookiesession.Guard { return newRefGuard(flaw) })
}

// refGuard is a plain in-memory Guard, correct unless given a flaw (or
// "milliseconds", which is not one).
type refGuard struct {
	flaw    string
	mu      sync.Mutex
	once    map[string]time.Time // deadline
	counts  map[string]*counter
	revoked map[string]revocation
}

type counter struct {
	n        int64
	deadline time.Time
}

type revocation struct{ at, deadline time.Time }

func newRefGuard(flaw string) *refGuard {
	return &refGuard{flaw: flaw, once: map[string]time.Time{}, counts: map[string]*counter{}, revoked: map[string]revocation{}}
}

func (g *refGuard) check(ctx context.Context) error {
	switch err := ctx.Err(); {
	case err == nil:
		return nil
	case g.flaw == "ignores-context" && err == context.Canceled:
		return nil
	case g.flaw == "ignores-deadline" && err == context.DeadlineExceeded:
		return nil
	default:
		return fmt.Errorf("%w: %w", cookiesession.ErrGuardUnavailable, err)
	}
}

func (g *refGuard) key(kind, key string) string {
	if g.flaw == "keys-cut" && len(key) > 256 {
		key = key[:256]
	}
	return kind + key
}

func (g *refGuard) Consume(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := g.check(ctx); err != nil {
		return false, err
	}
	k := g.key("once:", key)
	if g.flaw == "consume-forever" {
		ttl = time.Hour
	}
	g.mu.Lock()
	deadline, spent := g.once[k]
	spent = spent && time.Now().Before(deadline)
	if g.flaw == "consume-racy" { // check, then set, unlocked in between
		g.mu.Unlock()
		time.Sleep(time.Millisecond)
		g.mu.Lock()
	}
	if !spent {
		g.once[k] = time.Now().Add(ttl)
	}
	g.mu.Unlock()
	return !spent, nil
}

func (g *refGuard) Count(ctx context.Context, key string, window time.Duration) (int64, error) {
	if err := g.check(ctx); err != nil {
		return 0, err
	}
	k := g.key("count:", key)
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.counts[k]
	if !ok || !time.Now().Before(c.deadline) {
		c = &counter{deadline: time.Now().Add(window)}
		if g.flaw == "count-forever" {
			c.deadline = time.Now().Add(time.Hour)
		}
		g.counts[k] = c
	}
	if g.flaw == "count-sliding" {
		c.deadline = time.Now().Add(window)
	}
	n := c.n + 1
	if g.flaw == "count-racy" { // read, then write, unlocked in between
		g.mu.Unlock()
		time.Sleep(time.Millisecond)
		g.mu.Lock()
	}
	c.n = n
	return n, nil
}

func (g *refGuard) Revoke(ctx context.Context, key string, at time.Time, ttl time.Duration) error {
	if err := g.check(ctx); err != nil {
		return err
	}
	k := g.key("revoked:", key)
	switch g.flaw {
	case "milliseconds": // what the contract allows
		at = at.Truncate(time.Millisecond)
	case "revoke-seconds":
		at = at.Truncate(time.Second)
	}
	if g.flaw == "revoke-forever" {
		ttl = time.Hour
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	r := revocation{at: at, deadline: time.Now().Add(ttl)}
	if old, ok := g.revoked[k]; ok && time.Now().Before(old.deadline) && g.flaw != "revoke-overwrites" {
		if old.at.After(r.at) {
			r.at = old.at
		}
		if old.deadline.After(r.deadline) && g.flaw != "revoke-shortens" {
			r.deadline = old.deadline
		}
	}
	g.revoked[k] = r
	return nil
}

func (g *refGuard) RevokedAt(ctx context.Context, keys ...string) ([]time.Time, error) {
	if err := g.check(ctx); err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	times := make([]time.Time, 0, len(keys))
	for _, key := range keys {
		r, ok := g.revoked[g.key("revoked:", key)]
		if !ok || !time.Now().Before(r.deadline) {
			if g.flaw != "revokedat-found" {
				times = append(times, time.Time{})
			}
			continue
		}
		times = append(times, r.at)
	}
	return times, nil
}
