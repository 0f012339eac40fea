//go:build cgo && linux && amd64 && !purego

package cgo

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

// TestQuantizeBitExact compares both C quantizers with kernels.QuantizeI8.
func TestQuantizeBitExact(t *testing.T) {
	var cases [][]float32
	for _, n := range []int{1, 2, 7, 15, 16, 17, 31, 32, 33, 63, 64, 100, 255, 256, 1000, 4096, 3200} {
		x, err := workloads.GenerateX(n, workloads.Outliers, uint64(n))
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, x)
		g, _ := workloads.GenerateX(n, workloads.Gaussian, uint64(n)+7)
		cases = append(cases, g)
	}
	// Ties: with amax 127, s = 1 and x*s = k + 0.5 exactly.
	tie := make([]float32, 70)
	for i := range tie {
		tie[i] = float32(i%9) - 4.5
	}
	tie[3] = 127
	tie[5] = -127.5 // amax 127.5: s = 127/127.5
	cases = append(cases, tie)
	tie2 := append([]float32(nil), tie...)
	tie2[5] = 0
	cases = append(cases, tie2)
	cases = append(cases, make([]float32, 40))                                              // all zero
	cases = append(cases, []float32{1e-7, -3e-6, 9e-6, 0, 2e-6, 1e-38, -1e-45, 5e-6, 1e-6}) // amax < 1e-5
	cases = append(cases, []float32{float32(math.Copysign(0, -1)), 3e38, -3e38, 1, -1, 1e-30})
	big := make([]float32, 65)
	for i := range big {
		big[i] = float32(i) * 0.123456789 * float32(1-2*(i%2))
	}
	cases = append(cases, big)

	for ci, x := range cases {
		want := make([]int8, len(x))
		ws := kernels.QuantizeI8(x, want)
		var wsum int32
		for _, v := range want {
			wsum += int32(v)
		}
		for _, avx2 := range []bool{false, true} {
			if avx2 && i2sAvailable(true) != nil {
				continue
			}
			q := make([]int8, len(x)+37)
			for i := range q {
				q[i] = 99 // the tail must be zeroed
			}
			var sum int32
			s := i2sQuantize(avx2, x, q, &sum)
			if s != ws || sum != wsum {
				t.Fatalf("case %d (n=%d) avx2=%v: s=%g sum=%d, want %g %d", ci, len(x), avx2, s, sum, ws, wsum)
			}
			for i := range q {
				w := int8(0)
				if i < len(x) {
					w = want[i]
				}
				if q[i] != w {
					t.Fatalf("case %d (n=%d) avx2=%v: q[%d]=%d, want %d (x=%g)", ci, len(x), avx2, i, q[i], w, x[min(i, len(x)-1)])
				}
			}
		}
	}
}

// TestPackTQ2MatchesGGML compares PackTQ2 with the library's own
// quantize_row_tq2_0_ref on the float weights.
func TestPackTQ2MatchesGGML(t *testing.T) {
	lib, err := ggmlOpen("haswell")
	if err != nil {
		t.Skipf("ggml unavailable: %v", err)
	}
	for _, cols := range []int{256, 512, 3200} {
		w, err := workloads.Generate(workloads.Spec{Rows: 4, Cols: cols, Codebook: kernels.Ternary, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		// Row 3: one all-zero block (code 1), where ggml's d is 0.
		for c := 0; c < 256; c++ {
			w.M.SetCode(3, c, 1)
		}
		packed := PackTQ2(w.M)
		nb := (cols + 255) / 256
		rowBytes := nb * TQ2BlockBytes
		for r := 0; r < 4; r++ {
			f := make([]float32, nb*256)
			for c := 0; c < cols; c++ {
				f[c] = w.M.Weight(r, c)
			}
			ref := ggmlTQ2Ref(lib, f)
			got := packed[r*rowBytes : (r+1)*rowBytes]
			for b := 0; b < nb; b++ {
				g, e := got[b*66:(b+1)*66], ref[b*66:(b+1)*66]
				if !bytes.Equal(g[:64], e[:64]) {
					t.Fatalf("cols %d row %d block %d: codes differ from quantize_row_tq2_0_ref", cols, r, b)
				}
				if d := uint16(e[64]) | uint16(e[65])<<8; d != 0 && !bytes.Equal(g[64:], e[64:]) {
					t.Fatalf("cols %d row %d block %d: d = %x, ggml %x", cols, r, b, g[64:], e[64:])
				}
			}
		}
	}
}

// TestGGMLUnalignedX feeds x at a 4-byte offset from a 64-byte boundary and
// checks that the result equals the aligned run bit for bit.
func TestGGMLUnalignedX(t *testing.T) {
	for _, k := range []*ggmlKernel{GGMLHaswell.(*ggmlKernel), GGMLZen4.(*ggmlKernel)} {
		if err := k.Available(); err != nil {
			t.Logf("%s unavailable: %v", k.I.ID, err)
			continue
		}
		for _, cols := range []int{256, 1024, 300} {
			w, err := workloads.Generate(workloads.Spec{Rows: 5, Cols: cols, Codebook: kernels.Ternary, Seed: 9})
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float32, 5)
			if err := kernels.Run(k, w.M, w.X, want); err != nil {
				t.Fatal(err)
			}
			buf := make([]float32, cols+32)
			off := 1
			for uintptr(unsafePointer(&buf[off]))%64 != 4 {
				off++
			}
			x := buf[off : off+cols : off+cols]
			copy(x, w.X)
			y := make([]float32, 5)
			if err := kernels.Run(k, w.M, x, y); err != nil {
				t.Fatal(err)
			}
			for r := range y {
				if y[r] != want[r] {
					t.Fatalf("%s cols %d row %d: unaligned x gives %g, aligned %g", k.I.ID, cols, r, y[r], want[r])
				}
			}
		}
	}
}

// TestGGMLDirForms accepts QKBENCH_GGML_DIR as the library folder, the peers
// folder or the unpacked package.
func TestGGMLDirForms(t *testing.T) {
	dir, err := GGMLDir()
	if err != nil || !isFile(dir+"/libggml-base.so") {
		t.Skipf("no ggml libraries: %v", err)
	}
	peers := dir
	for i := 0; i < 3; i++ {
		peers = filepath.Dir(peers)
	}
	for _, d := range []string{dir, peers, filepath.Dir(filepath.Dir(dir))} {
		t.Setenv("QKBENCH_GGML_DIR", d)
		got, err := GGMLDir()
		if err != nil || got != dir {
			t.Errorf("QKBENCH_GGML_DIR=%s: GGMLDir = %q, %v; want %q", d, got, err, dir)
		}
	}
}

func unsafePointer(p *float32) unsafe.Pointer { return unsafe.Pointer(p) }

// TestI2SOneRowPath checks the AVX2 kernel's one-row path (used for the
// four-row remainder, and alone by BenchmarkI2SRows) on every row count.
func TestI2SOneRowPath(t *testing.T) {
	if err := i2sAvailable(true); err != nil {
		t.Skip(err)
	}
	for _, cb := range []kernels.Codebook{kernels.QK256, kernels.Ternary} {
		w, err := workloads.Generate(workloads.Spec{Rows: 11, Cols: 1000, Codebook: cb, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		p, err := CI2SI8.Prepare(w.M)
		if err != nil {
			t.Fatal(err)
		}
		in := p.NewInput().(*i2sInput)
		if err := in.Load(w.X); err != nil {
			t.Fatal(err)
		}
		want := kernels.RefI8(w.M, w.X)
		y := make([]float32, 11)
		i2sGEMVRows(p.(*i2sPrepared), in, y, 0, false)
		for r := range y {
			if y[r] != want[r] {
				t.Fatalf("cb=%s row %d: one-row path gives %g, ref-i8 %g", cb.Name(), r, y[r], want[r])
			}
		}
	}
}

// BenchmarkI2SRows compares c-i2s-i8's four-row blocking with its one-row
// path at 2048x4096 (bitnet.cpp's own kernel has both).
func BenchmarkI2SRows(b *testing.B) {
	if err := i2sAvailable(true); err != nil {
		b.Skip(err)
	}
	w, err := workloads.Generate(workloads.Spec{Rows: 2048, Cols: 4096, Codebook: kernels.Ternary, Seed: workloads.DefaultSeed})
	if err != nil {
		b.Fatal(err)
	}
	p, err := CI2SI8.Prepare(w.M)
	if err != nil {
		b.Fatal(err)
	}
	in := p.NewInput().(*i2sInput)
	y := make([]float32, w.M.Rows)
	for _, multi := range []bool{true, false} {
		name := "rows=4"
		if !multi {
			name = "rows=1"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if err := in.Load(w.X); err != nil {
					b.Fatal(err)
				}
				i2sGEMVRows(p.(*i2sPrepared), in, y, 0, multi)
			}
		})
	}
}

// TestI2SRowsCompare is BenchmarkI2SRows interleaved: 9 rounds of 40 calls
// each, per-round median, median over rounds (QKBENCH_COMPARE=1).
func TestI2SRowsCompare(t *testing.T) {
	if os.Getenv("QKBENCH_COMPARE") != "1" {
		t.Skip("set QKBENCH_COMPARE=1")
	}
	if err := i2sAvailable(true); err != nil {
		t.Skip(err)
	}
	w, err := workloads.Generate(workloads.Spec{Rows: 2048, Cols: 4096, Codebook: kernels.Ternary, Seed: workloads.DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	p, err := CI2SI8.Prepare(w.M)
	if err != nil {
		t.Fatal(err)
	}
	in := p.NewInput().(*i2sInput)
	y := make([]float32, w.M.Rows)
	med := func(v []float64) float64 { v = slices.Clone(v); slices.Sort(v); return v[len(v)/2] }
	var r4, r1 []float64
	for round := 0; round < 9; round++ {
		for _, multi := range []bool{true, false} {
			var ts []float64
			for i := 0; i < 40; i++ {
				t0 := time.Now()
				if err := in.Load(w.X); err != nil {
					t.Fatal(err)
				}
				i2sGEMVRows(p.(*i2sPrepared), in, y, 0, multi)
				ts = append(ts, float64(time.Since(t0).Nanoseconds())/1e3)
			}
			if multi {
				r4 = append(r4, med(ts))
			} else {
				r1 = append(r1, med(ts))
			}
		}
	}
	t.Logf("c-i2s-i8 2048x4096 Load+GEMV: 4 rows per pass %.1f µs, 1 row per pass %.1f µs (median of 9 interleaved rounds)", med(r4), med(r1))
}
