package b64url

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

func check(t *testing.T, src []byte) {
	t.Helper()
	want := base64.URLEncoding.EncodeToString(src)
	got := make([]byte, EncodedLen(len(src)))
	Encode(got, src)
	if string(got) != want {
		t.Fatalf("Encode of %d bytes:\n got %s\nwant %s", len(src), got, want)
	}
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestEncodeMatchesStdlib: every length up to 1,030 bytes (every
// remainder after each loop of Encode), of random, all-zero and all-one
// bytes.
func TestEncodeMatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 1031 {
		check(t, randomBytes(r, n))
		check(t, bytes.Repeat([]byte{0}, n))
		check(t, bytes.Repeat([]byte{0xff}, n))
	}
}

// TestEveryPair: all 4,096 12-bit values, in both halves of a 3-byte group
// and at every offset within the 12-byte step.
func TestEveryPair(t *testing.T) {
	var src []byte
	for k := range 4096 {
		v := k<<12 | (4095 - k)
		src = append(src, byte(v>>16), byte(v>>8), byte(v))
	}
	for off := range 12 {
		check(t, src[off:])
	}
}

// TestPanicsOnShortDst: a dst shorter than the result is a panic before
// any write, whatever room lies past its length.
func TestPanicsOnShortDst(t *testing.T) {
	src := bytes.Repeat([]byte("abc"), 10)
	enc := []byte(base64.URLEncoding.EncodeToString(src))
	for name, call := range map[string]func(dst []byte){
		"Encode": func(dst []byte) { Encode(dst, src) },
		"Decode": func(dst []byte) { Decode(dst, enc) },
	} {
		dst := make([]byte, 20, 64)
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s into a short dst did not panic", name)
				}
			}()
			call(dst)
		}()
		if !bytes.Equal(dst[:cap(dst)], make([]byte, cap(dst))) {
			t.Errorf("%s wrote before it panicked: %q", name, dst[:cap(dst)])
		}
	}
}

func FuzzEncode(f *testing.F) {
	f.Add([]byte("k1 cookiesession"))
	f.Fuzz(func(t *testing.T, src []byte) { check(t, src) })
}

func BenchmarkEncode(b *testing.B) {
	src := make([]byte, 309) // what a SMALL cookie's outer encoding encodes
	dst := make([]byte, EncodedLen(len(src)))
	b.Run("b64url", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			Encode(dst, src)
		}
	})
	b.Run("encoding-base64", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			base64.URLEncoding.Encode(dst, src)
		}
	})
}

// reference is Decode built from encoding/base64, as the codec decoded
// before this package: the strict decoder, a length that is a multiple of
// 4, and no skipped line breaks.
func reference(src []byte) ([]byte, bool) {
	if len(src)%4 != 0 {
		return nil, false
	}
	dst := make([]byte, base64.URLEncoding.DecodedLen(len(src)))
	n, err := base64.URLEncoding.Strict().Decode(dst, src)
	if err != nil || base64.URLEncoding.EncodedLen(n) != len(src) {
		return nil, false
	}
	return dst[:n], true
}

func checkDecode(t *testing.T, src []byte) {
	t.Helper()
	want, wantOK := reference(src)
	got := make([]byte, DecodedLen(len(src)))
	n, ok := Decode(got, src)
	if ok != wantOK || ok && !bytes.Equal(got[:n], want) {
		t.Fatalf("Decode(%q) = %x, %v; want %x, %v", src, got[:n], ok, want, wantOK)
	}
}

// TestDecodeMatchesReference: the encodings of every length up to 300
// bytes decode, and every one of the 256 byte values at every position of
// the encodings up to 40 bytes is accepted or refused exactly as the
// reference does: padding in the middle, non-zero padding bits, line
// breaks, bytes outside the alphabet.
func TestDecodeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 301 {
		enc := []byte(base64.URLEncoding.EncodeToString(randomBytes(r, n)))
		checkDecode(t, enc)
		if n > 40 {
			continue
		}
		for i := range enc {
			keep := enc[i]
			for c := range 256 {
				enc[i] = byte(c)
				checkDecode(t, enc)
			}
			enc[i] = keep
		}
		for _, cut := range []int{1, 2, 3} { // lengths that are not a multiple of 4
			if len(enc) >= cut {
				checkDecode(t, enc[:len(enc)-cut])
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("azE="))
	f.Add([]byte("YWJjZGVmZ2hpams="))
	f.Add([]byte("YWJjZGVm\nZ2hpams="))
	f.Fuzz(func(t *testing.T, src []byte) { checkDecode(t, src) })
}

func BenchmarkDecode(b *testing.B) {
	raw := make([]byte, 309) // what a SMALL cookie's outer encoding encodes
	src := []byte(base64.URLEncoding.EncodeToString(raw))
	dst := make([]byte, DecodedLen(len(src)))
	b.Run("b64url", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			if _, ok := Decode(dst, src); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("encoding-base64", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		strict := base64.URLEncoding.Strict()
		for b.Loop() {
			if _, err := strict.Decode(dst, src); err != nil {
				b.Fatal(err)
			}
		}
	})
}
