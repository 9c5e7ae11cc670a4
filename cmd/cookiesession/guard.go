package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/redisguard"
	"github.com/redis/go-redis/v9"
)

// redisPingTimeout bounds the demo's start-up check of its Redis.
const redisPingTimeout = 3 * time.Second

// demoGuard returns the demo's Guard, a name for it and what releases it:
// in memory (this process only) without redisAddr, else in the Redis at
// redisAddr, which several demo processes can share. A Redis that does not
// answer PING at start-up is an error: a demo that started anyway would
// refuse every code (its guard fails closed).
func demoGuard(redisAddr string) (cookiesession.Guard, string, func(), error) {
	if redisAddr == "" {
		return cookiesession.NewMemoryGuard(cookiesession.MemoryGuardConfig{}), "in-memory guard (this process only)", func() {}, nil
	}
	client := redis.NewClient(&redis.Options{Addr: redisAddr, ContextTimeoutEnabled: true})
	ctx, cancel := context.WithTimeout(context.Background(), redisPingTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, "", nil, fmt.Errorf("cookiesession: demo: Redis at %s: %w", redisAddr, err)
	}
	g, err := redisguard.New(client)
	if err != nil {
		client.Close()
		return nil, "", nil, err
	}
	return g, fmt.Sprintf("Redis guard at %s (shared by every demo using it)", redisAddr), func() { client.Close() }, nil
}
