package scalar_test

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/scalar"
	"github.com/qkbench/qkbench/workloads"
)

var goKernels = []kernels.Kernel{scalar.GoF32, scalar.GoI8}

// check compares y from k against the reference rules of docs/format.md §2: bit-exact
// with ref-i8 for i8 (the cosine bar is a property of the workload, not of
// the kernel), within the f32 tolerance otherwise.
func check(t *testing.T, k kernels.Kernel, m *kernels.Matrix, x, y []float32) {
	t.Helper()
	a := kernels.Expect(m, x).Agree(k.Info().Mode, y)
	if k.Info().Mode == kernels.I8 && a.ExactMatch != 1 || k.Info().Mode == kernels.F32 && !a.Pass {
		t.Fatalf("%s on %s cb=%s scale=%g: %s (exact match %g)", k.Info().ID, m.Shape(), m.Codebook, m.Scale, a.Why, a.ExactMatch)
	}
}

func run(t *testing.T, k kernels.Kernel, m *kernels.Matrix, x []float32) []float32 {
	t.Helper()
	y := make([]float32, m.Rows)
	if err := kernels.Run(k, m, x, y); err != nil {
		t.Fatalf("%s on %s: %v", k.Info().ID, m.Shape(), err)
	}
	return y
}

func gen(t *testing.T, rows, cols int, cb kernels.Codebook, seed uint64) *workloads.Workload {
	t.Helper()
	w, err := workloads.Generate(workloads.Spec{Rows: rows, Cols: cols, Codebook: cb, Weights: workloads.Uniform, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// Every column count around the group (4), chunk (64) and block (256) edges,
// with every padding code: the padding must not change a single bit.
func TestGoTailsAndPadding(t *testing.T) {
	cols := []int{1, 2, 3, 4, 5, 7, 8, 60, 63, 64, 65, 67, 127, 128, 129, 192, 200, 255, 256, 257, 319, 320, 321, 511, 513, 3200}
	for _, k := range goKernels {
		for _, c := range cols {
			for _, rows := range []int{1, 2, 3, 5} {
				w := gen(t, rows, c, kernels.QK256, uint64(c*10+rows))
				var first []float32
				for code := uint8(0); code < 4; code++ {
					m := w.M.Clone()
					m.FillPadding(code)
					y := run(t, k, m, w.X)
					check(t, k, m, w.X, y)
					if first == nil {
						first = y
						continue
					}
					for r := range y {
						if math.Float32bits(y[r]) != math.Float32bits(first[r]) {
							t.Fatalf("%s %s: padding code %d changes y[%d]: %g, with code 0 %g", k.Info().ID, m.Shape(), code, r, y[r], first[r])
						}
					}
				}
			}
		}
	}
}

// The codebook is data: odd, asymmetric, constant and all-zero codebooks,
// with scales that are not 1.
func TestGoCodebooksAndScales(t *testing.T) {
	cbs := []kernels.Codebook{kernels.QK256, kernels.Ternary, {2, 2, 2, 2}, {-2, -2, -2, -2}, {0, 0, 0, 0}, {-2, 0, 1, 2}, {1, -2, 0, -1}, {2, 1, 0, -2}}
	for _, k := range goKernels {
		for _, cb := range cbs {
			for _, scale := range []float32{1, 0.0125, -3.5, 0} {
				w := gen(t, 9, 777, cb, 7)
				w.M.Scale = scale
				check(t, k, w.M, w.X, run(t, k, w.M, w.X))
			}
		}
	}
}

// The i8 worst case: every q = ±127 and every weight at the matching extreme
// (±2), so each column adds 254 to the row sum, at the conformance suite's
// 16384 columns and at kernels.MaxDim columns (the largest legal row sum).
func TestGoI8WorstCase(t *testing.T) {
	sizes := []int{16384, 16384 + 3}
	if !testing.Short() {
		sizes = append(sizes, kernels.MaxDim)
	}
	for _, cols := range sizes {
		for _, cb := range []kernels.Codebook{kernels.QK256, {2, -2, 0, 0}} {
			// x alternates ±1 (so q = ±127); row 0's weight follows the sign
			// of x (+254 per column), row 1's opposes it (-254 per column).
			m, err := kernels.NewMatrix(2, cols, cb, 1)
			if err != nil {
				t.Fatal(err)
			}
			plus, minus := code(cb, 2), code(cb, -2)
			x := make([]float32, cols)
			for c := range x {
				x[c] = 1
				m.SetCode(0, c, plus)
				m.SetCode(1, c, minus)
				if c%2 == 1 {
					x[c] = -1
					m.SetCode(0, c, minus)
					m.SetCode(1, c, plus)
				}
			}
			m.FillPadding(plus)
			y := run(t, scalar.GoI8, m, x)
			// amax = 1, so s = 127 exactly, q = ±127 and inv = 1/127.
			inv := kernels.I8Inv(1, 127)
			isum := []int64{254 * int64(cols), -254 * int64(cols)}
			for r := range isum {
				if want := float32(isum[r]) * inv; math.Float32bits(y[r]) != math.Float32bits(want) {
					t.Fatalf("cols %d cb %s row %d: y=%g, want %g (isum %d * inv)", cols, cb, r, y[r], want, isum[r])
				}
			}
			if cols <= 16387 {
				check(t, scalar.GoI8, m, x, y)
			}
		}
	}
}

func code(cb kernels.Codebook, v int8) uint8 {
	for i, e := range cb {
		if e == v {
			return uint8(i)
		}
	}
	panic(fmt.Sprintf("codebook %s has no %d", cb, v))
}

// GEMV on a sub-range writes exactly that range, however it cuts the 2-row
// blocking, and the Input can be reloaded with another x.
func TestGoRowRangesAndReload(t *testing.T) {
	const rows, cols = 11, 300
	w := gen(t, rows, cols, kernels.QK256, 3)
	x2, err := workloads.GenerateX(cols, workloads.Outliers, 99)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range goKernels {
		p, err := k.Prepare(w.M)
		if err != nil {
			t.Fatal(err)
		}
		in := p.NewInput()
		for _, x := range [][]float32{w.X, x2, w.X} {
			if err := in.Load(x); err != nil {
				t.Fatal(err)
			}
			full := make([]float32, rows)
			if err := in.GEMV(full, 0, rows); err != nil {
				t.Fatal(err)
			}
			check(t, k, w.M, x, full)
			for r0 := 0; r0 <= rows; r0++ {
				for r1 := r0; r1 <= rows; r1++ {
					y := make([]float32, rows)
					for i := range y {
						y[i] = float32(math.NaN())
					}
					if err := in.GEMV(y, r0, r1); err != nil {
						t.Fatal(err)
					}
					for r := range y {
						inside := r >= r0 && r < r1
						if inside && math.Float32bits(y[r]) != math.Float32bits(full[r]) {
							t.Fatalf("%s [%d,%d): y[%d]=%g, whole-range GEMV gives %g", k.Info().ID, r0, r1, r, y[r], full[r])
						}
						if !inside && !math.IsNaN(float64(y[r])) {
							t.Fatalf("%s [%d,%d): wrote y[%d]=%g outside the range", k.Info().ID, r0, r1, r, y[r])
						}
					}
				}
			}
		}
	}
}

// Disjoint ranges on one Input may run concurrently (run with -race).
func TestGoConcurrentRanges(t *testing.T) {
	const rows, cols = 203, 1000
	w := gen(t, rows, cols, kernels.Ternary, 5)
	for _, k := range goKernels {
		p, err := k.Prepare(w.M)
		if err != nil {
			t.Fatal(err)
		}
		in := p.NewInput()
		if err := in.Load(w.X); err != nil {
			t.Fatal(err)
		}
		y := make([]float32, rows)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		cuts := []int{0, 51, 101, 152, rows}
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = in.GEMV(y, cuts[i], cuts[i+1])
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		check(t, k, w.M, w.X, y)
	}
}

// x is never read past cols: values after it in the same array are poison.
func TestGoNoReadPastX(t *testing.T) {
	for _, cols := range []int{1, 5, 63, 65, 255, 257} {
		w := gen(t, 3, cols, kernels.QK256, 11)
		buf := make([]float32, cols+300)
		for i := range buf {
			buf[i] = float32(math.NaN())
		}
		copy(buf, w.X)
		x := buf[:cols]
		for _, k := range goKernels {
			check(t, k, w.M, w.X, run(t, k, w.M, x))
		}
	}
}

func TestGoErrors(t *testing.T) {
	w := gen(t, 4, 100, kernels.QK256, 1)
	for _, k := range goKernels {
		id := k.Info().ID
		if err := k.Available(); err != nil {
			t.Fatalf("%s unavailable: %v", id, err)
		}
		if _, err := k.Prepare(nil); err == nil {
			t.Errorf("%s: Prepare(nil) succeeded", id)
		}
		bad := w.M.Clone()
		bad.Codebook = kernels.Codebook{3, 0, 0, 0}
		if _, err := k.Prepare(bad); err == nil {
			t.Errorf("%s: Prepare with codebook entry 3 succeeded", id)
		}
		short := w.M.Clone()
		short.Data = short.Data[:len(short.Data)-1]
		if _, err := k.Prepare(short); err == nil {
			t.Errorf("%s: Prepare with truncated data succeeded", id)
		}
		p, err := k.Prepare(w.M)
		if err != nil {
			t.Fatal(err)
		}
		if p.Kernel() != k || p.Matrix() != w.M {
			t.Errorf("%s: Prepared does not report its kernel and matrix", id)
		}
		in := p.NewInput()
		y := make([]float32, 4)
		if err := in.GEMV(y, 0, 4); !errors.Is(err, kernels.ErrNotLoaded) {
			t.Errorf("%s: GEMV before Load: %v, want ErrNotLoaded", id, err)
		}
		for _, x := range [][]float32{nil, make([]float32, 99), make([]float32, 101)} {
			if err := in.Load(x); err == nil {
				t.Errorf("%s: Load(len %d) succeeded", id, len(x))
			}
		}
		if err := in.Load(w.X); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			y      []float32
			r0, r1 int
		}{{nil, 0, 4}, {make([]float32, 3), 0, 3}, {make([]float32, 5), 0, 4}, {y, -1, 2}, {y, 0, 5}, {y, 3, 2}} {
			if err := in.GEMV(c.y, c.r0, c.r1); err == nil {
				t.Errorf("%s: GEMV(len(y)=%d, %d, %d) succeeded", id, len(c.y), c.r0, c.r1)
			}
		}
	}
}

// FuzzGoKernels checks go-f32 and go-i8 against the references on random
// shapes, codebooks, scales, padding and row ranges:
// go test -fuzz FuzzGoKernels ./kernels/scalar/
func FuzzGoKernels(f *testing.F) {
	f.Add(uint16(3), uint16(300), uint64(1), int8(-2), int8(-1), int8(1), int8(2), uint8(3), uint16(1), uint16(2))
	f.Add(uint16(67), uint16(65), uint64(9), int8(-1), int8(0), int8(1), int8(0), uint8(0), uint16(5), uint16(66))
	f.Fuzz(func(t *testing.T, rows, cols uint16, seed uint64, c0, c1, c2, c3 int8, pad uint8, r0, r1 uint16) {
		cb := kernels.Codebook{c0 % 3, c1 % 3, c2 % 3, c3 % 3} // entries in [-2, 2]
		nr, nc := int(rows%70)+1, int(cols%1100)+1
		w, err := workloads.Generate(workloads.Spec{Rows: nr, Cols: nc, Codebook: cb, Weights: workloads.Uniform, Scale: float32(seed%7) - 2.5, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		w.M.FillPadding(pad & 3)
		a, b := int(r0)%(nr+1), int(r1)%(nr+1)
		a, b = min(a, b), max(a, b)
		e := kernels.Expect(w.M, w.X)
		for _, k := range goKernels {
			p, err := k.Prepare(w.M)
			if err != nil {
				t.Fatal(err)
			}
			in := p.NewInput()
			if err := in.Load(w.X); err != nil {
				t.Fatal(err)
			}
			y := make([]float32, nr)
			if err := in.GEMV(y, 0, nr); err != nil {
				t.Fatal(err)
			}
			// i8: bit-exact with ref-i8 is the whole rule here; on a few
			// rows the quantization alone can push the cosine under 0.99.
			ag := e.Agree(k.Info().Mode, y)
			if k.Info().Mode == kernels.I8 && ag.ExactMatch != 1 || k.Info().Mode == kernels.F32 && !ag.Pass {
				t.Fatalf("%s %dx%d cb=%s: %s (exact match %g)", k.Info().ID, nr, nc, cb, ag.Why, ag.ExactMatch)
			}
			part := make([]float32, nr)
			if err := in.GEMV(part, a, b); err != nil {
				t.Fatal(err)
			}
			for r := range part {
				want := float32(0)
				if r >= a && r < b {
					want = y[r]
				}
				if math.Float32bits(part[r]) != math.Float32bits(want) {
					t.Fatalf("%s %dx%d [%d,%d): y[%d]=%g, want %g", k.Info().ID, nr, nc, a, b, r, part[r], want)
				}
			}
		}
	})
}

// go-f32 adds one float32 chunk sum per 64 columns into y[r]; at the longest
// legal row with every product positive (no cancellation) the rounding error
// must stay inside the f32 tolerance (measured: 1.3e-5 of the row L1 norm).
func TestGoF32LongRow(t *testing.T) {
	if testing.Short() {
		t.Skip("kernels.MaxDim columns")
	}
	cols := kernels.MaxDim
	m, err := kernels.NewMatrix(2, cols, kernels.Codebook{2, 2, 2, 2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, cols)
	for i := range x {
		x[i] = 1 + float32(i%1000)/3000
	}
	check(t, scalar.GoF32, m, x, run(t, scalar.GoF32, m, x))
}
