package scalar_test

import (
	"fmt"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/scalar"
	"github.com/qkbench/qkbench/workloads"
)

// BenchmarkGEMV times one whole GEMV (Load + GEMV over every row, one
// goroutine, hot weights) for the scalar kernels at the seed shape.
func BenchmarkGEMV(b *testing.B) {
	const rows, cols = 2048, 4096
	w, err := workloads.Generate(workloads.SpecFor(workloads.Shape{Rows: rows, Cols: cols}, kernels.QK256, workloads.DefaultSeed))
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range []kernels.Kernel{scalar.RefF32, scalar.RefI8, scalar.GoF32, scalar.GoI8} {
		b.Run(fmt.Sprintf("kernel=%s/shape=%dx%d/threads=1", k.Info().ID, rows, cols), func(b *testing.B) {
			p, err := k.Prepare(w.M)
			if err != nil {
				b.Fatal(err)
			}
			in := p.NewInput()
			y := make([]float32, rows)
			b.SetBytes(w.M.WeightBytes())
			for b.Loop() {
				if err := in.Load(w.X); err != nil {
					b.Fatal(err)
				}
				if err := in.GEMV(y, 0, rows); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(w.M.MACs())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}
