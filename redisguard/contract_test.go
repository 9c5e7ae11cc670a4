package redisguard

import (
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/guardtest"
	"github.com/cookiesession/cookiesession/redisguard/redistest"
)

// TestContract runs the Guard contract against a real redis-server.
func TestContract(t *testing.T) {
	srv := redistest.Start(t)
	guardtest.Run(t, func(t *testing.T) cookiesession.Guard { return testGuard(t, srv) })
}
