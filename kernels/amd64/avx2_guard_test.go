//go:build linux

package amd64

import (
	"testing"
	"unsafe"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/internal/guard"
	"github.com/qkbench/qkbench/workloads"
)

// guarded returns n bytes that end right before a PROT_NONE page, so that
// reading one byte past them faults instead of passing silently.
func guarded(t *testing.T, n int) []byte {
	t.Helper()
	b, free, err := guard.Alloc(n, guard.End)
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(free)
	return b
}

func guardedF32(t *testing.T, x []float32) []float32 {
	t.Helper()
	g, free, err := guard.Floats(len(x), guard.End, 0)
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(free)
	copy(g, x)
	return g
}

// TestAVX2GuardX places x right before an unmapped page for the quantizer and
// both kernels.
func TestAVX2GuardX(t *testing.T) {
	for _, k := range avx2Kernels {
		usable(t, k)
		for _, cols := range []int{1, 31, 32, 100, 128, 255, 256, 384, 4000, 4096} {
			w, err := workloads.Generate(workloads.Spec{Rows: 5, Cols: cols, Codebook: kernels.QK256, Seed: 9})
			if err != nil {
				t.Fatal(err)
			}
			check(t, k, w.M, guardedF32(t, w.X), "x before a guard page")
		}
	}
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(i%97) - 48
	}
	for _, n := range []int{32, 64, 96, 4096} {
		g := guardedF32(t, x[:n])
		q := guarded(t, n)
		quantizeI8(g, unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(q))), n))
	}
}

// TestAVX2GuardAsm calls the row kernels on the last rows of a repacked
// matrix and on q/x buffers that end right before an unmapped page.
func TestAVX2GuardAsm(t *testing.T) {
	usable(t, AVX2I8)
	usable(t, AVX2F32)
	for _, cols := range []int{128, 1000, 1024, 1919, 3200} {
		w, err := workloads.Generate(workloads.Spec{Rows: 4, Cols: cols, Codebook: kernels.QK256, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		m := w.M
		nchunk := (cols + chunkCols - 1) / chunkCols
		var i8tab [32]byte
		for i := 0; i < 16; i++ {
			i8tab[i] = byte(m.Codebook[i&3] + 2)
			i8tab[16+i] = byte(m.Codebook[i>>2] + 2)
		}
		var f32tab [8]float32
		for i := range f32tab {
			f32tab[i] = float32(m.Codebook[i&3])
		}
		q := make([]int8, nchunk*chunkCols)
		quantizeI8(w.X, q)
		gq := guarded(t, len(q))
		for i, v := range q {
			gq[i] = byte(v)
		}
		x := make([]float32, nchunk*chunkCols)
		copy(x, w.X)
		gx := guardedF32(t, x)

		for _, layout := range []string{"i8", "f32"} {
			// Only the chunks that are computed: the data ends right after
			// the bytes that row 3's last chunk reads.
			data, stride := i8Repack(m), m.Stride()
			used := 3*stride + 32*nchunk
			if layout == "f32" {
				data, stride = f32Repack(m), 2*m.Stride()
				used = 3*stride + 64*nchunk + 3 // offset loads read 3 bytes past the chunk
			}
			gw := guarded(t, used)
			copy(gw, data[:used])
			for _, rows := range []int{4, 1} {
				base := gw[(4-rows)*stride:] // the last rows
				ref := data[(4-rows)*stride:]
				if layout == "i8" {
					var want, got [4]int32
					call := i8Rows4AVX2
					if rows == 1 {
						call = i8Rows1AVX2
					}
					call(&ref[0], stride, &q[0], nchunk, 1, &i8tab, &want[0])
					call(&base[0], stride, (*int8)(unsafe.Pointer(&gq[0])), nchunk, 1, &i8tab, &got[0])
					if got != want {
						t.Fatalf("i8, %d rows, cols=%d: guarded %v, plain %v", rows, cols, got, want)
					}
				} else {
					var want, got [4]float32
					call := f32Rows4AVX2
					if rows == 1 {
						call = f32Rows1AVX2
					}
					call(&ref[0], stride, &x[0], nchunk, &f32tab, &want[0])
					call(&base[0], stride, &gx[0], nchunk, &f32tab, &got[0])
					if got != want {
						t.Fatalf("f32, %d rows, cols=%d: guarded %v, plain %v", rows, cols, got, want)
					}
				}
			}
		}
	}
}

// TestAVX2GuardAsmDirect does the same for the direct-layout i8 kernels (both
// group sizes): the codes end right before an unmapped page, then q does.
func TestAVX2GuardAsmDirect(t *testing.T) {
	usable(t, AVX2I8)
	type rowsFunc func(w *byte, stride int, q *int8, nchunk int, nblk int, out *int32)
	for _, cols := range []int{128, 1000, 1024, 1919, 3200} {
		w, err := workloads.Generate(workloads.Spec{Rows: 4, Cols: cols, Codebook: kernels.Codebook{-2, 1, 0, -1}, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		m := w.M
		nchunk := (cols + chunkCols - 1) / chunkCols
		q := make([]int8, nchunk*chunkCols)
		quantizeI8(w.X, q)
		gq := guarded(t, len(q))
		for i, v := range q {
			gq[i] = byte(v)
		}
		data, stride := i8DirRepack(m), m.Stride()
		used := 3*stride + 32*nchunk
		gw := guarded(t, used)
		copy(gw, data[:used])
		var first *[4]int32
		for _, f := range []struct {
			name string
			rows int
			call rowsFunc
		}{
			{"G8x4", 4, i8DirRows4G8AVX2}, {"G8x1", 1, i8DirRows1G8AVX2},
			{"G4x4", 4, i8DirRows4G4AVX2}, {"G4x1", 1, i8DirRows1G4AVX2},
		} {
			// All 4 rows: 4/rows blocks, the last one ends at the guard page.
			var want, got [4]int32
			f.call(&data[0], stride, &q[0], nchunk, 4/f.rows, &want[0])
			f.call(&gw[0], stride, (*int8)(unsafe.Pointer(&gq[0])), nchunk, 4/f.rows, &got[0])
			if first == nil {
				first = &want
			} else if want != *first {
				t.Fatalf("%s, cols=%d: %v, %s gave %v", f.name, cols, want, "G8x4", *first)
			}
			if got != want {
				t.Fatalf("%s, cols=%d: guarded %v, plain %v", f.name, cols, got, want)
			}
		}
	}
}
