package amd64

import (
	"testing"

	"github.com/qkbench/qkbench/kernels"
)

// TestLUTTernaryDigits: codebooks of at most three distinct values take the
// base-3 path, with each code's digit pointing at its value.
func TestLUTTernaryDigits(t *testing.T) {
	for _, c := range []struct {
		cb kernels.Codebook
		ok bool
	}{
		{kernels.Ternary, true}, {kernels.QK256, false}, {kernels.Codebook{2, 2, 2, 2}, true},
		{kernels.Codebook{-2, 2, -2, 2}, true}, {kernels.Codebook{0, -2, 2, -2}, true},
		{kernels.Codebook{-2, 0, 1, 2}, false}, {kernels.Codebook{1, -1, 2, -2}, false},
	} {
		vals, digit, ok := ternaryDigits(c.cb)
		if ok != c.ok {
			t.Fatalf("ternaryDigits(%v): ok = %v, want %v", c.cb.Values(), ok, c.ok)
		}
		if !ok {
			continue
		}
		for code, v := range c.cb {
			if d := digit[code]; d > 2 || vals[d] != v {
				t.Fatalf("ternaryDigits(%v): code %d has digit %d (values %v), want its value %d", c.cb.Values(), code, d, vals, v)
			}
		}
	}
}

// TestLUTBase3Extremes: the base-3 path at its largest int16 sums (every
// |q| = 127, every weight at ±2 of a three- or two-valued codebook) and on
// row ranges that split row blocks, bit for bit against ref-i8, over two
// Loads (the second runs the column chunks in the other order).
func TestLUTBase3Extremes(t *testing.T) {
	k := AVX512LUTI8
	avx512Skip(t, k)
	for _, cb := range []kernels.Codebook{{-2, 2, 0, -2}, {2, -2, 2, -2}, kernels.Ternary} {
		for _, cols := range []int{107, 108, 4097} {
			rows := 300
			m, err := kernels.NewMatrix(rows, cols, cb, 1)
			if err != nil {
				t.Fatal(err)
			}
			x := make([]float32, cols)
			for c := range x {
				x[c] = float32(1 - 2*(c/3&1))
			}
			for r := 0; r < rows; r++ {
				for c := 0; c < cols; c++ {
					code := uint8((r*7 + c*(r%5+1)) & 3)
					switch r % 4 {
					case 0: // every product at +2*127 where cb allows
						code = 1
						if x[c] < 0 {
							code = 0
						}
					case 1:
						code = 0
						if x[c] < 0 {
							code = 1
						}
					}
					m.SetCode(r, c, code)
				}
			}
			want := kernels.RefI8(m, x)
			p, err := k.Prepare(m)
			if err != nil {
				t.Fatal(err)
			}
			if !p.(*lutPrepared).tern {
				t.Fatalf("codebook %v: not on the base-3 path", cb.Values())
			}
			in := p.NewInput()
			for load := 0; load < 2; load++ {
				if err := in.Load(x); err != nil {
					t.Fatal(err)
				}
				y := make([]float32, rows)
				for _, rg := range [][2]int{{0, 100}, {100, 256}, {256, 300}} {
					if err := in.GEMV(y, rg[0], rg[1]); err != nil {
						t.Fatal(err)
					}
				}
				for r := range y {
					if y[r] != want[r] {
						t.Fatalf("cb %v %dx%d load %d: y[%d] = %v, want %v", cb.Values(), rows, cols, load, r, y[r], want[r])
					}
				}
			}
		}
	}
}
