package redistest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession/redisguard/redistest"
	"github.com/redis/go-redis/v9"
)

func TestStopRestartSamePort(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	srv.Stop()
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := c.Ping(short).Err(); err == nil {
		t.Fatal("PING succeeded after Stop")
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if srv.Addr() != addr {
		t.Fatalf("Addr after Restart = %s, want %s", srv.Addr(), addr)
	}
	if err := srv.Restart(); err == nil {
		t.Fatal("Restart of a running server succeeded")
	}
	if err := redistest.Start(t).Client(t).Ping(ctx).Err(); err != nil {
		t.Fatalf("a second server: %v", err)
	}
	// The pool's connections died with the first process: the first
	// commands may meet one of them.
	var err error
	for range 3 {
		if err = c.Get(ctx, "k").Err(); errors.Is(err, redis.Nil) {
			break
		}
	}
	if !errors.Is(err, redis.Nil) {
		t.Fatalf("GET after Restart = %v, want redis.Nil (nothing kept)", err)
	}
}

// withoutServerEnv marks the subprocess of TestMissingServer.
const withoutServerEnv = "REDISTEST_WITHOUT_SERVER"

// TestMissingServer runs Start with no redis-server on PATH: it skips,
// unless REDIS_REQUIRED=1 makes it a failure.
func TestMissingServer(t *testing.T) {
	for _, required := range []string{"", "1"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStartWithoutServer$", "-test.v")
		cmd.Env = append(os.Environ(), "PATH="+t.TempDir(), "REDIS_REQUIRED="+required, withoutServerEnv+"=1")
		out, err := cmd.CombinedOutput()
		switch {
		case required == "" && (err != nil || !strings.Contains(string(out), "--- SKIP: TestStartWithoutServer")):
			t.Errorf("without redis-server and REDIS_REQUIRED: want a skip, got %v:\n%s", err, out)
		case required == "1" && (err == nil || !strings.Contains(string(out), "--- FAIL: TestStartWithoutServer")):
			t.Errorf("without redis-server, REDIS_REQUIRED=1: want a failure, got %v:\n%s", err, out)
		}
	}
}

// TestStartWithoutServer is the subprocess of TestMissingServer.
func TestStartWithoutServer(t *testing.T) {
	if os.Getenv(withoutServerEnv) != "1" {
		t.Skip("run by TestMissingServer, with " + withoutServerEnv + "=1")
	}
	redistest.Start(t)
	t.Log("Start returned")
}
