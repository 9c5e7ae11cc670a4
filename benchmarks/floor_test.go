package benchmarks

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"testing"
)

// TestFloorAllocs proves what floor.go says the floors allocate per round
// trip (open the lib's cookie, seal the lib's next envelope): TightFloor
// nothing, Floor the two cipher.NewCTR objects, for SMALL and LARGE alike.
func TestFloorAllocs(t *testing.T) {
	for _, label := range []string{"SMALL", "LARGE"} {
		f := getFixture(t, label)
		for _, c := range []struct {
			name string
			fl   sealer
			want float64
		}{
			{"TightFloor", NewTightFloor(CookieName, libKey1.ID, libKey1.Secret), 0},
			{"TightFloorStdB64", newStdB64TightFloor(CookieName, libKey1.ID, libKey1.Secret), 0},
			{"Floor", NewFloor(CookieName, libKey1.ID, libKey1.Secret), 2},
		} {
			n := testing.AllocsPerRun(100, func() {
				if _, err := floorRoundTrip(f, c.fl); err != nil {
					t.Fatal(err)
				}
			})
			if n != c.want {
				t.Errorf("%s %s round trip: %v allocations, want %v", label, c.name, n, c.want)
			}
		}
	}
}

// TestTightFloorCTR checks TightFloor's block-by-block keystream against
// cipher.NewCTR for every length up to a few blocks and across a carry out
// of the IV's low 64 bits, where a 64-bit counter would go wrong.
func TestTightFloorCTR(t *testing.T) {
	fl := NewTightFloor(CookieName, libKey1.ID, libKey1.Secret)
	_, blockKey := DeriveKeys(libKey1.ID, libKey1.Secret)
	block, err := aes.NewCipher(blockKey)
	if err != nil {
		t.Fatal(err)
	}
	ivs := [][]byte{
		bytes.Repeat([]byte{0x5a}, ivLen),
		append(bytes.Repeat([]byte{0x01}, 8), bytes.Repeat([]byte{0xff}, 8)...), // low half wraps after one block
	}
	src := make([]byte, 5*ivLen+3)
	for i := range src {
		src[i] = byte(i * 7)
	}
	for _, iv := range ivs {
		for n := 0; n <= len(src); n++ {
			want := make([]byte, n)
			cipher.NewCTR(block, iv).XORKeyStream(want, src[:n])
			got := make([]byte, n)
			fl.xorCTR(iv, got, src[:n])
			if !bytes.Equal(got, want) {
				t.Fatalf("iv %x, %d bytes: TightFloor %x, cipher.NewCTR %x", iv, n, got, want)
			}
		}
	}
}
