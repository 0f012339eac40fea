package scalar

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/qkbench/qkbench/kernels"
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

// TestBuild3: for codebooks of at most three values, the base3 tables hold
// at each code byte's base3 byte what the 256-entry tables hold at the
// byte itself: the same float32 bits (go-f32) and the same biased exact
// sums (go-i8).
func TestBuild3(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	cbs := []kernels.Codebook{kernels.Ternary, {2, 2, 2, 2}, {0, 0, 0, 0}, {-2, 2, -2, 0}, {1, 0, 0, -1}}
	for trial := 0; trial < 20; trial++ {
		cbs = append(cbs, kernels.Codebook{int8(rng.IntN(3) - 1), int8(rng.IntN(5) - 2), int8(rng.IntN(3) - 1), int8(rng.IntN(5) - 2)})
	}
	for _, cb := range cbs {
		vals, digit, ok := cb.Digits()
		if !ok {
			continue
		}
		var all, three [4]int32
		for i, v := range cb {
			all[i] = int32(v)
		}
		for i, v := range vals {
			three[i] = int32(v)
		}
		x := make([]float32, chunkCols)
		q := make([]int8, chunkCols)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
			q[i] = int8(rng.IntN(255) - 127)
		}
		q[0], q[1], q[2], q[3] = 127, 127, -127, 127
		var f256, f81 [lutGroups][256]float32
		buildF32(&f256, x, &all)
		build3F32(&f81, x, &three)
		var w256, w81 [lutGroups][64]uint64
		i256 := (*[lutGroups][256]uint16)(unsafe.Pointer(&w256))
		i81 := (*[lutGroups][256]uint16)(unsafe.Pointer(&w81))
		buildI8(i256, q, &all)
		build3I8(i81, q, &three)
		for g := 0; g < lutGroups; g++ {
			for b := 0; b < 256; b++ {
				e := base3(byte(b), &digit)
				if math.Float32bits(f81[g][e]) != math.Float32bits(f256[g][b]) {
					t.Fatalf("cb %v group %d byte %#x: base3 f32 entry %v, want %v", cb.Values(), g, b, f81[g][e], f256[g][b])
				}
				if i81[g][e] != i256[g][b] {
					t.Fatalf("cb %v group %d byte %#x: base3 i8 entry %d, want %d", cb.Values(), g, b, i81[g][e], i256[g][b])
				}
			}
		}
	}
}
