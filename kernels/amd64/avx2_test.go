package amd64

import (
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/kerneltest"
	_ "github.com/qkbench/qkbench/kernels/scalar" // go-* and ref-* kernels
	"github.com/qkbench/qkbench/workloads"
)

// BenchmarkAVX2 times one whole GEMV (kerneltest.Bench) at the seed's
// 2048x4096, hot, against the portable Go kernels (go-i8, go-f32) and the
// scalar references.
func BenchmarkAVX2(b *testing.B) {
	w, err := workloads.Generate(workloads.Spec{Rows: 2048, Cols: 4096, Codebook: kernels.QK256, Seed: workloads.DefaultSeed})
	if err != nil {
		b.Fatal(err)
	}
	kerneltest.Bench(b, w, "avx2lut-i8", "avx2-i8", "avx2-f32", "go-i8", "go-f32", "ref-i8", "ref-f32")
}
