package redisguard

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/redisguard/redistest"
)

// The cost of one guarded operation: in this process's memory
// (cookiesession.MemoryGuard) and in a redis-server on loopback, one
// goroutine at a time and from GOMAXPROCS goroutines at once.

// benchKeys are the keys the benchmarks cycle through, made beforehand so
// that making them is not measured.
var benchKeys = func() []string {
	keys := make([]string, 1<<16)
	for i := range keys {
		// The length of the keys cookiesession makes: a kind and a
		// base64 SHA-256.
		keys[i] = "once/" + strconv.Itoa(i) + "-abcdefghijklmnopqrstuvwxyz0123456789ABCD"
	}
	return keys
}()

// benchKey returns the i-th key, cycling.
func benchKey(i int) string { return benchKeys[i%len(benchKeys)] }

// benchGuards runs f against each Guard, serially and in parallel.
func benchGuards(b *testing.B, f func(b *testing.B, g cookiesession.Guard, i int)) {
	srv := redistest.Start(b)
	guards := []struct {
		name string
		g    cookiesession.Guard
	}{
		{"memory", cookiesession.NewMemoryGuard(cookiesession.MemoryGuardConfig{})},
		{"redis", testGuard(b, srv)},
	}
	for _, gd := range guards {
		b.Run(gd.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				f(b, gd.g, i)
			}
		})
		b.Run(gd.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					f(b, gd.g, int(next.Add(1)))
				}
			})
		})
	}
}

// BenchmarkConsume is TakeOnce's guard call: a fresh nonce spent (its
// 10 ms ttl has passed when the key comes round again).
func BenchmarkConsume(b *testing.B) {
	benchGuards(b, func(b *testing.B, g cookiesession.Guard, i int) {
		if _, err := g.Consume(context.Background(), benchKey(i), 10*time.Millisecond); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkCount is Attempt's guard call: one more attempt on a counter.
func BenchmarkCount(b *testing.B) {
	benchGuards(b, func(b *testing.B, g cookiesession.Guard, i int) {
		if _, err := g.Count(context.Background(), benchKey(i), time.Minute); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkRevokedAt is the check every session opened with a Guard pays:
// its session ID and its subject, neither revoked.
func BenchmarkRevokedAt(b *testing.B) {
	benchGuards(b, func(b *testing.B, g cookiesession.Guard, i int) {
		if _, err := g.RevokedAt(context.Background(), benchKey(i), benchKey(i+1)); err != nil {
			b.Fatal(err)
		}
	})
}
