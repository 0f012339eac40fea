package arm64

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qkbench/qkbench/kernels"
)

// TestQuantizeI8 checks that the NEON quantizer is bit-identical with
// kernels.QuantizeI8 (q and s) on lengths around the 16-value groups and on
// inputs chosen for rounding: exact ties, values that only become ties when
// x*s is rounded to float32, subnormals, huge values, all zeros, and the
// extreme in the tail or in the vector part.
func TestQuantizeI8(t *testing.T) {
	if err := kernels.Usable(NeonI8); err != nil {
		t.Skip(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	type gen func(n int) []float32
	gens := map[string]gen{
		"gauss": func(n int) []float32 {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			return x
		},
		"ties": func(n int) []float32 {
			// amax = 127 gives s = 1: x = k + 0.5 are exact ties.
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(i%254-127) + 0.5
			}
			x[0] = 127
			return x
		},
		"near-ties": func(n int) []float32 {
			// s = 127/100 is inexact: x near (k+0.5)/s round through float32.
			x := make([]float32, n)
			s := float32(127) / 100
			for i := range x {
				k := float32(i%200-100) + 0.5
				x[i] = math.Nextafter32(k/s, float32(i%3-1)*1e30)
			}
			x[n/2] = 100
			return x
		},
		"zeros": func(n int) []float32 { return make([]float32, n) },
		"tiny": func(n int) []float32 {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64()) * 1e-40 // subnormal
			}
			return x
		},
		"huge": func(n int) []float32 {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64()) * 1e37
			}
			x[n-1] = -math.MaxFloat32
			return x
		},
		"spike-tail": func(n int) []float32 {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			x[n-1] = -50
			return x
		},
		"spike-head": func(n int) []float32 {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			x[0] = 50
			return x
		},
	}
	for name, g := range gens {
		for _, n := range []int{1, 15, 16, 17, 31, 32, 100, 256, 3200, 4099} {
			x := g(n)
			want := make([]int8, n)
			ws := kernels.QuantizeI8(x, want)
			got := make([]int8, n+16)
			for i := range got {
				got[i] = 99
			}
			gs := quantizeI8(x, got)
			if math.Float32bits(gs) != math.Float32bits(ws) {
				t.Errorf("%s n=%d: s=%v, want %v", name, n, gs, ws)
				continue
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("%s n=%d: q[%d]=%d, want %d (x=%v)", name, n, i, got[i], want[i], x[i])
					break
				}
			}
			for i := n; i < len(got); i++ {
				if got[i] != 99 {
					t.Errorf("%s n=%d: wrote q[%d] past len(x)", name, n, i)
					break
				}
			}
		}
	}
}
