package cookiesession

// Two properties of the seal that SECURITY.md claims and that no
// round-trip test can see: every seal draws a fresh IV (so no two cookies
// share AES-CTR keystream), and a wrong MAC is rejected in a time that does
// not depend on where it first differs from the right one.

import (
	"bytes"
	"encoding/base64"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"
)

// sealIV returns the IV of a sealed value and the length of its
// ciphertext in AES blocks.
func sealIV(t *testing.T, v string) (iv [aesBlock]byte, blocks uint64) {
	t.Helper()
	_, mid := atkMid(t, v)
	signed := mid[:len(mid)-macLen-1] // the MAC may hold '|': cut it by length
	_, inner, ok := bytes.Cut(signed, []byte("|"))
	if !ok {
		t.Fatalf("no '|' in %q", signed)
	}
	ivct, err := base64.URLEncoding.DecodeString(string(inner))
	if err != nil || len(ivct) <= aesBlock {
		t.Fatalf("inner part does not decode: %v", err)
	}
	copy(iv[:], ivct)
	return iv, uint64(len(ivct)-aesBlock+aesBlock-1) / aesBlock
}

// ivOverlap reports the first pair of seals whose CTR counter ranges
// [IV, IV+blocks) overlap (a repeated IV among them), or -1.
func ivOverlap(ivs [][aesBlock]byte, blocks uint64) int {
	sorted := slices.Clone(ivs)
	sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(sorted[i][:], sorted[j][:]) < 0 })
	for i := 1; i < len(sorted); i++ {
		a, b := sorted[i-1], sorted[i]
		// b - a as a 128-bit number (b >= a).
		lo, borrow := bits.Sub64(be64(b[8:]), be64(a[8:]), 0)
		hi, _ := bits.Sub64(be64(b[:8]), be64(a[:8]), borrow)
		if hi == 0 && lo < blocks {
			return i
		}
	}
	return -1
}

func be64(p []byte) uint64 {
	var v uint64
	for _, x := range p[:8] {
		v = v<<8 | uint64(x)
	}
	return v
}

// TestSeal_IVsNeverRepeat: 50,000 seals of one session under one key draw
// 50,000 IVs far enough apart that no two cookies share a block of CTR
// keystream. A codec whose IV source repeats (the control) is caught by the
// same check.
func TestSeal_IVsNeverRepeat(t *testing.T) {
	const seals = 50000
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	s.Set("user", "alice")
	s.Set("cart", []int{1, 2, 3, 4, 5, 6, 7, 8})
	ivs := make([][aesBlock]byte, seals)
	var blocks uint64
	for i := range ivs {
		ivs[i], blocks = sealIV(t, mustEncode(t, c, s))
	}
	if blocks < 2 {
		t.Fatalf("control: the ciphertext is %d blocks; the overlap check wants several", blocks)
	}
	if i := ivOverlap(ivs, blocks); i >= 0 {
		t.Fatalf("two of %d seals share CTR keystream (IVs within %d blocks of each other)", seals, blocks)
	}

	// Control: an IV source that repeats itself every 1000 seals.
	rep, _ := newTestCodec(t, Config{Keys: c.keys})
	pattern := make([]byte, 1000*aesBlock)
	for i := range pattern {
		pattern[i] = byte(rand.Uint32())
	}
	rep.rand = &cycleReader{p: pattern}
	repIVs := make([][aesBlock]byte, 2000)
	for i := range repIVs {
		repIVs[i], _ = sealIV(t, mustEncode(t, rep, s))
	}
	if ivOverlap(repIVs, blocks) < 0 {
		t.Fatal("control: a repeating IV source went unnoticed")
	}
}

// cycleReader yields p over and over.
type cycleReader struct {
	p []byte
	i int
}

func (r *cycleReader) Read(b []byte) (int, error) {
	for n := range b {
		b[n] = r.p[r.i%len(r.p)]
		r.i++
	}
	return len(b), nil
}

// TestMAC_RejectionTimeIndependentOfPosition: cookies whose MAC differs
// from the right one first at byte 0, 8, 16, 24 or 31 (or in every byte)
// are rejected in the same median time, within timingTolerance, measured
// over many interleaved, shuffled batches (the median shrugs off the
// scheduler's hiccups, the interleaving the machine's drift).
//
// A control shows the harness resolves differences of that size: a cookie
// whose payload is 64 bytes longer (one more SHA-256 block or two, a few
// more base64 quads) must be measurably slower to reject. The comparison
// itself is hmac.Equal, constant time by construction; a position
// dependence smaller than the tolerance (a byte-at-a-time early exit over
// 32 bytes would change the time by tens of nanoseconds, a few percent) is
// below what this test can see.
func TestMAC_RejectionTimeIndependentOfPosition(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	s.Set("user", "alice")
	good := mustEncode(t, c, s)
	s.Set("pad", bytes.Repeat([]byte{1}, 64))
	longer := mustEncode(t, c, s)

	// wrongMAC returns v with its MAC changed from byte first on
	// (all of them if all).
	wrongMAC := func(v string, first int, all bool) string {
		id, mid := atkMid(t, v)
		mac := mid[len(mid)-macLen:]
		mac[first] ^= 0x01
		if all {
			for i := first + 1; i < macLen; i++ {
				mac[i] ^= 0x5a
			}
		}
		return atkRepack(id, mid)
	}
	names := []string{"byte 0", "byte 8", "byte 16", "byte 24", "byte 31", "every byte", "64 B longer payload (control)"}
	values := []string{
		wrongMAC(good, 0, false), wrongMAC(good, 8, false), wrongMAC(good, 16, false),
		wrongMAC(good, 24, false), wrongMAC(good, 31, false), wrongMAC(good, 0, true),
		wrongMAC(longer, 0, false),
	}
	for i, v := range values {
		if _, err := c.Decode(v); !atkIsKind(err, ErrInvalid) {
			t.Fatalf("%s: Decode = %v, want ErrInvalid", names[i], err)
		}
	}

	const rounds, batch = 1500, 16
	samples := make([][]time.Duration, len(values))
	order := make([]int, len(values))
	for i := range order {
		order[i] = i
	}
	for r := 0; r < rounds; r++ {
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, k := range order {
			v := values[k]
			start := time.Now()
			for b := 0; b < batch; b++ {
				_, _ = c.Decode(v)
			}
			samples[k] = append(samples[k], time.Since(start))
		}
	}
	medians := make([]time.Duration, len(values))
	for k := range samples {
		slices.Sort(samples[k])
		medians[k] = samples[k][len(samples[k])/2] / batch
		t.Logf("%-28s median rejection %v", names[k], medians[k])
	}
	positions := medians[:len(medians)-1]
	lo, hi := slices.Min(positions), slices.Max(positions)
	spread := float64(hi-lo) / float64(lo)
	control := float64(medians[len(medians)-1]-hi) / float64(hi)
	t.Logf("spread over positions %.1f%%, control %.1f%% slower than the slowest position", 100*spread, 100*control)
	if control < timingTolerance {
		t.Fatalf("control: a longer ciphertext is only %.1f%% slower to reject: the harness cannot resolve %.0f%%",
			100*control, 100*timingTolerance)
	}
	if spread > timingTolerance {
		t.Errorf("median rejection time depends on where the MAC differs: spread %.1f%%, tolerance %.0f%%",
			100*spread, 100*timingTolerance)
	}
}

// timingTolerance is how far apart the medians may be: generous, since the
// machine is shared, yet tighter than the control's gap.
const timingTolerance = 0.10
