package scalar

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestBuildI8: go-i8's four-entries-per-add tables hold every exact sum
// Σ_j cb[(b>>2j)&3] * q[4g+j] plus 2*i8Bias, for random and extreme q and
// every kind of codebook (on big-endian machines too: make
// test-bigendian).
func TestBuildI8(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 60; trial++ {
		var cb [4]int32
		for i := range cb {
			cb[i] = int32(rng.IntN(5)) - 2
		}
		q := make([]int8, chunkCols)
		for i := range q {
			switch trial % 3 {
			case 0:
				q[i] = int8(rng.IntN(255) - 127)
			case 1:
				q[i] = 127
			default:
				q[i] = -127
			}
		}
		var words [lutGroups][64]uint64 // 8-byte aligned, as sums gives it
		tab := (*[lutGroups][256]uint16)(unsafe.Pointer(&words))
		buildI8(tab, q, &cb)
		for g := 0; g < lutGroups; g++ {
			for b := 0; b < 256; b++ {
				var want int32 = 2 * i8Bias
				for j := 0; j < 4; j++ {
					want += cb[b>>(2*j)&3] * int32(q[4*g+j])
				}
				if int32(tab[g][b]) != want {
					t.Fatalf("cb %v group %d byte %#x: entry %d, want %d", cb, g, b, tab[g][b], want)
				}
			}
		}
	}
}
