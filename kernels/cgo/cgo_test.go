package cgo_test

import (
	"os"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/cgo"
	"github.com/qkbench/qkbench/kernels/kerneltest"
	"github.com/qkbench/qkbench/workloads"
)

// TestRegistered checks that every kernel of the package is listed, usable or
// with a reason, in every build.
func TestRegistered(t *testing.T) {
	for _, id := range []string{"c-i2s-i8", "c-portable-i8", "c-plain-f32", "ggml-tq2_0-haswell", "ggml-tq2_0-zen4"} {
		k, err := kernels.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		if k.Info().Backend != "cgo" {
			t.Errorf("%s: backend %q, want cgo", id, k.Info().Backend)
		}
		if err := kernels.Usable(k); err != nil {
			if err.Error() == "" {
				t.Errorf("%s: unavailable with an empty reason", id)
			}
			t.Logf("%s unavailable: %v", id, err)
			// An unavailable kernel must refuse to prepare, not fall back.
			m, _ := kernels.NewMatrix(1, 256, kernels.Ternary, 1)
			if _, perr := k.Prepare(m); perr == nil {
				t.Errorf("%s: Prepare succeeded although the kernel is unavailable", id)
			}
		}
	}
}

func TestGGMLRefusesNonTernary(t *testing.T) {
	for _, k := range []kernels.Kernel{cgo.GGMLHaswell, cgo.GGMLZen4} {
		err := k.Supports(kernels.QK256)
		if err == nil || !strings.Contains(err.Error(), "TQ2_0") {
			t.Errorf("%s: Supports(qk256) = %v, want an error naming TQ2_0", k.Info().ID, err)
		}
		if err := k.Supports(kernels.Ternary); err != nil {
			t.Errorf("%s: Supports(ternary) = %v", k.Info().ID, err)
		}
	}
}

// TestPackI2S decodes the repacked layout by its definition and compares
// every code with the matrix's.
func TestPackI2S(t *testing.T) {
	for _, cols := range []int{1, 127, 128, 129, 255, 256, 300, 3200} {
		w, err := workloads.Generate(workloads.Spec{Rows: 3, Cols: cols, Codebook: kernels.QK256, Seed: uint64(cols)})
		if err != nil {
			t.Fatal(err)
		}
		p := cgo.PackI2S(w.M)
		stride := cgo.I2SStride(cols)
		if len(p) != 3*stride || stride != (cols+127)/128*32 {
			t.Fatalf("cols %d: %d bytes, stride %d", cols, len(p), stride)
		}
		for r := 0; r < 3; r++ {
			for c := 0; c < cols; c++ {
				blk, j := c/128, c%128
				b := p[r*stride+blk*32+j%32]
				got := b >> (6 - 2*uint(j/32)) & 3
				if want := w.M.Code(r, c); got != want {
					t.Fatalf("cols %d: code(%d,%d) = %d, want %d", cols, r, c, got, want)
				}
			}
		}
	}
}

// TestI2SNoOverflow is docs/format.md §2's worst case: every q = ±127 against the
// matching extreme weight, over 16384 columns, for several codebooks.
func TestI2SNoOverflow(t *testing.T) {
	for _, k := range []kernels.Kernel{cgo.CI2SI8, cgo.CPortableI8} {
		if err := kernels.Usable(k); err != nil {
			t.Logf("%s unavailable: %v", k.Info().ID, err)
			continue
		}
		for _, cb := range []kernels.Codebook{kernels.QK256, {2, 2, 2, 2}, {-2, -2, -2, -2}, {2, -2, 2, -2}} {
			for _, sign := range []float32{1, -1, 2, -2} { // |sign| 2: every third x flips sign
				const rows, cols = 5, 16384
				codes := make([]uint8, rows*cols)
				x := make([]float32, cols)
				for c := range x {
					x[c] = sign
					if sign == 2 || sign == -2 {
						x[c] = sign / 2
						if c%3 == 1 {
							x[c] = -sign / 2
						}
					}
				}
				for r := 0; r < rows; r++ {
					for c := 0; c < cols; c++ {
						// Code 3 (+2 under qk256) with +x, code 0 (-2) with -x.
						if x[c] > 0 {
							codes[r*cols+c] = 3
						}
						if r == 4 {
							codes[r*cols+c] ^= 3 // the opposite extreme
						}
					}
				}
				m, err := kernels.FromCodes(rows, cols, codes, cb, 1)
				if err != nil {
					t.Fatal(err)
				}
				y := make([]float32, rows)
				if err := kernels.Run(k, m, x, y); err != nil {
					t.Fatal(err)
				}
				want := kernels.RefI8(m, x)
				for r := range y {
					if y[r] != want[r] {
						t.Fatalf("%s cb=%s sign=%v row %d: y=%g, want %g", k.Info().ID, cb.Values(), sign, r, y[r], want[r])
					}
				}
			}
		}
	}
}

// TestGGMLMissing proves the peers report the hint when the libraries are absent.
func TestGGMLMissing(t *testing.T) {
	t.Setenv("QKBENCH_GGML_DIR", t.TempDir())
	dir, err := cgo.GGMLDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir + "/libggml-base.so"); err == nil {
		t.Fatal("temp dir has a library")
	}
	err = cgo.CheckGGMLFiles("zen4")
	if err == nil || !strings.Contains(err.Error(), "run make peers or set QKBENCH_GGML_DIR") {
		t.Fatalf("err = %v, want the make peers hint", err)
	}
}

// Benchmarks: QKBENCH_CODEBOOK=ternary semantics (ternary weights and codebook).
var benchShapes = []string{"2048x4096", "2560x2560", "640x2560", "6912x2560", "2560x6912"}

func BenchmarkGEMV(b *testing.B) {
	ids := []string{"ref-i8", "go-i8", "avx2-i8", "c-i2s-i8", "c-portable-i8", "c-plain-f32", "ggml-tq2_0-haswell", "ggml-tq2_0-zen4"}
	if s := os.Getenv("QKBENCH_KERNELS"); s != "" {
		ids = strings.Split(s, ",")
	}
	for _, sh := range benchShapes {
		shape, err := workloads.ParseShape(sh)
		if err != nil {
			b.Fatal(err)
		}
		w, err := workloads.Generate(workloads.SpecFor(shape, kernels.Ternary, workloads.DefaultSeed))
		if err != nil {
			b.Fatal(err)
		}
		kerneltest.Bench(b, w, ids...)
	}
}

// TestGGMLPaddedCols covers what the conformance suite leaves out for peers:
// cols that are not a multiple of 256 (x and W padded with zeros to whole
// TQ2_0 blocks). The padding codes of the QK256 matrix must not matter.
func TestGGMLPaddedCols(t *testing.T) {
	for _, k := range []kernels.Kernel{cgo.GGMLHaswell, cgo.GGMLZen4} {
		if err := kernels.Usable(k); err != nil {
			t.Logf("%s unavailable: %v", k.Info().ID, err)
			continue
		}
		for _, sh := range [][2]int{{67, 3200}, {16, 8640}, {9, 300}, {8, 1}, {8, 257}} {
			w, err := workloads.Generate(workloads.Spec{Rows: sh[0], Cols: sh[1], Codebook: kernels.Ternary, Seed: uint64(sh[1])})
			if err != nil {
				t.Fatal(err)
			}
			var first []float32
			for pad := uint8(0); pad < 4; pad++ {
				w.M.FillPadding(pad)
				y := make([]float32, sh[0])
				if err := kernels.Run(k, w.M, w.X, y); err != nil {
					t.Fatal(err)
				}
				if a := kernels.Expect(w.M, w.X).Agree(kernels.Peer, y); !a.Pass {
					t.Fatalf("%s %dx%d pad=%d: %s", k.Info().ID, sh[0], sh[1], pad, a.Why)
				}
				if first == nil {
					first = y
					continue
				}
				for r := range y {
					if y[r] != first[r] {
						t.Fatalf("%s %dx%d: padding code %d changes row %d: %g vs %g", k.Info().ID, sh[0], sh[1], pad, r, y[r], first[r])
					}
				}
			}
		}
	}
}
