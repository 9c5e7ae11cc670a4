package redisguard

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a redis-server process started by a test, listening on a
// loopback port, without persistence. It can be stopped and started again
// on the same port.
type redisServer struct {
	path string
	dir  string
	port int

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan error // receives cmd's exit once
	out    bytes.Buffer
}

// redisServerPath returns the redis-server executable, or skips t when
// there is none: unless REDIS_REQUIRED=1, which makes that a failure (CI
// sets it, so the Redis tests cannot silently not run there).
func redisServerPath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("redis-server")
	if err == nil {
		return p
	}
	const msg = "redis-server not found on PATH; install it with `apt-get install -y redis-server`"
	if os.Getenv("REDIS_REQUIRED") == "1" {
		t.Fatal(msg + " (REDIS_REQUIRED=1)")
	}
	t.Skip(msg + "; set REDIS_REQUIRED=1 to make this a failure")
	return ""
}

// startRedis starts a redis-server on a free loopback port and stops it
// when t ends.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	s := &redisServer{path: redisServerPath(t), dir: t.TempDir()}
	t.Cleanup(s.stop)
	// Another process may take the free port between the probe and
	// redis-server's bind: try a few ports.
	var err error
	for range 5 {
		s.port = freePort(t)
		if err = s.start(); err == nil {
			return s
		}
	}
	t.Fatalf("starting redis-server: %v", err)
	return nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (s *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// start runs redis-server on s.port and waits until it answers PING.
func (s *redisServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("redis-server already running")
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
	c := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
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
			return fmt.Errorf("redis-server on port %d did not answer PING within 10 s: %v", s.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills redis-server, if it runs, and waits for it to exit.
func (s *redisServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // in case it was paused
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd, s.exited = nil, nil
}

// signal sends sig to the running redis-server.
func (s *redisServer) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		t.Fatal("redis-server is not running")
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// client returns a client of s, configured as New requires, closed when t
// ends.
func (s *redisServer) client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// guard returns a Guard on s with a prefix of its own.
func (s *redisServer) guard(t testing.TB) *Guard {
	t.Helper()
	g, err := New(s.client(t), WithPrefix(fmt.Sprintf("test-%d:", prefixes.Add(1))))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

var prefixes atomic.Int64
