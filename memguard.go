package cookiesession

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultMemoryGuardEntries is the number of live entries a MemoryGuard
// holds when MemoryGuardConfig.MaxEntries is zero: a few tens of megabytes
// at most.
const DefaultMemoryGuardEntries = 100_000

// ErrGuardFull means a MemoryGuard holds MaxEntries live entries and cannot
// record a new one until some expire. It wraps ErrGuardUnavailable, so
// one-time values and attempt limits fail closed on it.
var ErrGuardFull = fmt.Errorf("%w: memory guard full", ErrGuardUnavailable)

// MemoryGuardConfig configures NewMemoryGuard. The zero value is usable.
type MemoryGuardConfig struct {
	// MaxEntries bounds the live entries (spent nonces, counters,
	// revocations) the guard holds; default DefaultMemoryGuardEntries.
	// When it is reached, operations that would add an entry fail with
	// ErrGuardFull rather than forget one: forgetting a spent nonce or a
	// counter would reopen what it guards.
	MaxEntries int
	// Now returns the current time; default time.Now. Tests set it.
	Now func() time.Time
}

// A MemoryGuard is a Guard held in this process's memory: for a single
// server, or for tests. Servers that share sessions need a shared Guard
// (Redis: see the redisguard module), or a replayed cookie sent to another
// server escapes this one's memory.
//
// Its memory is bounded by MaxEntries. Entries are forgotten when their ttl
// or window passes; expired entries are dropped as later operations come
// in, so a MemoryGuard runs no goroutine and needs no Close. It is safe for
// concurrent use. The zero MemoryGuard is an empty one with the defaults
// of a zero MemoryGuardConfig.
type MemoryGuard struct {
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[memKey]*memEntry
	byTime  memHeap // the same entries, soonest deadline first
}

// memKey keeps the operations' key spaces apart: a key consumed once is
// not a counter of the same name.
type memKey struct {
	op  memOp
	key string
}

type memOp uint8

const (
	opConsume memOp = iota
	opCount
	opRevoke
)

type memEntry struct {
	k        memKey
	deadline int64 // Unix nanoseconds from which the entry is gone
	n        int64 // the count, for opCount
	at       int64 // the revocation time in Unix nanoseconds, for opRevoke
	index    int   // in byTime
}

// NewMemoryGuard returns an empty MemoryGuard configured by cfg.
func NewMemoryGuard(cfg MemoryGuardConfig) *MemoryGuard {
	g := &MemoryGuard{max: cfg.MaxEntries, now: cfg.Now, entries: map[memKey]*memEntry{}}
	if g.max <= 0 {
		g.max = DefaultMemoryGuardEntries
	}
	if g.now == nil {
		g.now = time.Now
	}
	return g
}

// Len returns the number of live entries.
func (g *MemoryGuard) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.expire(g.clock())
	return len(g.entries)
}

// Consume implements Guard.
func (g *MemoryGuard) Consume(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := checkCall(ctx, ttl); err != nil {
		return false, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock()
	g.expire(now)
	k := memKey{opConsume, key}
	if _, ok := g.entries[k]; ok {
		return false, nil
	}
	if _, err := g.add(k, now, ttl); err != nil {
		return false, err
	}
	return true, nil
}

// Count implements Guard.
func (g *MemoryGuard) Count(ctx context.Context, key string, window time.Duration) (int64, error) {
	if err := checkCall(ctx, window); err != nil {
		return 0, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock()
	g.expire(now)
	k := memKey{opCount, key}
	e, ok := g.entries[k]
	if !ok {
		var err error
		if e, err = g.add(k, now, window); err != nil {
			return 0, err
		}
	}
	e.n++
	return e.n, nil
}

// Revoke implements Guard. A second Revoke of the same key keeps the later
// revocation time and the later deadline.
func (g *MemoryGuard) Revoke(ctx context.Context, key string, at time.Time, ttl time.Duration) error {
	if err := checkCall(ctx, ttl); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock()
	g.expire(now)
	k := memKey{opRevoke, key}
	if e, ok := g.entries[k]; ok {
		e.at = max(e.at, at.UnixNano())
		if d := deadlineAfter(now, ttl); d > e.deadline {
			e.deadline = d
			heap.Fix(&g.byTime, e.index)
		}
		return nil
	}
	e, err := g.add(k, now, ttl)
	if err != nil {
		return err
	}
	e.at = at.UnixNano()
	return nil
}

// RevokedAt implements Guard.
func (g *MemoryGuard) RevokedAt(ctx context.Context, keys ...string) ([]time.Time, error) {
	out := make([]time.Time, len(keys))
	if err := g.revokedAt(ctx, keys, out); err != nil {
		return nil, err
	}
	return out, nil
}

// revokedAt is RevokedAt answering into at, which is as long as keys. It
// keeps neither: the codec's revocation check passes views of its stack.
func (g *MemoryGuard) revokedAt(ctx context.Context, keys []string, at []time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrGuardUnavailable, err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.expire(g.clock())
	for i, key := range keys {
		at[i] = time.Time{}
		if e, ok := g.entries[memKey{opRevoke, key}]; ok {
			at[i] = time.Unix(0, e.at)
		}
	}
	return nil
}

// clock reads Config.Now, or time.Now for a zero MemoryGuard.
func (g *MemoryGuard) clock() int64 {
	if g.now == nil {
		return time.Now().UnixNano()
	}
	return g.now().UnixNano()
}

// checkCall refuses a done context (as ErrGuardUnavailable, the way a
// remote store that timed out would) and a ttl that would record nothing.
func checkCall(ctx context.Context, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrGuardUnavailable, err)
	}
	if ttl <= 0 {
		return fmt.Errorf("cookiesession: guard: ttl %v is not positive", ttl)
	}
	return nil
}

// add records a new entry for k that lives ttl from now. g.mu is held and
// expired entries are gone.
func (g *MemoryGuard) add(k memKey, now int64, ttl time.Duration) (*memEntry, error) {
	limit := g.max
	if limit <= 0 { // a zero MemoryGuard
		limit = DefaultMemoryGuardEntries
	}
	if len(g.entries) >= limit {
		return nil, ErrGuardFull
	}
	if g.entries == nil {
		g.entries = map[memKey]*memEntry{}
	}
	e := &memEntry{k: k, deadline: deadlineAfter(now, ttl)}
	g.entries[k] = e
	heap.Push(&g.byTime, e)
	return e, nil
}

// expire drops the entries whose deadline has come: amortised O(log n) per
// entry, paid by the operations that follow.
func (g *MemoryGuard) expire(now int64) {
	for len(g.byTime) > 0 && g.byTime[0].deadline <= now {
		e := heap.Pop(&g.byTime).(*memEntry)
		delete(g.entries, e.k)
	}
}

// deadlineAfter is now+ttl in Unix nanoseconds, saturating instead of
// wrapping around.
func deadlineAfter(now int64, ttl time.Duration) int64 {
	if d := now + int64(ttl); d >= now {
		return d
	}
	return 1<<63 - 1
}

// memHeap orders entries by deadline, for container/heap.
type memHeap []*memEntry

func (h memHeap) Len() int           { return len(h) }
func (h memHeap) Less(i, j int) bool { return h[i].deadline < h[j].deadline }
func (h memHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *memHeap) Push(x any) {
	e := x.(*memEntry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *memHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

var _ Guard = (*MemoryGuard)(nil)
