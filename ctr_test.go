package cookiesession

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"testing"
)

// xorCTR must be cipher.NewCTR, byte for byte, at every length on both
// sides of its cut-over and when the counter carries across 64 and 128 bits.
func TestXORCTR(t *testing.T) {
	block, err := aes.NewCipher(bytes.Repeat([]byte{0x5a}, 32))
	if err != nil {
		t.Fatal(err)
	}
	ivs := [][]byte{
		make([]byte, 16),
		{0, 1, 2, 3, 4, 5, 6, 7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}, // low half carries
		bytes.Repeat([]byte{0xff}, 16),                                           // the whole counter wraps
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6},
	}
	scratch := make([]byte, ctrScratch)
	for _, iv := range ivs {
		for n := 0; n <= ctrScratch+40; n++ {
			src := make([]byte, n)
			for i := range src {
				src[i] = byte(i*7 + n)
			}
			want := make([]byte, n)
			cipher.NewCTR(block, iv).XORKeyStream(want, src)
			got := make([]byte, n)
			xorCTR(block, iv, got, src, scratch)
			if !bytes.Equal(got, want) {
				t.Fatalf("iv %x, %d bytes: xorCTR differs from cipher.NewCTR", iv, n)
			}
			inPlace := bytes.Clone(src)
			xorCTR(block, iv, inPlace, inPlace, scratch)
			if !bytes.Equal(inPlace, want) {
				t.Fatalf("iv %x, %d bytes: in place differs from cipher.NewCTR", iv, n)
			}
		}
	}
}
