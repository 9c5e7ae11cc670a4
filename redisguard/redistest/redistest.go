// Package redistest runs a throwaway redis-server for tests: on a free
// loopback port, without persistence, stopped when the test ends. Tests use
// it to check code against a real Redis, including Redis going away and
// coming back on the same port.
//
// When redis-server is not installed, Start skips the test, unless the
// environment variable REDIS_REQUIRED is "1" (CI sets it): then it fails
// the test, so that Redis tests cannot silently not run.
package redistest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A Server is a redis-server process. Its methods are safe for concurrent
// use.
type Server struct {
	path string
	dir  string
	port int

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan error // receives cmd's exit once
	out    bytes.Buffer
}

// Start starts a redis-server on a free loopback port and stops it when t
// ends. It skips t (fails it with REDIS_REQUIRED=1) when redis-server is
// not on PATH, and fails t when the server does not come up.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{path: lookPath(t), dir: t.TempDir()}
	t.Cleanup(s.Stop)
	// Another process may take the free port between the probe and
	// redis-server's bind: try a few ports.
	var err error
	for range 5 {
		if s.port, err = freePort(); err != nil {
			break
		}
		if err = s.Restart(); err == nil {
			return s
		}
	}
	t.Fatalf("redistest: starting redis-server: %v", err)
	return nil
}

// lookPath returns the redis-server executable, or skips or fails t.
func lookPath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("redis-server")
	if err == nil {
		return p
	}
	const msg = "redistest: redis-server not found on PATH; install it with `apt-get install -y redis-server`"
	if os.Getenv("REDIS_REQUIRED") == "1" {
		t.Fatal(msg + " (REDIS_REQUIRED=1)")
	}
	t.Skip(msg + "; set REDIS_REQUIRED=1 to make this a failure")
	return ""
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Addr returns the server's address, "127.0.0.1:PORT". It stays the same
// across Stop and Restart.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Restart starts the server again on its port after Stop (Start has
// already started it once) and waits until it answers PING. It forgot
// everything: nothing is kept on disk.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("redis-server already running on %s", s.Addr())
	}
	s.out.Reset()
	cmd := exec.Command(s.path,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--maxmemory-policy", "noeviction", "--loglevel", "warning")
	cmd.Stdout, cmd.Stderr = &s.out, &s.out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("redis-server exited (%v): %s", err, s.out.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			s.cmd, s.exited = cmd, exited
			return nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("redis-server on %s did not answer PING within 10 s: %v", s.Addr(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server, if it runs, and waits for it to exit: clients
// then get connection refused.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = resume(s.cmd.Process) // a paused process would not die until resumed
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd, s.exited = nil, nil
}

// Pause stops the server's process without ending it (SIGSTOP): it keeps
// its port and accepted connections but answers nothing, like a Redis
// that hangs. Resume undoes it.
func (s *Server) Pause(t testing.TB) { s.signal(t, pause) }

// Resume lets a paused server go on (SIGCONT).
func (s *Server) Resume(t testing.TB) { s.signal(t, resume) }

func (s *Server) signal(t testing.TB, f func(*os.Process) error) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		t.Fatal("redistest: redis-server is not running")
	}
	if err := f(s.cmd.Process); err != nil {
		t.Fatal(err)
	}
}

// Client returns a client of the server, with ContextTimeoutEnabled (as
// redisguard.New requires), closed when t ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}
