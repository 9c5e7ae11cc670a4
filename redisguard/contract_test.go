package redisguard

import (
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/guardtest"
)

// TestContract runs the Guard contract against a real redis-server.
func TestContract(t *testing.T) {
	srv := startRedis(t)
	guardtest.Run(t, func(t *testing.T) cookiesession.Guard { return srv.guard(t) })
}
