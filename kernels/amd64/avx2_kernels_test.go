package amd64

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

var avx2Kernels = []kernels.Kernel{AVX2F32, AVX2I8, AVX2LUTI8}

// usable skips when k cannot run here (a purego or non-amd64 build, a CPU
// without AVX2), failing instead when QKBENCH_REQUIRE names k.
func usable(t *testing.T, k kernels.Kernel) {
	t.Helper()
	if err := kernels.Usable(k); err != nil {
		for _, id := range kernels.Required() {
			if id == k.Info().ID {
				t.Fatalf("%s is required but unavailable: %v", id, err)
			}
		}
		t.Skipf("%s unavailable: %v", k.Info().ID, err)
	}
}

// check runs k on m and x and compares with the reference of its mode.
func check(t *testing.T, k kernels.Kernel, m *kernels.Matrix, x []float32, what string) {
	t.Helper()
	y := make([]float32, m.Rows)
	if err := kernels.Run(k, m, x, y); err != nil {
		t.Fatalf("%s %s: %v", k.Info().ID, what, err)
	}
	e := kernels.Expect(m, x)
	a := e.Agree(k.Info().Mode, y)
	if k.Info().Mode == kernels.I8 {
		// Bit-exactness with ref-i8 is the kernel's contract; the cosine
		// bar judges the quantization itself, which ref-i8 shares, and can
		// fail for degenerate codebooks and short rows.
		for r := range y {
			if math.Float32bits(y[r]) != math.Float32bits(e.I8[r]) {
				t.Fatalf("%s %s %s: y[%d] = %v, ref-i8 %v", k.Info().ID, m.Shape(), what, r, y[r], e.I8[r])
			}
		}
		return
	}
	if !a.Pass {
		t.Fatalf("%s %s %s: %s", k.Info().ID, m.Shape(), what, a.Why)
	}
}

// TestAVX2I8WorstCase feeds the largest int16 partial sums a legal input can
// make: every q = +127 (or -127) against u = 4 (cb = +2) everywhere, long rows
// (up to 16384 columns) and row counts that use both the 4-row and 1-row code.
// The codebooks that span 2 or 3 run avx2-i8's direct kernels at their
// largest v, and avx2lut-i8's one- and two-plane paths at |E| = 254 in every
// lookup.
func TestAVX2I8WorstCase(t *testing.T) {
	for _, k := range []kernels.Kernel{AVX2I8, AVX2LUTI8} {
		t.Run(k.Info().ID, func(t *testing.T) { avx2WorstCase(t, k) })
	}
}

func avx2WorstCase(t *testing.T, k kernels.Kernel) {
	usable(t, k)
	for _, cols := range []int{1024, 1025, 1919, 3000, 8192, 16384} {
		for _, cb := range []kernels.Codebook{
			{2, 2, 2, 2}, {-2, -2, -2, -2}, kernels.QK256,
			// The direct path's extremes (max - min = 3 and 2): code 3
			// holds the largest v = cb - min(cb), with both signs of cb.
			{-2, -2, -2, 1}, {-1, 2, 2, 2}, {-1, -1, -1, 1}, {0, 0, 0, 2}, {2, 0, 0, 0},
		} {
			m, err := kernels.NewMatrix(5, cols, cb, 1)
			if err != nil {
				t.Fatal(err)
			}
			for i := range m.Data {
				m.Data[i] = 0xFF // code 3 everywhere: cb[3]
			}
			for _, sign := range []float32{1, -1} {
				x := make([]float32, cols)
				for i := range x {
					x[i] = sign * 3.5
				}
				check(t, k, m, x, fmt.Sprintf("cb=%s all x=%v", cb.Values(), sign*3.5))
				// Alternate signs so that weights and q match up to the extreme per column.
				for i := range x {
					x[i] = float32(1 - 2*(i&1))
				}
				check(t, k, m, x, fmt.Sprintf("cb=%s alternating x", cb.Values()))
			}
		}
	}
}

// TestAVX2Padding fills the padding codes with each code in turn: the result
// must not change (q and x are zero there).
func TestAVX2Padding(t *testing.T) {
	for _, k := range avx2Kernels {
		t.Run(k.Info().ID, func(t *testing.T) {
			usable(t, k)
			for _, cols := range []int{1, 100, 127, 129, 200, 255, 257, 383, 3200} {
				w, err := workloads.Generate(workloads.Spec{Rows: 9, Cols: cols, Codebook: kernels.Codebook{2, -2, 1, -1}, Seed: uint64(cols)})
				if err != nil {
					t.Fatal(err)
				}
				var first []float32
				for code := uint8(0); code < 4; code++ {
					w.M.FillPadding(code)
					y := make([]float32, w.M.Rows)
					if err := kernels.Run(k, w.M, w.X, y); err != nil {
						t.Fatal(err)
					}
					if first == nil {
						first = y
						check(t, k, w.M, w.X, "padding")
						continue
					}
					for r := range y {
						if math.Float32bits(y[r]) != math.Float32bits(first[r]) {
							t.Fatalf("cols=%d: padding code %d changes y[%d]: %v, was %v", cols, code, r, y[r], first[r])
						}
					}
				}
			}
		})
	}
}

// TestAVX2Codebooks runs codebooks other than the named ones (the kernels
// take the codebook as data), scales and outlier activations.
func TestAVX2Codebooks(t *testing.T) {
	cbs := []kernels.Codebook{{0, 0, 0, 0}, {2, 2, 2, 2}, {-2, 0, 1, -1}, {1, -2, 2, 0}, kernels.Ternary}
	for _, k := range avx2Kernels {
		t.Run(k.Info().ID, func(t *testing.T) {
			usable(t, k)
			for i, cb := range cbs {
				for _, scale := range []float32{1, 0.0173, -3} {
					w, err := workloads.Generate(workloads.Spec{
						Rows: 13, Cols: 1000 + 37*i, Codebook: cb, Scale: scale,
						Weights: workloads.Uniform, Activations: workloads.Outliers, Seed: uint64(7 + i),
					})
					if err != nil {
						t.Fatal(err)
					}
					check(t, k, w.M, w.X, fmt.Sprintf("cb=%s scale=%v", cb.Values(), scale))
				}
			}
		})
	}
}

// TestAVX2Repack decodes both layouts back to codes as their doc comments
// describe them.
func TestAVX2Repack(t *testing.T) {
	w, err := workloads.Generate(workloads.Spec{Rows: 3, Cols: 700, Codebook: kernels.QK256, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	m := w.M
	i8, f32 := i8Repack(m), f32Repack(m)
	s := m.Stride()
	for r := 0; r < m.Rows; r++ {
		for c := 0; c < m.Blocks()*kernels.BlockCols; c++ {
			t8, o := c/chunkCols, c%chunkCols
			gotI8 := i8[r*s+32*t8+o%32] >> (2 * (o / 32)) & 3
			g := o / 8 // f32: byte 4i+o' of half h holds groups g = 8h+2o' (bits 1:0) and g+1 (bits 5:4)
			fb := f32[2*r*s+64*t8+32*(g/8)+4*(o%8)+(g%8)/2]
			gotF32 := fb >> (4 * (g % 2)) & 3
			if fb&0xCC != 0 {
				t.Fatalf("f32 layout byte for code(%d, %d) = %#x has bits set outside [1:0] and [5:4]", r, c, fb)
			}
			if want := m.Code(r, c); gotI8 != want || gotF32 != want {
				t.Fatalf("code(%d, %d) = %d; i8 layout has %d, f32 layout %d", r, c, want, gotI8, gotF32)
			}
		}
	}
}

// TestAVX2DirRepack decodes the direct layout back to cb[code] - min(cb), and
// checks that Prepare picks the direct kernel exactly for codebooks that span
// at most 3 (with the group size its overflow bound allows).
func TestAVX2DirRepack(t *testing.T) {
	for _, cb := range []kernels.Codebook{kernels.Ternary, {-2, 1, 0, -1}, {2, 2, 2, 2}, kernels.QK256, {-2, 2, 0, 0}} {
		w, err := workloads.Generate(workloads.Spec{Rows: 3, Cols: 700, Codebook: cb, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		m := w.M
		cmin, cmax := min(cb[0], cb[1], cb[2], cb[3]), max(cb[0], cb[1], cb[2], cb[3])
		if cmax-cmin <= 3 {
			d := i8DirRepack(m)
			s := m.Stride()
			for r := 0; r < m.Rows; r++ {
				for c := 0; c < m.Blocks()*kernels.BlockCols; c++ {
					t8, o := c/chunkCols, c%chunkCols
					got := d[r*s+32*t8+o%32] >> (2 * (o / 32)) & 3
					if want := byte(cb[m.Code(r, c)] - cmin); got != want {
						t.Fatalf("cb=%s: v(%d, %d) = %d in the direct layout, want %d", cb.Values(), r, c, got, want)
					}
				}
			}
		}
		if kernels.Usable(AVX2I8) != nil {
			continue
		}
		p, err := AVX2I8.Prepare(m)
		if err != nil {
			t.Fatal(err)
		}
		ap := p.(*avx2Prepared)
		wantGroup := map[int8]int{0: 8, 1: 8, 2: 8, 3: 4}[cmax-cmin]
		if ap.direct != (cmax-cmin <= 3) || ap.direct && ap.group != wantGroup {
			t.Fatalf("cb=%s: direct=%v group=%d, want direct=%v group=%d", cb.Values(), ap.direct, ap.group, cmax-cmin <= 3, wantGroup)
		}
	}
}

// TestAVX2RowRanges runs GEMV on disjoint row ranges, concurrently, after one
// Load, and checks that rows outside a range are never written.
func TestAVX2RowRanges(t *testing.T) {
	// Ternary runs avx2-i8's direct path, 64 rows per call and 3 more.
	for _, cb := range []kernels.Codebook{kernels.QK256, kernels.Ternary} {
		testRowRanges(t, cb)
	}
}

func testRowRanges(t *testing.T, cb kernels.Codebook) {
	for _, k := range avx2Kernels {
		t.Run(k.Info().ID+"/"+cb.String(), func(t *testing.T) {
			usable(t, k)
			w, err := workloads.Generate(workloads.Spec{Rows: 67, Cols: 640, Codebook: cb, Seed: 11})
			if err != nil {
				t.Fatal(err)
			}
			p, err := k.Prepare(w.M)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float32, w.M.Rows)
			if err := kernels.GEMV(p, w.X, want); err != nil {
				t.Fatal(err)
			}
			in := p.NewInput()
			if err := in.Load(w.X); err != nil {
				t.Fatal(err)
			}
			y := make([]float32, w.M.Rows)
			for i := range y {
				y[i] = float32(math.NaN())
			}
			// Ranges of 0..9 rows, not aligned to 4, one empty, row 66 left out.
			bounds := []int{0, 3, 4, 4, 11, 20, 21, 30, 37, 46, 55, 62, 66}
			var wg sync.WaitGroup
			errs := make([]error, len(bounds)-1)
			for i := 0; i+1 < len(bounds); i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = in.GEMV(y, bounds[i], bounds[i+1])
				}()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			for r := range y {
				if r == 66 {
					if !math.IsNaN(float64(y[r])) {
						t.Fatalf("row 66 outside every range was written: %v", y[r])
					}
					continue
				}
				if math.Float32bits(y[r]) != math.Float32bits(want[r]) {
					t.Fatalf("y[%d] = %v from a row range, %v from a whole GEMV", r, y[r], want[r])
				}
			}
		})
	}
}

// TestAVX2Errors checks the error paths: they name what is wrong.
func TestAVX2Errors(t *testing.T) {
	for _, k := range avx2Kernels {
		t.Run(k.Info().ID, func(t *testing.T) {
			usable(t, k)
			m, err := kernels.NewMatrix(6, 300, kernels.QK256, 1)
			if err != nil {
				t.Fatal(err)
			}
			p, err := k.Prepare(m)
			if err != nil {
				t.Fatal(err)
			}
			in := p.NewInput()
			y := make([]float32, 6)
			if err := in.GEMV(y, 0, 6); !errors.Is(err, kernels.ErrNotLoaded) {
				t.Errorf("GEMV before Load: %v, want ErrNotLoaded", err)
			}
			wantErr := func(what string, err error, sub string) {
				t.Helper()
				if err == nil || !strings.Contains(err.Error(), sub) {
					t.Errorf("%s: error %v, want one containing %q", what, err, sub)
				}
			}
			wantErr("short x", in.Load(make([]float32, 299)), "len(x)=299, want 300")
			wantErr("nil x", in.Load(nil), "x is nil")
			if err := in.Load(make([]float32, 300)); err != nil {
				t.Fatal(err)
			}
			wantErr("short y", in.GEMV(make([]float32, 5), 0, 5), "len(y)=5, want 6")
			wantErr("bad range", in.GEMV(y, 4, 7), "row range [4, 7)")
			wantErr("reversed range", in.GEMV(y, 3, 2), "row range [3, 2)")
			if err := in.GEMV(y, 0, 6); err != nil {
				t.Fatal(err)
			}
			for r, v := range y {
				if v != 0 {
					t.Errorf("x = 0 gives y[%d] = %v, want 0", r, v)
				}
			}
			bad := &kernels.Matrix{Rows: 2, Cols: 256, Data: make([]byte, 64), Codebook: kernels.QK256, Scale: 1}
			if _, err := k.Prepare(bad); err == nil {
				t.Error("Prepare accepted a matrix with too few bytes")
			}
			bad = &kernels.Matrix{Rows: 1, Cols: 256, Data: make([]byte, 64), Codebook: kernels.Codebook{3, 0, 0, 0}, Scale: 1}
			if _, err := k.Prepare(bad); err == nil {
				t.Error("Prepare accepted codebook entry 3")
			}
		})
	}
}

// TestAVX2Disabled checks that a disabled kernel refuses to prepare and says why.
func TestAVX2Disabled(t *testing.T) {
	t.Setenv("QKBENCH_DISABLE", "avx2")
	m, err := kernels.NewMatrix(1, 256, kernels.QK256, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range avx2Kernels {
		if _, err := k.Prepare(m); err == nil || !strings.Contains(err.Error(), "unavailable") {
			t.Errorf("%s: Prepare with QKBENCH_DISABLE=avx2: %v, want an unavailable error", k.Info().ID, err)
		}
	}
}

// TestAVX2Unavailable checks Available against the build and CPU.
func TestAVX2Unavailable(t *testing.T) {
	for _, k := range avx2Kernels {
		err := k.Available()
		if !asmBuilt && err == nil {
			t.Errorf("%s: Available() = nil in a build without amd64 assembly", k.Info().ID)
		}
		if err != nil {
			m, _ := kernels.NewMatrix(1, 256, kernels.QK256, 1)
			if _, perr := k.Prepare(m); perr == nil {
				t.Errorf("%s: unavailable (%v) but Prepare succeeded", k.Info().ID, err)
			}
		}
	}
}

// TestAVX2Random compares both kernels with the references on random shapes.
func TestAVX2Random(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, k := range avx2Kernels {
		t.Run(k.Info().ID, func(t *testing.T) {
			usable(t, k)
			for trial := 0; trial < 40; trial++ {
				rows, cols := 1+rng.IntN(20), 1+rng.IntN(2500)
				cb := kernels.QK256
				if trial%2 == 1 {
					cb = kernels.Ternary
				}
				w, err := workloads.Generate(workloads.Spec{Rows: rows, Cols: cols, Codebook: cb, Seed: rng.Uint64()})
				if err != nil {
					t.Fatal(err)
				}
				check(t, k, w.M, w.X, "random")
			}
		})
	}
}

// FuzzAVX2 checks both kernels against the references on fuzzed shapes,
// codebooks and contents.
func FuzzAVX2(f *testing.F) {
	f.Add(uint8(4), uint16(256), uint64(1), uint8(0x1B), false)
	f.Add(uint8(7), uint16(3200), uint64(2), uint8(0x24), true)
	f.Add(uint8(1), uint16(1), uint64(3), uint8(0), false)
	f.Fuzz(func(t *testing.T, rows uint8, cols uint16, seed uint64, cbBits uint8, outliers bool) {
		r, c := 1+int(rows%40), 1+int(cols%5000)
		var cb kernels.Codebook
		for i := range cb {
			cb[i] = int8((cbBits>>(2*i))&3) - 2 + int8(seed>>(60+i)&1) // -2..2
		}
		act := workloads.Gaussian
		if outliers {
			act = workloads.Outliers
		}
		w, err := workloads.Generate(workloads.Spec{Rows: r, Cols: c, Codebook: cb, Weights: workloads.Uniform, Activations: act, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range avx2Kernels {
			if kernels.Usable(k) != nil {
				continue
			}
			check(t, k, w.M, w.X, fmt.Sprintf("fuzz cb=%s", cb.Values()))
		}
	})
}
