package redisguard

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Kinds of record: each has its own part of the namespace, so a spent
// nonce, a counter and a revocation under the same key never meet.
const (
	kindOnce    = "once"
	kindCount   = "count"
	kindRevoked = "revoked"
)

// maxRawKey is the longest key kept as it is in Redis; longer keys are
// replaced by their SHA-256, which bounds every Redis key at the prefix
// plus 72 bytes.
const maxRawKey = 64

// key returns the Redis key of the record of this kind under key:
// prefix + kind + ":" + key, or prefix + kind + "#" + hex(SHA-256(key))
// for a key longer than maxRawKey. The separator tells the two forms apart,
// so a key that looks like a hash never meets a hashed key.
func (g *Guard) key(kind, key string) string {
	if len(key) <= maxRawKey {
		return g.prefix + kind + ":" + key
	}
	sum := sha256.Sum256([]byte(key))
	return g.prefix + kind + "#" + hex.EncodeToString(sum[:])
}

// timeDigits is the width of an encoded time: every uint64 fits.
const timeDigits = 20

// encodeTime encodes t's Unix nanoseconds, with the sign bit flipped, as
// timeDigits decimal digits: an encoding whose byte order is time order,
// which the revoke script compares as strings (Lua's numbers, doubles,
// would round nanoseconds away).
func encodeTime(t time.Time) (string, error) {
	if t.Before(minTime) || t.After(maxTime) {
		return "", fmt.Errorf("redisguard: Revoke: time %v is outside the years 1678 to 2262", t)
	}
	return fmt.Sprintf("%0*d", timeDigits, uint64(t.UnixNano())^(1<<63)), nil
}

// The range of time.Time.UnixNano.
var (
	minTime = time.Unix(0, -1<<63)
	maxTime = time.Unix(0, 1<<63-1)
)

// decodeTime reverses encodeTime.
func decodeTime(s string) (time.Time, error) {
	u, err := strconv.ParseUint(s, 10, 64)
	if err != nil || len(s) != timeDigits {
		return time.Time{}, fmt.Errorf("revocation record %q is not a time this package wrote", s)
	}
	return time.Unix(0, int64(u^(1<<63))), nil
}
