package amd64

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/kerneltest"
	_ "github.com/qkbench/qkbench/kernels/scalar" // go-* and ref-* kernels
	"github.com/qkbench/qkbench/workloads"
)

func TestAVX2F32(t *testing.T) { kerneltest.Run(t, AVX2F32) }
func TestAVX2I8(t *testing.T)  { kerneltest.Run(t, AVX2I8) }

// BenchmarkAVX2 times one whole GEMV (Load, which quantizes x, plus GEMV over
// every row) at the seed's 2048x4096, hot, against the portable Go kernels
// (go-i8, go-f32, when registered) and the scalar references. Sub-benchmarks
// run interleaved under -count. cpu-ns/op is the thread CPU time per GEMV
// (Linux), steadier than ns/op when other processes share the cores.
func BenchmarkAVX2(b *testing.B) {
	const rows, cols = 2048, 4096
	w, err := workloads.Generate(workloads.Spec{Rows: rows, Cols: cols, Codebook: kernels.QK256, Seed: workloads.DefaultSeed})
	if err != nil {
		b.Fatal(err)
	}
	for _, id := range []string{"avx2-i8", "avx2-f32", "go-i8", "go-f32", "ref-i8", "ref-f32"} {
		b.Run(fmt.Sprintf("kernel=%s/shape=%dx%d/threads=1", id, rows, cols), func(b *testing.B) {
			k, err := kernels.Lookup(id)
			if err != nil {
				b.Skip(err)
			}
			if err := kernels.Usable(k); err != nil {
				b.Skip(err)
			}
			p, err := k.Prepare(w.M)
			if err != nil {
				b.Fatal(err)
			}
			in := p.NewInput()
			y := make([]float32, rows)
			b.SetBytes(w.M.WeightBytes())
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0 := threadCPUNanos()
			for b.Loop() {
				if err := in.Load(w.X); err != nil {
					b.Fatal(err)
				}
				if err := in.GEMV(y, 0, rows); err != nil {
					b.Fatal(err)
				}
			}
			if cpu1 := threadCPUNanos(); cpu0 >= 0 && cpu1 >= 0 {
				b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
			}
			b.ReportMetric(float64(w.M.MACs())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}
