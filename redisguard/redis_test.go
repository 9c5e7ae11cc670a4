package redisguard

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/cookiesession/cookiesession/redisguard/redistest"
)

// testGuard returns a Guard on srv with a prefix of its own, so that tests
// sharing a server share no keys.
func testGuard(t testing.TB, srv *redistest.Server) *Guard {
	t.Helper()
	g, err := New(srv.Client(t), WithPrefix(fmt.Sprintf("test-%d:", prefixes.Add(1))))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

var prefixes atomic.Int64
