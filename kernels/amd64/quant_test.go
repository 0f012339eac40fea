package amd64

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qkbench/qkbench/kernels"
)

// checkQuant compares quantizeI8 with kernels.QuantizeI8 on x, and checks
// that q past len(x) is left alone.
func checkQuant(t *testing.T, name string, x []float32) {
	t.Helper()
	want := make([]int8, len(x))
	ws := kernels.QuantizeI8(x, want)
	var wsum int32
	for _, v := range want {
		wsum += int32(v)
	}
	got := make([]int8, len(x)+33)
	for i := len(x); i < len(got); i++ {
		got[i] = 99
	}
	s, qsum := quantizeI8(x, got)
	if math.Float32bits(s) != math.Float32bits(ws) {
		t.Fatalf("%s (n=%d): s = %v, want %v", name, len(x), s, ws)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s (n=%d): q[%d] = %d, want %d (x=%v, x*s=%v)", name, len(x), i, got[i], want[i], x[i], x[i]*s)
		}
	}
	for i := len(x); i < len(got); i++ {
		if got[i] != 99 {
			t.Fatalf("%s (n=%d): q[%d] past len(x) was written", name, len(x), i)
		}
	}
	if qsum != wsum {
		t.Fatalf("%s (n=%d): qsum = %d, want %d", name, len(x), qsum, wsum)
	}
}

func TestQuantizeI8Random(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 31, 32, 33, 63, 64, 100, 255, 256, 1000, 4096, 4099} {
		for trial := 0; trial < 20; trial++ {
			x := make([]float32, n)
			sc := float32(math.Pow(10, float64(rng.IntN(12)-6)))
			for i := range x {
				x[i] = float32(rng.NormFloat64()) * sc
			}
			if n > 0 && trial%3 == 0 {
				x[rng.IntN(n)] = 80 * sc // an outlier channel
			}
			checkQuant(t, "random", x)
		}
	}
}

// TestQuantizeI8Ties feeds values whose x*s lands exactly on k+0.5, where
// round-half-even and round-half-away differ, in every lane position.
func TestQuantizeI8Ties(t *testing.T) {
	// amax = 127 gives s = 1 exactly, so x*s = x.
	for _, n := range []int{32, 64, 96, 100} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(i%254-127) + 0.5
		}
		x[0] = 127
		checkQuant(t, "ties", x)
		for i := range x {
			x[i] = -x[i]
		}
		checkQuant(t, "negated ties", x)
	}
	// s = 127/2: x = (2k+1)/127 gives x*s near k+0.5 after float32 rounding.
	x := make([]float32, 256)
	for i := range x {
		x[i] = float32(2*(i-128)+1) / 127
	}
	x[5] = 2
	checkQuant(t, "near ties", x)
}

func TestQuantizeI8Extremes(t *testing.T) {
	big := float32(math.MaxFloat32)
	tiny := math.Float32frombits(1) // smallest subnormal
	cases := map[string][]float32{
		"zeros":     make([]float32, 64),
		"maxfloat":  fill(64, func(i int) float32 { return big * float32(1-2*(i&1)) }),
		"subnormal": fill(64, func(i int) float32 { return tiny * float32(i-32) }),
		"below 1e-5": fill(70, func(i int) float32 {
			return 1e-6 * float32(i-35)
		}),
		"one huge":   fill(96, func(i int) float32 { return map[bool]float32{true: 3e38, false: float32(i)}[i == 40] }),
		"negzero":    fill(32, func(i int) float32 { return float32(math.Copysign(0, -1)) }),
		"all amax":   fill(64, func(i int) float32 { return 0.37 * float32(1-2*(i%3&1)) }),
		"1e-5 exact": fill(40, func(i int) float32 { return 1e-5 * float32(i%2*2-1) }),
	}
	for name, x := range cases {
		checkQuant(t, name, x)
	}
}

func fill(n int, f func(int) float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = f(i)
	}
	return x
}

// TestQuantizeI8Asm makes sure the assembly path is the one under test here.
func TestQuantizeI8Asm(t *testing.T) {
	if err := need(AVX2); err != nil {
		t.Skipf("no AVX2 assembly: %v", err)
	}
	if !quantAsm {
		t.Fatal("quantAsm is false on a machine with AVX2")
	}
}

// BenchmarkQuantizeI8 compares quantizeI8 with kernels.QuantizeI8 on 4096 values.
func BenchmarkQuantizeI8(b *testing.B) {
	x := make([]float32, 4096)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	q := make([]int8, len(x))
	b.Run("impl=avx2", func(b *testing.B) {
		b.SetBytes(int64(4 * len(x)))
		for b.Loop() {
			quantizeI8(x, q)
		}
	})
	b.Run("impl=go", func(b *testing.B) {
		b.SetBytes(int64(4 * len(x)))
		for b.Loop() {
			kernels.QuantizeI8(x, q)
		}
	})
}
