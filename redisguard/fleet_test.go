package redisguard

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/redisguard/redistest"
	"github.com/redis/go-redis/v9"
)

// The fleet tests run two HTTP servers in two processes (this test binary,
// started again with fleetServerEnv set) sharing one Redis and one key, and
// a client that replays an old cookie to both in turn.

// Environment of a fleet server process.
const (
	fleetServerEnv = "REDISGUARD_FLEET_SERVER" // "1" makes TestMain serve instead of testing
	fleetRedisEnv  = "REDISGUARD_FLEET_REDIS"  // Redis address
	fleetKeysEnv   = "COOKIESESSION_KEYS"      // cookiesession.FormatKeys
)

// The SMS login the fleet servers run.
const (
	codeTTL  = 5 * time.Minute
	maxTries = 5
)

func TestMain(m *testing.M) {
	if os.Getenv(fleetServerEnv) == "1" {
		if err := serveFleet(); err != nil {
			log.Fatal(err)
		}
		return
	}
	os.Exit(m.Run())
}

// serveFleet is a fleet server process: it listens on a loopback port,
// writes "listening ADDR" to stdout and serves until its stdin closes
// (which the test, or its death, does).
func serveFleet() error {
	keys, err := cookiesession.ParseKeys(os.Getenv(fleetKeysEnv))
	if err != nil {
		return err
	}
	client := redis.NewClient(&redis.Options{Addr: os.Getenv(fleetRedisEnv), ContextTimeoutEnabled: true})
	defer client.Close()
	g, err := New(client, WithPrefix("fleet:"))
	if err != nil {
		return err
	}
	codec, err := cookiesession.NewCodec(cookiesession.Config{Keys: keys, Insecure: true, Guard: g, Logger: quiet})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: smsLogin(codec), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	fmt.Printf("listening %s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return srv.Close()
}

// smsLogin is an SMS-code login on a codec with a Guard, as the README
// recommends: POST /send stores a one-time code (SetOnce) and answers it
// (in place of texting it); POST /check allows maxTries attempts per
// session (Codec.Attempt), and the right code logs in once (TakeOnce), then
// renews the session, which revokes the ID the old cookie carries.
func smsLogin(codec *cookiesession.Codec) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /send", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		code := randomDigits(6)
		s.SetOnce("code", code, codeTTL)
		fmt.Fprint(w, code)
	})
	mux.HandleFunc("POST /check", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		code, ok := cookiesession.Get[string](s, "code")
		if !ok {
			http.Error(w, "no code", http.StatusBadRequest)
			return
		}
		err := codec.Attempt(r.Context(), s, "sms", maxTries, codeTTL)
		switch {
		case errors.Is(err, cookiesession.ErrTooManyAttempts):
			http.Error(w, "too many tries", http.StatusTooManyRequests)
			return
		case err != nil:
			guardError(w, err)
			return
		}
		if r.PostFormValue("code") != code {
			http.Error(w, "wrong code", http.StatusForbidden)
			return
		}
		_, err = cookiesession.TakeOnce[string](r.Context(), s, "code")
		switch {
		case errors.Is(err, cookiesession.ErrAlreadyUsed):
			http.Error(w, "code already used", http.StatusConflict)
			return
		case err != nil:
			guardError(w, err)
			return
		}
		s.Renew()
		s.Set("user", "alice")
		fmt.Fprint(w, "logged in")
	})
	return codec.Middleware(mux)
}

// guardError answers a failed Guard call: 503 for ErrGuardUnavailable,
// which a caller can retry, 500 for anything else.
func guardError(w http.ResponseWriter, err error) {
	if errors.Is(err, cookiesession.ErrGuardUnavailable) {
		http.Error(w, "try again later", http.StatusServiceUnavailable)
		return
	}
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// quiet is the codec's logger in these tests: the rejected and unchecked
// cookies it would report are what the tests cause on purpose.
var quiet = slog.New(slog.DiscardHandler)

func randomDigits(n int) string {
	v, err := rand.Int(rand.Reader, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil))
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("%0*d", n, v)
}

// startFleetServer starts a fleet server process sharing redisAddr and
// keys, and returns its base URL. The process ends with t.
func startFleetServer(t *testing.T, redisAddr, keys string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fleetServerEnv+"=1", fleetRedisEnv+"="+redisAddr, fleetKeysEnv+"="+keys)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		t.Fatalf("fleet server did not start: %q, %v", line, err)
	}
	return "http://" + addr
}

// fleet is two server processes sharing one Redis, and a client without a
// cookie jar: it sends whatever cookie the test gives it.
type fleet struct {
	servers [2]string
	client  *http.Client
}

func startFleet(t *testing.T) *fleet {
	srv := redistest.Start(t)
	key, err := cookiesession.GenerateKey("fleet")
	if err != nil {
		t.Fatal(err)
	}
	keys := cookiesession.FormatKeys(key)
	f := &fleet{client: &http.Client{Timeout: 10 * time.Second}}
	for i := range f.servers {
		f.servers[i] = startFleetServer(t, srv.Addr(), keys)
	}
	if f.servers[0] == f.servers[1] {
		t.Fatal("both fleet servers on one address")
	}
	return f
}

// post sends a form to server i%2 with cookie (if any) and returns the
// status, the body and the session cookie the response set (or nil).
func (f *fleet) post(t *testing.T, i int, path string, cookie *http.Cookie, form url.Values) (int, string, *http.Cookie) {
	t.Helper()
	status, body, set, err := f.do(i, path, cookie, form)
	if err != nil {
		t.Fatal(err)
	}
	return status, body, set
}

func (f *fleet) do(i int, path string, cookie *http.Cookie, form url.Values) (int, string, *http.Cookie, error) {
	req, err := http.NewRequest("POST", f.servers[i%2]+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	var set *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == cookiesession.DefaultName {
			set = c
		}
	}
	return resp.StatusCode, strings.TrimSpace(string(body)), set, err
}

// sendCode asks server 0 for a code and returns it with the cookie that
// carries it: the cookie the client replays from then on.
func (f *fleet) sendCode(t *testing.T) (string, *http.Cookie) {
	t.Helper()
	status, code, cookie := f.post(t, 0, "/send", nil, nil)
	if status != http.StatusOK || cookie == nil {
		t.Fatalf("/send: %d %q, cookie %v", status, code, cookie)
	}
	return code, cookie
}

// wrongCode returns a code other than code.
func wrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

// TestFleetAttemptLimit replays the cookie saved right after /send, with
// wrong codes, to two servers in turn: the fleet as a whole allows
// maxTries attempts, then refuses every guess, the right one included.
func TestFleetAttemptLimit(t *testing.T) {
	f := startFleet(t)
	code, cookie := f.sendCode(t)
	for i := range 40 {
		status, body, _ := f.post(t, i, "/check", cookie, url.Values{"code": {wrongCode(code)}})
		want := http.StatusForbidden
		if i >= maxTries {
			want = http.StatusTooManyRequests
		}
		if status != want {
			t.Fatalf("guess %d (server %d): %d %q, want %d", i+1, i%2, status, body, want)
		}
	}
	for i := range 2 {
		if status, body, _ := f.post(t, i, "/check", cookie, url.Values{"code": {code}}); status != http.StatusTooManyRequests {
			t.Fatalf("the right code after the limit (server %d): %d %q, want %d", i, status, body, http.StatusTooManyRequests)
		}
	}
}

// TestFleetConcurrentGuesses sends many wrong guesses at once with the same
// cookie to both servers: exactly maxTries of them are judged, the rest
// refused.
func TestFleetConcurrentGuesses(t *testing.T) {
	f := startFleet(t)
	code, cookie := f.sendCode(t)
	statuses := f.concurrently(t, 40, cookie, wrongCode(code))
	if statuses[http.StatusForbidden] != maxTries || statuses[http.StatusTooManyRequests] != 40-maxTries {
		t.Fatalf("40 concurrent wrong guesses: statuses %v, want %d × 403 and %d × 429", statuses, maxTries, 40-maxTries)
	}
}

// TestFleetCodeUsedOnce replays the post-/send cookie with the right code,
// concurrently, to both servers: exactly one request logs in. The others
// find the code spent (409), the attempts used up (429), or, once the login
// response has revoked the old session ID, no session at all (400).
func TestFleetCodeUsedOnce(t *testing.T) {
	f := startFleet(t)
	code, cookie := f.sendCode(t)
	statuses := f.concurrently(t, 20, cookie, code)
	if statuses[http.StatusOK] != 1 {
		t.Fatalf("20 concurrent replays of the right code: statuses %v, want exactly one 200", statuses)
	}
	if statuses[http.StatusOK]+statuses[http.StatusConflict]+statuses[http.StatusTooManyRequests]+statuses[http.StatusBadRequest] != 20 {
		t.Fatalf("20 concurrent replays of the right code: statuses %v, want one 200 and the rest 409, 429 or 400", statuses)
	}
	// Later, on each server: the login revoked the cookie's session ID
	// fleet-wide, so it no longer opens.
	for i := range 2 {
		if status, body, _ := f.post(t, i, "/check", cookie, url.Values{"code": {code}}); status != http.StatusBadRequest || body != "no code" {
			t.Fatalf("replay on server %d after the login: %d %q, want 400 \"no code\" (a revoked session)", i, status, body)
		}
	}
}

// TestFleetLoginThenReplay logs in on one server and replays the cookie
// from before the login on the other: the session ID it carries was
// revoked by the login, fleet-wide.
func TestFleetLoginThenReplay(t *testing.T) {
	f := startFleet(t)
	code, cookie := f.sendCode(t)
	status, body, loggedIn := f.post(t, 0, "/check", cookie, url.Values{"code": {code}})
	if status != http.StatusOK || loggedIn == nil {
		t.Fatalf("login on server 0: %d %q, cookie %v", status, body, loggedIn)
	}
	if status, body, _ := f.post(t, 1, "/check", cookie, url.Values{"code": {code}}); status != http.StatusBadRequest || body != "no code" {
		t.Fatalf("the pre-login cookie on server 1: %d %q, want 400 \"no code\" (a revoked session)", status, body)
	}
}

// concurrently sends n /check requests with cookie and code at once,
// alternating between the servers, and counts their statuses.
func (f *fleet) concurrently(t *testing.T, n int, cookie *http.Cookie, code string) map[int]int {
	statuses := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			status, _, _, err := f.do(i, "/check", cookie, url.Values{"code": {code}})
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			statuses[status]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return statuses
}
