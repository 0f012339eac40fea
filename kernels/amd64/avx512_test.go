package amd64

import (
	"fmt"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

func avx512Kernels() []kernels.Kernel { return []kernels.Kernel{AVX512VNNII8, AVX512LUTI8} }

// avx512Skip skips (or, under QKBENCH_REQUIRE, fails) when k cannot run.
func avx512Skip(t testing.TB, k kernels.Kernel) {
	t.Helper()
	if err := kernels.Usable(k); err != nil {
		for _, r := range kernels.Required() {
			if r == k.Info().ID {
				t.Fatalf("%s required but unavailable: %v", r, err)
			}
		}
		t.Skipf("%s unavailable: %v", k.Info().ID, err)
	}
}

// avx512Extreme returns a rows×cols matrix and x where every |q| = 127 and
// every weight has the sign of its q and the largest magnitude the codebook
// offers (or the opposite sign when neg), so every row sum is at the limit.
func avx512Extreme(t testing.TB, rows, cols int, cb kernels.Codebook, neg bool) (*kernels.Matrix, []float32) {
	t.Helper()
	hi, lo := 0, 0 // codes of the largest and smallest entries
	for i, v := range cb {
		if v > cb[hi] {
			hi = i
		}
		if v < cb[lo] {
			lo = i
		}
	}
	if neg {
		hi, lo = lo, hi
	}
	m, err := kernels.NewMatrix(rows, cols, cb, 1)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, cols)
	for c := range x {
		x[c] = 1
		if (c*7+c/3)%5 < 2 {
			x[c] = -1
		}
	}
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			if x[c] > 0 {
				m.SetCode(r, c, uint8(hi))
			} else {
				m.SetCode(r, c, uint8(lo))
			}
		}
	}
	m.FillPadding(uint8(hi))
	return m, x
}

func avx512CheckExact(t *testing.T, k kernels.Kernel, m *kernels.Matrix, x []float32) {
	t.Helper()
	y := make([]float32, m.Rows)
	if err := kernels.Run(k, m, x, y); err != nil {
		t.Fatal(err)
	}
	want := kernels.RefI8(m, x)
	for r := range y {
		if y[r] != want[r] {
			t.Fatalf("%s %s: y[%d] = %v, want %v (ref-i8)", k.Info().ID, m.Shape(), r, y[r], want[r])
		}
	}
}

func TestAVX512Extremes(t *testing.T) {
	for _, k := range avx512Kernels() {
		avx512Skip(t, k)
		for _, cb := range []kernels.Codebook{kernels.QK256, kernels.Ternary, {2, 2, 2, 2}, {-2, -2, -2, -2}, {2, -2, 0, 1}} {
			for _, shape := range [][2]int{{33, 16384}, {8, 16383}, {40, 97}, {1, 6}} {
				for _, neg := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/cb=%s/%dx%d/neg=%v", k.Info().ID, cb.Values(), shape[0], shape[1], neg), func(t *testing.T) {
						m, x := avx512Extreme(t, shape[0], shape[1], cb, neg)
						avx512CheckExact(t, k, m, x)
					})
				}
			}
		}
	}
}

// TestAVX512RowRanges runs GEMV on split, unaligned row ranges and checks
// that nothing outside each range is written.
func TestAVX512RowRanges(t *testing.T) {
	for _, k := range avx512Kernels() {
		avx512Skip(t, k)
		w, err := workloads.Generate(workloads.Spec{Rows: 75, Cols: 1000, Codebook: kernels.QK256, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		want := kernels.RefI8(w.M, w.X)
		p, err := k.Prepare(w.M)
		if err != nil {
			t.Fatal(err)
		}
		in := p.NewInput()
		if err := in.Load(w.X); err != nil {
			t.Fatal(err)
		}
		for _, rg := range [][2]int{{0, 75}, {3, 5}, {5, 37}, {37, 38}, {38, 75}, {64, 75}, {10, 10}} {
			y := make([]float32, 75)
			for i := range y {
				y[i] = -12345
			}
			if err := in.GEMV(y, rg[0], rg[1]); err != nil {
				t.Fatal(err)
			}
			for r := range y {
				inside := r >= rg[0] && r < rg[1]
				if inside && y[r] != want[r] || !inside && y[r] != -12345 {
					t.Fatalf("%s range %v: y[%d] = %v (want %v inside the range, untouched outside)", k.Info().ID, rg, r, y[r], want[r])
				}
			}
		}
		if err := in.GEMV(make([]float32, 75), 5, 76); err == nil {
			t.Fatalf("%s: GEMV past rows: no error", k.Info().ID)
		}
		if err := in.Load(w.X[:999]); err == nil {
			t.Fatalf("%s: Load of a short x: no error", k.Info().ID)
		}
		if err := p.NewInput().GEMV(make([]float32, 75), 0, 75); err == nil {
			t.Fatalf("%s: GEMV before Load: no error", k.Info().ID)
		}
	}
}

func TestAVX512RowBlock(t *testing.T) {
	for _, k := range avx512Kernels() {
		avx512Skip(t, k)
		w, err := workloads.Generate(workloads.Spec{Rows: 3, Cols: 3, Codebook: kernels.QK256, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		p, err := k.Prepare(w.M)
		if err != nil {
			t.Fatal(err)
		}
		rb, ok := p.(interface{ RowBlock() int })
		if !ok || rb.RowBlock() < 1 {
			t.Fatalf("%s: Prepared has no positive RowBlock()", k.Info().ID)
		}
	}
}

// avx512SplitRows cuts [0, rows) into n ranges aligned to the Prepared's RowBlock.
func avx512SplitRows(p kernels.Prepared, rows, n int) [][2]int {
	rb := 1
	if r, ok := p.(interface{ RowBlock() int }); ok {
		rb = r.RowBlock()
	}
	blocks := (rows + rb - 1) / rb
	var out [][2]int
	for i := 0; i < n; i++ {
		r0, r1 := min(rows, blocks*i/n*rb), min(rows, blocks*(i+1)/n*rb)
		if r0 < r1 {
			out = append(out, [2]int{r0, r1})
		}
	}
	return out
}

func BenchmarkGEMV(b *testing.B) {
	for _, k := range avx512Kernels() {
		for _, sh := range [][2]int{{2048, 4096}, {2560, 2560}, {640, 2560}, {6912, 2560}, {2560, 6912}, {3200, 8640}} {
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("kernel=%s/shape=%dx%d/threads=%d", k.Info().ID, sh[0], sh[1], threads), func(b *testing.B) {
					avx512Skip(b, k)
					w, err := workloads.Generate(workloads.Spec{Rows: sh[0], Cols: sh[1], Codebook: kernels.QK256, Seed: 42})
					if err != nil {
						b.Fatal(err)
					}
					p, err := k.Prepare(w.M)
					if err != nil {
						b.Fatal(err)
					}
					in := p.NewInput()
					y := make([]float32, sh[0])
					parts := avx512SplitRows(p, sh[0], threads)
					b.SetBytes(w.M.WeightBytes())
					for b.Loop() {
						if err := in.Load(w.X); err != nil {
							b.Fatal(err)
						}
						if len(parts) == 1 {
							_ = in.GEMV(y, 0, sh[0])
							continue
						}
						done := make(chan error, len(parts))
						for _, r := range parts {
							go func() { done <- in.GEMV(y, r[0], r[1]) }()
						}
						for range parts {
							if err := <-done; err != nil {
								b.Fatal(err)
							}
						}
					}
					b.ReportMetric(float64(w.M.MACs())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
				})
			}
		}
	}
}

// FuzzAVX512GEMV checks both kernels bit for bit against ref-i8 on fuzzed
// shapes, codebooks, padding codes and row ranges:
// go test -fuzz FuzzAVX512GEMV ./kernels/amd64/
func FuzzAVX512GEMV(f *testing.F) {
	f.Add(uint16(67), uint16(3200), uint64(1), uint8(0), uint8(3), uint16(5), uint16(60))
	f.Add(uint16(129), uint16(97), uint64(2), uint8(1), uint8(0), uint16(0), uint16(129))
	f.Add(uint16(1), uint16(1), uint64(3), uint8(2), uint8(1), uint16(0), uint16(1))
	f.Fuzz(func(t *testing.T, rows, cols uint16, seed uint64, cbi, pad uint8, r0, r1 uint16) {
		nr, nc := int(rows)%300+1, int(cols)%3000+1
		cbs := []kernels.Codebook{kernels.QK256, kernels.Ternary, {2, -2, 0, 1}, {-2, -2, 2, 2}}
		cb := cbs[int(cbi)%len(cbs)]
		w, err := workloads.Generate(workloads.Spec{Rows: nr, Cols: nc, Codebook: cb, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		w.M.FillPadding(pad & 3)
		want := kernels.RefI8(w.M, w.X)
		lo, hi := int(r0)%(nr+1), int(r1)%(nr+1)
		if lo > hi {
			lo, hi = hi, lo
		}
		for _, k := range avx512Kernels() {
			avx512Skip(t, k)
			p, err := k.Prepare(w.M)
			if err != nil {
				t.Fatal(err)
			}
			in := p.NewInput()
			if err := in.Load(w.X); err != nil {
				t.Fatal(err)
			}
			y := make([]float32, nr)
			if err := in.GEMV(y, lo, hi); err != nil {
				t.Fatal(err)
			}
			for r := lo; r < hi; r++ {
				if y[r] != want[r] {
					t.Fatalf("%s %dx%d cb=%s rows [%d,%d): y[%d] = %v, want %v", k.Info().ID, nr, nc, cb.Values(), lo, hi, r, y[r], want[r])
				}
			}
		}
	})
}

// TestAVX512NoAllocs: Load and GEMV (whole and partial row blocks) allocate nothing.
func TestAVX512NoAllocs(t *testing.T) {
	// archsimd-i8 shares avx512lut-i8's GEMV driver and scratch pool.
	for _, k := range append(avx512Kernels(), ArchsimdI8) {
		t.Run(k.Info().ID, func(t *testing.T) {
			avx512Skip(t, k)
			w, err := workloads.Generate(workloads.Spec{Rows: 300, Cols: 1000, Codebook: kernels.QK256, Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			p, err := k.Prepare(w.M)
			if err != nil {
				t.Fatal(err)
			}
			in := p.NewInput()
			y := make([]float32, 300)
			if n := testing.AllocsPerRun(20, func() {
				_ = in.Load(w.X)
				_ = in.GEMV(y, 0, 300)
				_ = in.GEMV(y, 3, 140)
			}); n != 0 {
				t.Errorf("%s: %v allocations per Load+GEMV, want 0", k.Info().ID, n)
			}
		})
	}
}
