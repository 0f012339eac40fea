package kerneltest

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

// Bench times one whole GEMV (Load, which quantizes x, plus GEMV over every
// row) of w on one goroutine with hot weights, for each kernel id in turn, as
// sub-benchmarks named kernel=<id>/shape=<rows>x<cols>/threads=1 (so that
// -count interleaves them and benchstat -col /kernel compares them). A kernel
// that is not registered or cannot run here is skipped with the reason, or
// fails the benchmark when QKBENCH_REQUIRE names it. Besides ns/op and MB/s
// of weights it reports GMAC/s and, on Linux, cpu-ns/op: the CPU time of the
// benchmark's thread per GEMV, steadier than ns/op when other processes
// share the cores.
//
// It is the backends' single-thread benchmark; bench.BenchmarkGEMV is the
// full one (threads, shapes, agreement checked first).
func Bench(b *testing.B, w *workloads.Workload, ids ...string) {
	m := w.M
	for _, id := range ids {
		b.Run(fmt.Sprintf("kernel=%s/shape=%dx%d/threads=1", id, m.Rows, m.Cols), func(b *testing.B) {
			k, err := kernels.Lookup(id)
			if err == nil {
				err = kernels.Usable(k)
			}
			if err != nil {
				for _, r := range kernels.Required() {
					if r == id {
						b.Fatalf("%s is required by QKBENCH_REQUIRE: %v", id, err)
					}
				}
				b.Skip(err)
			}
			p, err := k.Prepare(m)
			if err != nil {
				b.Fatal(err)
			}
			in := p.NewInput()
			y := make([]float32, m.Rows)
			b.SetBytes(m.WeightBytes())
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0 := threadCPUNanos()
			for b.Loop() {
				if err := in.Load(w.X); err != nil {
					b.Fatal(err)
				}
				if err := in.GEMV(y, 0, m.Rows); err != nil {
					b.Fatal(err)
				}
			}
			if cpu1 := threadCPUNanos(); cpu0 >= 0 && cpu1 >= 0 {
				b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
			}
			b.ReportMetric(float64(m.MACs())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}
