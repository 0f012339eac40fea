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

// TestQuantizeI8Same: go-i8's quantizeI8 gives kernels.QuantizeI8's s and
// q on random, tied, tiny, subnormal, huge and special x.
func TestQuantizeI8Same(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	var cases [][]float32
	for n := 0; n < 70; n++ {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64()) * float32(math.Pow(10, float64(rng.IntN(12)-6)))
		}
		cases = append(cases, x)
	}
	ties := make([]float32, 255) // amax 127: s = 1, every k + 0.5 a tie
	for i := range ties {
		ties[i] = float32(i-127) + 0.5
	}
	ties[0] = -127
	near := make([]float32, 64) // x*s just around 127 and the ties below it
	for i := range near {
		near[i] = 127 - float32(i)*0.25 + float32(rng.Float64())*1e-4
	}
	cases = append(cases, ties, near,
		[]float32{1e-7, -3e-8, 0, 2e-9},                     // s from the 1e-5 floor
		[]float32{1e-42, -1e-44, 3e-45},                     // subnormal
		[]float32{3e38, -3.4e38, 1, -1e30},                  // huge
		[]float32{nan, 1, -2, 0.5},                          // NaN
		[]float32{inf, 1, -2, 0.5}, []float32{-inf, 3, nan}, // infinities
		[]float32{0, 0, 0}, []float32{-0.0, 5, 5, 5},
	)
	for _, x := range cases {
		for _, sc := range []float32{1, 0.37, 1.0000001, 1e-20, 3e20} {
			xs := make([]float32, len(x))
			for i, v := range x {
				xs[i] = v * sc
			}
			want, got := make([]int8, len(xs)), make([]int8, len(xs))
			ws := kernels.QuantizeI8(xs, want)
			gs := quantizeI8(xs, got)
			if math.Float32bits(ws) != math.Float32bits(gs) {
				t.Fatalf("x %v: s = %v, want %v", xs, gs, ws)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("x %v: q[%d] = %d, want %d", xs, i, got[i], want[i])
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
