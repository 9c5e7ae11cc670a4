// Package b64url is base64 with the URL alphabet and padding, the encoding
// of securecookie's values, on the path of every cookie sealed or opened,
// in about half the time encoding/base64 takes on this work. Both ways go
// through tables of character pairs, two characters for 12 bits, where
// encoding/base64 handles one character at a time. Encode writes byte for
// byte what base64.URLEncoding does. Decode accepts exactly the canonical
// encodings: what base64.URLEncoding.Strict() accepts, less the line breaks
// that it skips, so each byte string has one encoding.
package b64url

import (
	"encoding/binary"
	"sync"
)

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// charPairs maps 12 bits to their two characters, the first in the low
// byte, so that four entries shifted into a uint64 and stored
// little-endian are 8 characters in order (8 KiB, built once and never
// written).
var charPairs = func() (t [4096]uint16) {
	for i := range t {
		t[i] = uint16(alphabet[i>>6]) | uint16(alphabet[i&63])<<8
	}
	return t
}()

// EncodedLen is base64.URLEncoding.EncodedLen.
func EncodedLen(n int) int { return (n + 2) / 3 * 4 }

// Encode writes the encoding of src to dst, as
// base64.URLEncoding.Encode(dst, src) does. It panics, having written
// nothing, if len(dst) < EncodedLen(len(src)).
func Encode(dst, src []byte) {
	if len(dst) < EncodedLen(len(src)) {
		panic("b64url: Encode into a short dst")
	}
	// 12 bytes per step, read as two overlapping 8-byte words: 6 bytes of
	// each, 48 bits, are 4 pairs.
	for len(src) >= 14 && len(dst) >= 16 {
		v := binary.BigEndian.Uint64(src)
		w := binary.BigEndian.Uint64(src[6:])
		binary.LittleEndian.PutUint64(dst, eight(v))
		binary.LittleEndian.PutUint64(dst[8:], eight(w))
		src, dst = src[12:], dst[16:]
	}
	// 6 bytes per step, read as one 8-byte word: 2 bytes more than it
	// encodes must be there to be read.
	for len(src) >= 8 && len(dst) >= 8 {
		binary.LittleEndian.PutUint64(dst, eight(binary.BigEndian.Uint64(src)))
		src, dst = src[6:], dst[8:]
	}
	for len(src) >= 3 {
		v := uint(src[0])<<16 | uint(src[1])<<8 | uint(src[2])
		dst[0], dst[1], dst[2], dst[3] = alphabet[v>>18], alphabet[v>>12&63], alphabet[v>>6&63], alphabet[v&63]
		src, dst = src[3:], dst[4:]
	}
	switch len(src) {
	case 2:
		v := uint(src[0])<<8 | uint(src[1])
		dst[0], dst[1], dst[2], dst[3] = alphabet[v>>10], alphabet[v>>4&63], alphabet[v<<2&63], '='
	case 1:
		v := uint(src[0])
		dst[0], dst[1], dst[2], dst[3] = alphabet[v>>2], alphabet[v<<4&63], '=', '='
	}
}

// eight returns the 8 characters of v's top 48 bits, first in the low byte.
func eight(v uint64) uint64 {
	return uint64(charPairs[v>>52]) | uint64(charPairs[v>>40&4095])<<16 |
		uint64(charPairs[v>>28&4095])<<32 | uint64(charPairs[v>>16&4095])<<48
}

// decodeMap maps a character to its 6 bits, or to 0xff (top bit set, which
// no character's value has) outside the alphabet. Built once and never
// written.
var decodeMap = func() (m [256]byte) {
	for i := range m {
		m[i] = 0xff
	}
	for i := range len(alphabet) {
		m[alphabet[i]] = byte(i)
	}
	return m
}()

// pairMap maps two characters, the first in the high byte, to their 12
// bits, or to 0xffff if either is outside the alphabet. It is built on
// first use, so that a process that never decodes does not hold its
// 128 KiB, and never written after.
var pairMap = sync.OnceValue(func() *[1 << 16]uint16 {
	m := new([1 << 16]uint16)
	for i := range m {
		m[i] = 0xffff
	}
	for i := range 4096 {
		m[uint16(alphabet[i>>6])<<8|uint16(alphabet[i&63])] = uint16(i)
	}
	return m
})

// DecodedLen is the most bytes Decode writes for n characters.
func DecodedLen(n int) int { return n / 4 * 3 }

// Decode decodes src, canonical padded base64url, into dst and returns the
// number of bytes written, as base64.URLEncoding.Strict().Decode would,
// with two more refusals: a length that is not a multiple of 4, and any
// byte other than the alphabet and the final padding, line breaks included
// (the base64 package skips those). So each byte string has exactly one
// encoding that Decode accepts. On false, what Decode wrote to dst is
// garbage. It panics, having written nothing, if
// len(dst) < DecodedLen(len(src)).
func Decode(dst, src []byte) (int, bool) {
	if len(dst) < DecodedLen(len(src)) {
		panic("b64url: Decode into a short dst")
	}
	if len(src)%4 != 0 {
		return 0, false
	}
	pairs := pairMap()
	n := 0
	// 8 characters per step into 6 bytes, stored as an 8-byte word whose
	// last 2 bytes the next step overwrites; the last quantum, which may
	// hold padding, is left to the end.
	for len(src) >= 12 && len(dst)-n >= 8 {
		p0, p1 := pairs[uint16(src[0])<<8|uint16(src[1])], pairs[uint16(src[2])<<8|uint16(src[3])]
		p2, p3 := pairs[uint16(src[4])<<8|uint16(src[5])], pairs[uint16(src[6])<<8|uint16(src[7])]
		if (p0|p1|p2|p3)&0xf000 != 0 {
			return 0, false
		}
		binary.BigEndian.PutUint64(dst[n:], uint64(p0)<<52|uint64(p1)<<40|uint64(p2)<<28|uint64(p3)<<16)
		src, n = src[8:], n+6
	}
	for len(src) > 0 {
		a0, a1, a2, a3 := decodeMap[src[0]], decodeMap[src[1]], decodeMap[src[2]], decodeMap[src[3]]
		last := len(src) == 4
		switch {
		case a0|a1|a2|a3 < 0x80: // four characters
			v := uint(a0)<<18 | uint(a1)<<12 | uint(a2)<<6 | uint(a3)
			dst[n], dst[n+1], dst[n+2] = byte(v>>16), byte(v>>8), byte(v)
			n += 3
		case last && a0|a1|a2 < 0x80 && src[3] == '=': // two bytes, padding bits zero
			if a2&3 != 0 {
				return 0, false
			}
			v := uint(a0)<<10 | uint(a1)<<4 | uint(a2)>>2
			dst[n], dst[n+1] = byte(v>>8), byte(v)
			n += 2
		case last && a0|a1 < 0x80 && src[2] == '=' && src[3] == '=': // one byte
			if a1&15 != 0 {
				return 0, false
			}
			dst[n] = a0<<2 | a1>>4
			n++
		default:
			return 0, false
		}
		src = src[4:]
	}
	return n, true
}
