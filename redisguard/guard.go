// Package redisguard is a cookiesession.Guard kept in Redis, for a fleet of
// servers that must agree on which one-time values are spent, how many
// attempts were made and which sessions are revoked.
//
// Every operation is one atomic Redis command or script, so concurrent
// requests on any number of servers sharing one Redis see each nonce
// consumed exactly once and each counter incremented exactly once per call.
// Every key carries a TTL, so Redis never grows without bound, and every
// key is namespaced (default prefix "cookiesession:") and bounded in length
// (longer keys are replaced by their SHA-256).
//
// # Failure policy
//
// Any failure to get an answer from Redis (connection refused, a timeout,
// the context's deadline or cancellation, an error reply) is returned as an
// error wrapping cookiesession.ErrGuardUnavailable and the cause, never a
// panic. The caller fails closed: a one-time value is not accepted, an
// attempt is not allowed. No operation outlasts its context's deadline:
// New insists on a client created with ContextTimeoutEnabled, without
// which go-redis ignores the context's deadline while it waits for a reply.
//
// # What Redis must be configured for
//
// A Guard is only as durable as Redis: with an eviction policy that evicts
// keys with a TTL (allkeys-*, volatile-*), a full Redis silently forgets
// spent nonces and counters, and a replayed one-time value works again. Run
// the Redis that a Guard uses with maxmemory-policy noeviction, so that a
// full Redis refuses writes (ErrGuardUnavailable: fail closed) instead. A
// failover to a replica that had not yet received the latest writes loses
// them too, and so does a restart of a Redis that keeps nothing on disk:
// enable appendonly persistence if a restart must not reopen the codes
// still within their ttl.
package redisguard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/redis/go-redis/v9"
)

// DefaultPrefix starts every key a Guard writes, unless WithPrefix says
// otherwise.
const DefaultPrefix = "cookiesession:"

// Guard is a cookiesession.Guard backed by Redis. It is safe for concurrent
// use by multiple goroutines, and any number of Guards (in any number of
// processes) sharing one Redis and one prefix act as one.
type Guard struct {
	client redis.UniversalClient
	prefix string
}

var _ cookiesession.Guard = (*Guard)(nil)

// An Option configures a Guard in New.
type Option func(*Guard)

// WithPrefix sets the prefix of every key the Guard writes (default
// DefaultPrefix). Guards with different prefixes share nothing, which lets
// several applications use one Redis.
func WithPrefix(prefix string) Option {
	return func(g *Guard) { g.prefix = prefix }
}

// ErrNoContextTimeout is returned by New for a client that would ignore
// the deadlines of the contexts it is given.
var ErrNoContextTimeout = errors.New("redisguard: the client must be created with ContextTimeoutEnabled: true, or it ignores the context's deadline while Redis does not answer")

// New returns a Guard that keeps its records in Redis through client.
//
// client must have been created with ContextTimeoutEnabled set (in
// redis.Options, redis.ClusterOptions, redis.RingOptions or
// redis.UniversalOptions): New returns ErrNoContextTimeout otherwise, since
// go-redis would then wait up to its ReadTimeout, whatever the context's
// deadline, for a Redis that accepts connections but does not answer.
// Clients of other types are accepted as they are.
func New(client redis.UniversalClient, opts ...Option) (*Guard, error) {
	if client == nil {
		return nil, errors.New("redisguard: nil client")
	}
	var honoursContext bool
	switch c := client.(type) {
	case *redis.Client:
		honoursContext = c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		honoursContext = c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		honoursContext = c.Options().ContextTimeoutEnabled
	default:
		honoursContext = true
	}
	if !honoursContext {
		return nil, ErrNoContextTimeout
	}
	g := &Guard{client: client, prefix: DefaultPrefix}
	for _, opt := range opts {
		opt(g)
	}
	return g, nil
}

// Consume marks key as spent for ttl (rounded up to a whole millisecond)
// with SET NX PX: of any number of concurrent calls with the same key, on
// any number of servers, exactly one reports true.
func (g *Guard) Consume(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ms, err := milliseconds("Consume", ttl)
	if err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, unavailable("Consume", err)
	}
	err = g.client.Do(ctx, "SET", g.key(kindOnce, key), "1", "PX", ms, "NX").Err()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, redis.Nil): // NX: the key exists
		return false, nil
	default:
		return false, unavailable("Consume", err)
	}
}

// countScript increments a counter and, on its first increment, gives it
// the window as its TTL. Later increments leave the TTL alone, so the
// window is fixed from the first attempt: retrying does not keep it open.
// A counter found without a TTL (which only someone else's PERSIST could
// cause) gets one, so that it cannot live forever.
var countScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) == -1 then
	redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
`)

// Count adds one to the counter under key and returns the new count, in
// one Lua script (INCR, and PEXPIRE on the first increment).
func (g *Guard) Count(ctx context.Context, key string, window time.Duration) (int64, error) {
	ms, err := milliseconds("Count", window)
	if err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, unavailable("Count", err)
	}
	n, err := countScript.Run(ctx, g.client, []string{g.key(kindCount, key)}, ms).Int64()
	if err != nil {
		return 0, unavailable("Count", err)
	}
	return n, nil
}

// revokeScript records a revocation time, keeping the later of the stored
// and the new one (ARGV[1]: times are encoded so that their byte order is
// their time order), and the later of the stored and the new deadline
// (ARGV[2], milliseconds from now): a revocation never ends earlier than
// any Revoke call asked for.
var revokeScript = redis.NewScript(`
local ttl = tonumber(ARGV[2])
local left = redis.call('PTTL', KEYS[1])
if left > ttl then
	ttl = left
end
local cur = redis.call('GET', KEYS[1])
if cur and cur > ARGV[1] then
	redis.call('PEXPIRE', KEYS[1], ttl)
else
	redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
end
return 1
`)

// Revoke records at as key's revocation time for ttl (rounded up to a
// whole millisecond), in one Lua script. A later time replaces an earlier
// one, never the reverse, and the record lasts until the latest deadline
// any Revoke call on key asked for. at must lie between the years 1678
// and 2262, the range of a nanosecond Unix time.
func (g *Guard) Revoke(ctx context.Context, key string, at time.Time, ttl time.Duration) error {
	ms, err := milliseconds("Revoke", ttl)
	if err != nil {
		return err
	}
	enc, err := encodeTime(at)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return unavailable("Revoke", err)
	}
	if err := revokeScript.Run(ctx, g.client, []string{g.key(kindRevoked, key)}, enc, ms).Err(); err != nil {
		return unavailable("Revoke", err)
	}
	return nil
}

// RevokedAt returns each key's revocation time, or the zero Time, with one
// GET per key sent in one pipeline: one round trip, and (unlike MGET) fine
// with keys that a Redis Cluster or Ring keeps on different nodes.
func (g *Guard) RevokedAt(ctx context.Context, keys ...string) ([]time.Time, error) {
	if err := ctx.Err(); err != nil {
		return nil, unavailable("RevokedAt", err)
	}
	times := make([]time.Time, len(keys))
	if len(keys) == 0 {
		return times, nil
	}
	cmds := make([]*redis.StringCmd, len(keys))
	_, err := g.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Get(ctx, g.key(kindRevoked, k))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, unavailable("RevokedAt", err)
	}
	for i, cmd := range cmds {
		v, err := cmd.Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, unavailable("RevokedAt", err)
		}
		if times[i], err = decodeTime(v); err != nil {
			return nil, unavailable("RevokedAt", err)
		}
	}
	return times, nil
}

// unavailable wraps err, the reason Redis gave no answer, in
// ErrGuardUnavailable.
func unavailable(op string, err error) error {
	return fmt.Errorf("redisguard: %s: %w: %w", op, cookiesession.ErrGuardUnavailable, err)
}

// milliseconds returns d in whole milliseconds, rounded up so that a record
// never expires before it was asked to, or an error for a d that is not
// positive: a record must expire, and one that expires at once would let a
// nonce be consumed again.
func milliseconds(op string, d time.Duration) (int64, error) {
	if d <= 0 {
		return 0, fmt.Errorf("redisguard: %s: duration %v is not positive", op, d)
	}
	ms := int64(d / time.Millisecond)
	if d%time.Millisecond != 0 {
		ms++
	}
	return ms, nil
}
