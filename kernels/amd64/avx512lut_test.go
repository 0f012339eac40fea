package amd64

import (
	"math/rand/v2"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

// TestLUTFlip: lutFlip writes q+128 in four-byte groups, the fourth 0x80,
// 16 groups per block, and nothing past its blocks.
func TestLUTFlip(t *testing.T) {
	avx512Skip(t, AVX512LUTI8)
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 2, 5} {
		src := make([]int8, 48*n+16)
		for i := range src {
			src[i] = int8(rng.IntN(256) - 128)
		}
		dst := make([]uint8, 64*n+64)
		for i := range dst {
			dst[i] = 0x5a
		}
		lutFlip(&dst[0], &src[0], n)
		for g := 0; g < 16*n; g++ {
			for i := 0; i < 3; i++ {
				if want := uint8(src[3*g+i]) ^ 0x80; dst[4*g+i] != want {
					t.Fatalf("n=%d: dst[%d] = %#x, want %#x (group %d, q %d)", n, 4*g+i, dst[4*g+i], want, g, src[3*g+i])
				}
			}
			if dst[4*g+3] != 0x80 {
				t.Fatalf("n=%d: dst[%d] = %#x, want 0x80", n, 4*g+3, dst[4*g+3])
			}
		}
		for i := 64 * n; i < len(dst); i++ {
			if dst[i] != 0x5a {
				t.Fatalf("n=%d: lutFlip wrote dst[%d] past its %d blocks", n, i, n)
			}
		}
	}
}

// TestLUT3Tables: lut3Tables' entries are the exact Σ_j v_j[e]*q[3g+j] for
// every three-valued codebook of values in [-2, 2] (VPMADDUBSW saturates
// nothing: |pair| <= 255*2 + 128*6) at random and extreme q.
func TestLUT3Tables(t *testing.T) {
	avx512Skip(t, AVX512LUTI8)
	rng := rand.New(rand.NewPCG(9, 10))
	const groups = 48
	for a := int8(-2); a <= 2; a++ {
		for b := a; b <= 2; b++ {
			for c := b; c <= 2; c++ {
				m, err := kernels.NewMatrix(1, 1, kernels.Codebook{a, b, c, a}, 1)
				if err != nil {
					t.Fatal(err)
				}
				pp, err := AVX512LUTI8.Prepare(m)
				if err != nil {
					t.Fatal(err)
				}
				p := pp.(*lutPrepared)
				vals, _, _ := m.Codebook.Digits()
				for trial := 0; trial < 3; trial++ {
					q := make([]int8, 3*groups)
					for i := range q {
						switch trial {
						case 0:
							q[i] = int8(rng.IntN(255) - 127)
						case 1:
							q[i] = 127
						default:
							q[i] = -127
						}
					}
					qu := make([]uint8, 4*groups)
					for g := 0; g < groups; g++ {
						for i := 0; i < 3; i++ {
							qu[4*g+i] = uint8(q[3*g+i]) ^ 0x80
						}
						qu[4*g+3] = 0x80
					}
					tbl := make([]int16, 32*groups)
					lut3Tables(&qu[0], groups, &p.cbv3, &tbl[0])
					for g := 0; g < groups; g++ {
						for e := 0; e < 27; e++ {
							want := int16(vals[e%3])*int16(q[3*g]) + int16(vals[e/3%3])*int16(q[3*g+1]) + int16(vals[e/9])*int16(q[3*g+2])
							if got := tbl[32*g+e]; got != want {
								t.Fatalf("values %v, trial %d: group %d entry %d = %d, want %d", vals, trial, g, e, got, want)
							}
						}
					}
				}
			}
		}
	}
}

// TestLUT3Period: two periods for codebooks with every |value| <= 1, one
// otherwise, and never a period whose int16 sums can overflow.
func TestLUT3Period(t *testing.T) {
	for _, c := range []struct {
		vals [3]int8
		want int
	}{
		{[3]int8{-1, 0, 1}, 2 * lut3PeriodWords}, {[3]int8{0, 0, 0}, 2 * lut3PeriodWords},
		{[3]int8{1, 1, 0}, 2 * lut3PeriodWords}, {[3]int8{2, 0, 0}, lut3PeriodWords},
		{[3]int8{-1, 0, -2}, lut3PeriodWords}, {[3]int8{-2, 2, 1}, lut3PeriodWords},
	} {
		got := lut3Period(c.vals)
		if got != c.want {
			t.Errorf("lut3Period(%v) = %d, want %d", c.vals, got, c.want)
		}
		m := 1
		for _, v := range c.vals {
			m = max(m, int(v), -int(v))
		}
		// 3 lookups a word, each at most 3*127*m.
		if 3*got*3*127*m > 32767 {
			t.Errorf("lut3Period(%v) = %d words can overflow int16", c.vals, got)
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

// TestLUTSuperBlocks: both layouts (base-3 and 6-bit) store lutSuper row
// blocks together; row counts past one, two and a partial super-block, and
// ranges that start, end or cross inside and between super-blocks, bit for
// bit against ref-i8, over two Loads (both chunk orders), for both kernels
// on that layout.
func TestLUTSuperBlocks(t *testing.T) {
	sb := lutSuper * lutRowBlock
	for _, k := range []kernels.Kernel{AVX512LUTI8, ArchsimdI8} {
		t.Run(k.Info().ID, func(t *testing.T) {
			avx512Skip(t, k)
			for _, c := range []struct {
				cb         kernels.Codebook
				rows, cols int
			}{
				{kernels.Ternary, sb + 1, 500}, {kernels.Ternary, 2 * sb, 433}, {kernels.Ternary, 2*sb + 3*lutRowBlock + 7, 1000},
				{kernels.QK256, sb + 1, 500}, {kernels.QK256, 2*sb + 3*lutRowBlock + 7, 385},
			} {
				m, _ := kernels.NewMatrix(1, 1, c.cb, 1)
				p, err := k.Prepare(m)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := p.(interface{ layout() *lutPrepared }).layout().tern, c.cb == kernels.Ternary; got != want {
					t.Fatalf("codebook %v: base-3 path %v, want %v", c.cb.Values(), got, want)
				}
				lutCheckCuts(t, k, c.cb, c.rows, c.cols, [][]int{
					{0, c.rows},
					{0, sb, c.rows},
					{0, 100, sb - lutRowBlock, sb + 5, c.rows},
					{0, sb / 2, sb + lutRowBlock, 2*sb + 1, c.rows},
				})
			}
		})
	}
}

// lutCheckCuts runs k on a rows×cols workload, each list of cuts (clipped
// to rows) as consecutive GEMV ranges, twice (two Loads: both chunk
// orders), and wants ref-i8's y bit for bit.
func lutCheckCuts(t *testing.T, k kernels.Kernel, cb kernels.Codebook, rows, cols int, splits [][]int) {
	t.Helper()
	w, err := workloads.Generate(workloads.Spec{Rows: rows, Cols: cols, Codebook: cb, Seed: uint64(rows)})
	if err != nil {
		t.Fatal(err)
	}
	want := kernels.RefI8(w.M, w.X)
	p, err := k.Prepare(w.M)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kernel() != k {
		t.Fatalf("Prepared.Kernel() = %s, want %s", p.Kernel().Info().ID, k.Info().ID)
	}
	in := p.NewInput()
	for _, raw := range splits {
		cuts := []int{0}
		for _, c := range raw[1:] {
			if c = min(c, rows); c > cuts[len(cuts)-1] {
				cuts = append(cuts, c)
			}
		}
		for load := 0; load < 2; load++ {
			if err := in.Load(w.X); err != nil {
				t.Fatal(err)
			}
			y := make([]float32, rows)
			for i := 0; i+1 < len(cuts); i++ {
				if err := in.GEMV(y, cuts[i], cuts[i+1]); err != nil {
					t.Fatal(err)
				}
			}
			for r := range y {
				if y[r] != want[r] {
					t.Fatalf("%s %s %dx%d cuts %v load %d: y[%d] = %v, want %v", k.Info().ID, cb.Name(), rows, cols, cuts, load, r, y[r], want[r])
				}
			}
		}
	}
}
