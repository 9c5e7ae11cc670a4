package cookiesession_test

import (
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/guardtest"
)

// TestMemoryGuard_Contract runs the Guard contract (guardtest) against
// MemoryGuard, as redisguard's TestContract does against Redis.
func TestMemoryGuard_Contract(t *testing.T) {
	guardtest.Run(t, func(t *testing.T) cookiesession.Guard {
		return cookiesession.NewMemoryGuard(cookiesession.MemoryGuardConfig{})
	})
}
