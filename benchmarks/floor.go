package benchmarks

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"slices"
	"strconv"
	"time"

	"github.com/cookiesession/cookiesession/internal/b64url"
)

// The HKDF labels cookiesession derives its two keys with (rotate.go, wire
// format v2): each ends in a NUL and the key ID.
const (
	hkdfInfoHMAC = "cookiesession/v2 hmac-sha256\x00"
	hkdfInfoAES  = "cookiesession/v2 aes-256\x00"
)

// DeriveKeys returns the HMAC and AES keys cookiesession derives from secret
// for the key ID keyID.
func DeriveKeys(keyID string, secret []byte) (hashKey, blockKey []byte) {
	var err error
	if hashKey, err = hkdf.Key(sha256.New, secret, nil, hkdfInfoHMAC+keyID, 32); err != nil {
		panic(err)
	}
	if blockKey, err = hkdf.Key(sha256.New, secret, nil, hkdfInfoAES+keyID, 32); err != nil {
		panic(err)
	}
	return hashKey, blockKey
}

var b64 = base64.URLEncoding // securecookie's: URL alphabet, padded

const (
	ivLen  = aes.BlockSize
	macLen = sha256.Size
)

// Floor is the least work the wire format
//
//	keyID "." base64(timestamp "|" base64(iv || AES-256-CTR(payload)) "|" HMAC-SHA256(name "|" timestamp "|" base64(...)))
//
// needs: a random IV, AES-256-CTR, one HMAC-SHA256, two base64 passes and
// the timestamp, on payload bytes that are already msgpack, into buffers
// that are reused. It does no msgpack work and no validation beyond the MAC,
// so no implementation of the format can beat it by much. Its base64 is the
// library's own (internal/b64url, faster than encoding/base64), so that the
// floor stays below the library. Its CTR is the
// standard library's cipher.NewCTR, which allocates an object per call (two
// per round trip; TestFloorAllocs counts them). A Floor is not safe for
// concurrent use.
type Floor struct{ floor }

// TightFloor is Floor without any allocation: it builds the CTR keystream
// block by block with cipher.Block.Encrypt into a reused buffer, as the
// library does for small payloads, instead of calling cipher.NewCTR.
// TestFloorAllocs proves it allocates nothing. Block by block costs more CPU
// per block than cipher.NewCTR's pipelined keystream and saves the
// allocations' garbage collection, so which floor is lower depends on the
// payload's size; BENCHMARKS.md measures both. A TightFloor is not safe for
// concurrent use.
type TightFloor struct{ floor }

type floor struct {
	keyID     []byte // "k1."
	namePipe  []byte // "session|"
	block     cipher.Block
	mac       hash.Hash
	sum       [macLen]byte
	blockwise bool // CTR block by block (TightFloor), else cipher.NewCTR
	stdB64    bool // encoding/base64, as before the library had its own

	ivct, mid, out []byte // encode scratch
	dmid, divct    []byte // decode scratch
	plain          []byte
	ks             []byte // keystream, blockwise only
}

// NewFloor returns a Floor for cookie name and a cookiesession key.
func NewFloor(name, keyID string, secret []byte) *Floor {
	return &Floor{newFloor(name, keyID, secret)}
}

// NewTightFloor returns a TightFloor for cookie name and a cookiesession key.
func NewTightFloor(name, keyID string, secret []byte) *TightFloor {
	f := newFloor(name, keyID, secret)
	f.blockwise = true
	return &TightFloor{f}
}

// newStdB64TightFloor returns a TightFloor whose base64 is encoding/base64's:
// the floor of the runs before the library had its own base64, which
// BENCHMARKS.md keeps as a context row.
func newStdB64TightFloor(name, keyID string, secret []byte) *TightFloor {
	f := NewTightFloor(name, keyID, secret)
	f.stdB64 = true
	return f
}

// appendEncode appends the base64 of src to dst.
func (f *floor) appendEncode(dst, src []byte) []byte {
	if f.stdB64 {
		return b64.AppendEncode(dst, src)
	}
	n := len(dst)
	dst = slices.Grow(dst, b64url.EncodedLen(len(src)))[:n+b64url.EncodedLen(len(src))]
	b64url.Encode(dst[n:], src)
	return dst
}

// appendDecode appends the decoding of src to dst.
func (f *floor) appendDecode(dst, src []byte) ([]byte, error) {
	if f.stdB64 {
		return b64.AppendDecode(dst, src)
	}
	n, max := len(dst), b64url.DecodedLen(len(src))
	dst = slices.Grow(dst, max)
	m, ok := b64url.Decode(dst[n:n+max], src)
	if !ok {
		return nil, errFloor
	}
	return dst[:n+m], nil
}

func newFloor(name, keyID string, secret []byte) floor {
	hashKey, blockKey := DeriveKeys(keyID, secret)
	block, err := aes.NewCipher(blockKey)
	if err != nil {
		panic(err)
	}
	return floor{
		keyID:    []byte(keyID + "."),
		namePipe: []byte(name + "|"),
		block:    block,
		mac:      hmac.New(sha256.New, hashKey),
	}
}

// xorCTR sets dst to src XOR the AES-CTR keystream from iv, the whole IV
// being the big-endian 128-bit counter, as cipher.NewCTR does.
func (f *floor) xorCTR(iv, dst, src []byte) {
	if !f.blockwise {
		cipher.NewCTR(f.block, iv).XORKeyStream(dst, src)
		return
	}
	n := (len(src) + ivLen - 1) / ivLen * ivLen
	if cap(f.ks) < n {
		f.ks = make([]byte, n)
	}
	ks := f.ks[:n]
	hi, lo := binary.BigEndian.Uint64(iv[:8]), binary.BigEndian.Uint64(iv[8:])
	for i := 0; i < n; i += ivLen {
		binary.BigEndian.PutUint64(ks[i:], hi)
		binary.BigEndian.PutUint64(ks[i+8:], lo)
		f.block.Encrypt(ks[i:i+ivLen], ks[i:i+ivLen])
		if lo++; lo == 0 {
			hi++
		}
	}
	subtle.XORBytes(dst, src, ks)
}

// Encode seals payload. The result is valid until the next call.
func (f *floor) Encode(payload []byte) []byte {
	n := ivLen + len(payload)
	if cap(f.ivct) < n {
		f.ivct = make([]byte, n)
	}
	ivct := f.ivct[:n]
	iv := ivct[:ivLen]
	rand.Read(iv)
	f.xorCTR(iv, ivct[ivLen:], payload)

	mid := strconv.AppendInt(f.mid[:0], time.Now().Unix(), 10)
	mid = append(mid, '|')
	mid = f.appendEncode(mid, ivct)
	f.mac.Reset()
	f.mac.Write(f.namePipe)
	f.mac.Write(mid)
	mid = append(mid, '|')
	mid = f.mac.Sum(mid)
	f.mid = mid

	out := append(f.out[:0], f.keyID...)
	out = f.appendEncode(out, mid)
	f.out = out
	return out
}

var errFloor = errors.New("floor: value does not open")

// Decode verifies and decrypts value ("keyID.base64..."). The plaintext is
// valid until the next call.
func (f *floor) Decode(value []byte) ([]byte, error) {
	if !bytes.HasPrefix(value, f.keyID) {
		return nil, errFloor
	}
	mid, err := f.appendDecode(f.dmid[:0], value[len(f.keyID):])
	if err != nil || len(mid) < macLen+4 {
		return nil, errFloor
	}
	f.dmid = mid
	signed, mac := mid[:len(mid)-macLen-1], mid[len(mid)-macLen:]
	f.mac.Reset()
	f.mac.Write(f.namePipe)
	f.mac.Write(signed)
	if !hmac.Equal(f.mac.Sum(f.sum[:0]), mac) {
		return nil, errFloor
	}
	bar := bytes.IndexByte(signed, '|')
	if bar < 0 {
		return nil, errFloor
	}
	ivct, err := f.appendDecode(f.divct[:0], signed[bar+1:])
	if err != nil || len(ivct) <= ivLen {
		return nil, errFloor
	}
	f.divct = ivct
	n := len(ivct) - ivLen
	if cap(f.plain) < n {
		f.plain = make([]byte, n)
	}
	plain := f.plain[:n]
	f.xorCTR(ivct[:ivLen], plain, ivct[ivLen:])
	return plain, nil
}
