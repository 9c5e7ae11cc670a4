package cookiesession

import (
	"strconv"

	"github.com/cookiesession/cookiesession/internal/b64url"
)

// Size returns how many bytes of cookies, counted over name=value as
// Config.MaxLength is, the session would take if it were sealed now: 0 for
// a session that encodes to nothing. It does no crypto. With
// Config.Compress it is an upper bound: the uncompressed size.
func (s *Session) Size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.payloadLen()
	if p == 0 {
		return 0
	}
	return s.c.cookieBytes(s.c.sealedLen(p, s.c.unixNow()))
}

// Room returns how many more bytes of payload the session can take before
// Encode fails with ErrTooLarge; it is negative when the session is already
// too large. A new key costs the msgpack encoding of the key and of its
// value (a key with a TTL also costs the key again and its deadline, and
// the 16th key two bytes of map header); sealing then grows everything by
// about 1.8 times, which Room has already allowed for. With Config.Compress
// Room ignores compression, so it errs on the safe side.
func (s *Session) Room() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.payloadLen()
	if p == 0 {
		p = s.c.emptyPayloadLen(s)
	}
	now := s.c.unixNow()    // one clock read for the whole search
	lo, hi := 0, maxPayload // the largest payload that fits lies in [lo, hi]
	if s.c.cookiesFor(s.c.sealedLen(lo, now)) == 0 {
		return -p
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if s.c.cookiesFor(s.c.sealedLen(mid, now)) > 0 {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo - p
}

// payloadLen returns the length of the envelope s would be sealed in now,
// or 0 if s encodes to nothing.
func (s *Session) payloadLen() int {
	s.load()
	c := s.c
	now := c.unixNow()
	dropExpired(&s.entries, now)
	deadline := c.deadline(s, now)
	if len(s.entries) == 0 && len(s.flashes) == 0 || deadline <= now {
		return 0
	}
	bp := c.getBuf()
	defer c.bufs.Put(bp)
	*bp = c.appendPayload((*bp)[:0], s, now, deadline)
	return len(*bp)
}

// emptyPayloadLen is the envelope length of s with no data.
func (c *Codec) emptyPayloadLen(s *Session) int {
	var empty Session
	empty.c, empty.created, empty.mode, empty.expArg = c, s.created, s.mode, s.expArg
	now := c.unixNow()
	return len(c.appendPayload(nil, &empty, now, c.deadline(&empty, now)))
}

// sealedLen is the length of the value that seals a payload of p bytes at
// now.
func (c *Codec) sealedLen(p int, now int64) int {
	ts := len(strconv.FormatInt(now, 10))
	mid := ts + 1 + b64url.EncodedLen(aesBlock+p) + 1 + macLen
	return len(c.keys.PrimaryID()) + 1 + b64url.EncodedLen(mid)
}

// cookieBytes is the name=value bytes of the cookies that carry a sealed
// value of n bytes.
func (c *Codec) cookieBytes(n int) int {
	count := c.cookiesFor(n)
	if count <= 1 {
		return len(c.name) + 1 + n
	}
	total := n + len(strconv.Itoa(count)) + 1
	for i := 0; i < count; i++ {
		total += len(c.chunkName(i)) + 1
	}
	return total
}
