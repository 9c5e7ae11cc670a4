package redisguard

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/redisguard/redistest"
)

// opDeadline bounds each operation in the fault tests; opSlack is how much
// later than that an answer may come on a loaded machine.
const (
	opDeadline = 300 * time.Millisecond
	opSlack    = 700 * time.Millisecond
)

// everyOp runs each Guard operation once under a fresh opDeadline context
// and returns their errors, checking that none outlasted its deadline by
// more than opSlack.
func everyOp(t *testing.T, g cookiesession.Guard, key string) map[string]error {
	t.Helper()
	errs := map[string]error{}
	run := func(name string, op func(context.Context) error) {
		ctx, cancel := context.WithTimeout(context.Background(), opDeadline)
		defer cancel()
		start := time.Now()
		errs[name] = op(ctx)
		if d := time.Since(start); d > opDeadline+opSlack {
			t.Errorf("%s took %v under a %v deadline", name, d, opDeadline)
		}
	}
	run("Consume", func(ctx context.Context) error {
		first, err := g.Consume(ctx, key, time.Minute)
		if err != nil && first {
			t.Errorf("Consume failed with %v but reported true", err)
		}
		return err
	})
	run("Count", func(ctx context.Context) error { _, err := g.Count(ctx, key, time.Minute); return err })
	run("Revoke", func(ctx context.Context) error { return g.Revoke(ctx, key, time.Now(), time.Minute) })
	run("RevokedAt", func(ctx context.Context) error { _, err := g.RevokedAt(ctx, key, key+"2"); return err })
	return errs
}

// checkUnavailable checks that every operation failed with an error
// wrapping ErrGuardUnavailable.
func checkUnavailable(t *testing.T, what string, errs map[string]error) {
	t.Helper()
	for op, err := range errs {
		if !errors.Is(err, cookiesession.ErrGuardUnavailable) {
			t.Errorf("%s: %s = %v, want an error wrapping ErrGuardUnavailable", what, op, err)
		}
	}
}

// TestRedisStoppedAndRestarted stops redis-server mid-run: every operation
// fails with ErrGuardUnavailable within its deadline, nothing panics, and
// after a restart on the same port the same Guard (and its client's pool of
// now-dead connections) works again.
func TestRedisStoppedAndRestarted(t *testing.T) {
	srv := redistest.Start(t)
	g := testGuard(t, srv)
	ctx := context.Background()

	for want := int64(1); want <= 3; want++ {
		if n, err := g.Count(ctx, "attempts", time.Minute); err != nil || n != want {
			t.Fatalf("Count = %d, %v; want %d", n, err, want)
		}
	}
	for op, err := range everyOp(t, g, "warm") {
		if err != nil {
			t.Fatalf("%s with Redis up: %v", op, err)
		}
	}

	srv.Stop()
	for range 2 { // and again, once the client has noticed
		checkUnavailable(t, "Redis stopped", everyOp(t, g, "down"))
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// The client's pooled connections died with the old process; the
	// first operations may still meet one of them.
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := g.Count(ctx, "attempts", time.Minute)
		if err == nil {
			// This Redis keeps nothing on disk: the restart forgot the
			// counter, and it starts again at 1.
			if n != 1 {
				t.Fatalf("first Count after the restart = %d, want 1", n)
			}
			break
		}
		if !errors.Is(err, cookiesession.ErrGuardUnavailable) {
			t.Fatalf("Count after the restart: %v, want nil or ErrGuardUnavailable", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("Count still fails 5 s after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for op, err := range everyOp(t, g, "up-again") {
		if err != nil {
			t.Errorf("%s after the restart: %v", op, err)
		}
	}
	if first, err := g.Consume(ctx, "up-again", time.Minute); err != nil || first {
		t.Errorf("second Consume after the restart = %v, %v; want false", first, err)
	}
}

// TestRedisNotAnswering pauses redis-server (SIGSTOP): it still accepts
// connections but answers nothing, the case where a client without
// ContextTimeoutEnabled would wait its full ReadTimeout. Every operation
// must give up at its context's deadline with ErrGuardUnavailable.
func TestRedisNotAnswering(t *testing.T) {
	srv := redistest.Start(t)
	g := testGuard(t, srv)
	for op, err := range everyOp(t, g, "warm") {
		if err != nil {
			t.Fatalf("%s with Redis up: %v", op, err)
		}
	}
	srv.Pause(t)
	checkUnavailable(t, "Redis paused", everyOp(t, g, "paused"))
	srv.Resume(t)
	deadline := time.Now().Add(5 * time.Second)
	for {
		first, err := g.Consume(context.Background(), "resumed", time.Minute)
		if err == nil {
			if !first {
				t.Fatal("first Consume after resuming reported false")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Consume still fails 5 s after resuming: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLoginWhileRedisDown runs the fleet's SMS login in this process and
// stops Redis between sending the code and checking it: the check answers
// 503 (ErrGuardUnavailable) within the guard's deadline instead of letting
// the guess through, and after the restart the same cookie logs in, once.
func TestLoginWhileRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	key, err := cookiesession.GenerateKey("fault")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := cookiesession.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := cookiesession.NewCodec(cookiesession.Config{Keys: keys, Insecure: true, Guard: testGuard(t, srv), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	login := smsLogin(codec)
	// Each request gets the guard deadline a real server would give it.
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), opDeadline)
		defer cancel()
		login.ServeHTTP(w, r.WithContext(ctx))
	}))
	defer hs.Close()
	f := &fleet{servers: [2]string{hs.URL, hs.URL}, client: hs.Client()}

	code, cookie := f.sendCode(t)
	if status, body, _ := f.post(t, 0, "/check", cookie, url.Values{"code": {wrongCode(code)}}); status != http.StatusForbidden {
		t.Fatalf("wrong code with Redis up: %d %q", status, body)
	}
	srv.Stop()
	for _, c := range []string{wrongCode(code), code} {
		start := time.Now()
		status, body, _ := f.post(t, 0, "/check", cookie, url.Values{"code": {c}})
		if status != http.StatusServiceUnavailable {
			t.Fatalf("check with Redis down: %d %q, want 503", status, body)
		}
		if d := time.Since(start); d > opDeadline+opSlack {
			t.Errorf("check with Redis down took %v", d)
		}
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, body, _ := f.post(t, 0, "/check", cookie, url.Values{"code": {code}})
		if status == http.StatusOK {
			break
		}
		if status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("check after the restart: %d %q, want 200", status, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status, body, _ := f.post(t, 0, "/check", cookie, url.Values{"code": {code}}); status != http.StatusBadRequest {
		t.Fatalf("the pre-login cookie after the login: %d %q, want 400 (a revoked session)", status, body)
	}
}
