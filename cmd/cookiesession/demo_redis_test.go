package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/redisguard"
	"github.com/cookiesession/cookiesession/redisguard/redistest"
)

// The demo with its guard in Redis (-redis): the replay attacks of
// demo_guard_test.go against a real redis-server, and the flag itself.

// newRedisBrowser is newBrowserWith a Guard in a redis-server of its own.
func newRedisBrowser(t *testing.T) (*browser, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	g, err := redisguard.New(srv.Client(t))
	if err != nil {
		t.Fatal(err)
	}
	return newBrowserWith(t, g), srv
}

// TestDemoRedisReplayLockedOut is issue 10's attack with the guard in
// Redis: the cookie saved right after "Send code", replayed with wrong
// guesses and then the right code, gets smsMaxTries guesses compared and
// never logs in.
func TestDemoRedisReplayLockedOut(t *testing.T) {
	b, _ := newRedisBrowser(t)
	_, page := b.post("/sms/send", url.Values{"phone": {"+1 555 0100"}})
	code := mustID(t, page, "sms-code")
	saved := b.cookie()
	var guesses []string
	for i := 0; len(guesses) < 49; i++ {
		if g := fmt.Sprintf("%06d", i); g != code {
			guesses = append(guesses, g)
		}
	}
	for i, guess := range append(guesses, code) {
		status, loc, set := b.replay("/sms/check", saved, url.Values{"code": {guess}})
		if status != http.StatusSeeOther || loc != "/" {
			t.Fatalf("guess %d: %d to %q; want 303 to /", i+1, status, loc)
		}
		want := "Wrong code"
		if i >= smsMaxTries {
			want = "Too many wrong codes: wait a few minutes, then ask for a new one"
		}
		if got := flashes(b.pageWith("/", set)); len(got) != 1 || got[0] != want {
			t.Fatalf("guess %d: flashes %q, want %q", i+1, got, want)
		}
	}
}

// TestDemoRedisReplayAfterLogin: the code logs in once, and the cookie from
// before the login no longer opens, with the guard in Redis.
func TestDemoRedisReplayAfterLogin(t *testing.T) {
	b, _ := newRedisBrowser(t)
	_, page := b.post("/sms/send", url.Values{"phone": {"+1 555 0100"}})
	code := mustID(t, page, "sms-code")
	saved := b.cookie()
	_, page = b.post("/sms/check", url.Values{"code": {code}})
	wantFlash(t, page, "Logged in")
	// Revoked, the pre-login session opens empty: without the CSRF secret
	// it carried, the form is refused before it is read.
	if status, loc, _ := b.replay("/sms/check", saved, url.Values{"code": {code}}); status != http.StatusForbidden {
		t.Fatalf("the right code, replayed after login: %d to %q; want 403", status, loc)
	}
	if s, err := b.codec.Decode(saved); !errors.Is(err, cookiesession.ErrRevoked) {
		t.Errorf("the pre-login cookie after login: %v, %v; want ErrRevoked", s, err)
	}
}

// TestDemoRedisDown: with Redis stopped, no code is checked (fail closed)
// and the page still renders; after a restart the same cookie logs in.
func TestDemoRedisDown(t *testing.T) {
	b, srv := newRedisBrowser(t)
	_, page := b.post("/sms/send", url.Values{"phone": {"+1 555 0100"}})
	code := mustID(t, page, "sms-code")
	srv.Stop()
	_, page = b.post("/sms/check", url.Values{"code": {code}})
	wantFlash(t, page, "Codes cannot be checked right now: try again shortly")
	if _, ok := byID(page, "user"); ok {
		t.Fatal("logged in without the guard")
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// The client's pooled connections died with the old process: the
	// first try after the restart may still fail closed.
	for try := 0; ; try++ {
		_, page = b.post("/sms/check", url.Values{"code": {code}})
		if got := flashes(page); len(got) == 1 && got[0] == "Logged in" {
			break
		}
		if try == 3 {
			t.Fatalf("after the restart: flashes %q, want Logged in", flashes(page))
		}
	}
}

// TestDemoRedisFlag runs the command: demo -redis ADDR serves with its
// guard in that Redis, where a checked code leaves its attempt counter.
func TestDemoRedisFlag(t *testing.T) {
	srv := redistest.Start(t)
	cmd := exec.Command(binary, "demo", "-addr", "127.0.0.1:0", "-redis", srv.Addr())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stdout)
	var base, guardLine string
	for base == "" && lines.Scan() {
		line := lines.Text()
		if strings.Contains(line, "held by the") {
			guardLine = line
		}
		if _, rest, ok := strings.Cut(line, "listening on http://"); ok {
			base = "http://" + strings.TrimSuffix(strings.Fields(rest)[0], "/")
		}
	}
	if base == "" {
		t.Fatalf("the demo did not start: %s", stderr.String())
	}
	if !strings.Contains(guardLine, "Redis guard at "+srv.Addr()) {
		t.Errorf("the demo's guard line %q does not name the Redis at %s", guardLine, srv.Addr())
	}

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(page)
	if err != nil || m == nil {
		t.Fatalf("GET /: %v, no CSRF token in the page", err)
	}
	post := func(path string, form url.Values) {
		form.Set("csrf_token", string(m[1]))
		resp, err := client.PostForm(base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST %s: %s", path, resp.Status)
		}
	}
	post("/sms/send", url.Values{"phone": {"+1 555 0100"}})
	post("/sms/check", url.Values{"code": {"not a code"}})
	keys, err := srv.Client(t).Keys(context.Background(), redisguard.DefaultPrefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || !strings.HasPrefix(keys[0], redisguard.DefaultPrefix+"count") {
		t.Fatalf("Redis holds %q after one checked code, want one attempt counter", keys)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the demo exited with %v: %s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the demo did not stop on SIGINT")
	}
}

// TestDemoRedisUnreachable: a Redis that does not answer at start-up is an
// error (exit status 1), not a demo that would refuse every code.
func TestDemoRedisUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	r := cli(t, "", "", "demo", "-addr", "127.0.0.1:0", "-redis", addr)
	if r.code != exitFailure || !strings.Contains(r.stderr, "cookiesession: demo: Redis at "+addr) {
		t.Fatalf("demo -redis %s: exit %d, stderr %q; want 1 and the Redis error", addr, r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "listening") {
		t.Fatalf("the demo started without its Redis: %q", r.stdout)
	}
}
