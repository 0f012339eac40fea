package scalar_test

import (
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/kerneltest"
	"github.com/qkbench/qkbench/kernels/scalar"
	"github.com/qkbench/qkbench/workloads"
)

// BenchmarkGEMV times one whole GEMV of the scalar kernels at the seed shape
// (kerneltest.Bench).
func BenchmarkGEMV(b *testing.B) {
	w, err := workloads.Generate(workloads.SpecFor(workloads.Shape{Rows: 2048, Cols: 4096}, kernels.QK256, workloads.DefaultSeed))
	if err != nil {
		b.Fatal(err)
	}
	kerneltest.Bench(b, w, scalar.RefF32.Info().ID, scalar.RefI8.Info().ID, scalar.GoF32.Info().ID, scalar.GoI8.Info().ID)
}
