package amd64

import (
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

// TestAVX512Timing (QKBENCH_AVX512_TIMING=1) times single Load and GEMV
// calls at 2048x4096, kernels interleaved, and logs the minimum and the
// 10th/50th percentiles: on a shared machine the benchmark's mean includes
// time the process was not running.
func TestAVX512Timing(t *testing.T) {
	if os.Getenv("QKBENCH_AVX512_TIMING") == "" {
		t.Skip("set QKBENCH_AVX512_TIMING=1")
	}
	rows, cols := 2048, 4096
	if v := os.Getenv("QKBENCH_AVX512_SHAPE"); v != "" {
		sh, err := workloads.ParseShape(v)
		if err != nil {
			t.Fatal(err)
		}
		rows, cols = sh.Rows, sh.Cols
	}
	w, err := workloads.Generate(workloads.Spec{Rows: rows, Cols: cols, Codebook: kernels.QK256, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	type run struct {
		id        string
		p         kernels.Prepared
		in        kernels.Input
		load, all []time.Duration
	}
	var runs []*run
	for _, k := range avx512Kernels() {
		avx512Skip(t, k)
		p, err := k.Prepare(w.M)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, &run{id: k.Info().ID, p: p, in: p.NewInput()})
	}
	threads := 1
	if os.Getenv("QKBENCH_AVX512_THREADS") == "2" {
		threads = 2
	}
	y := make([]float32, w.M.Rows)
	for i := 0; i < 4000; i++ {
		for _, r := range runs {
			t0 := time.Now()
			_ = r.in.Load(w.X)
			t1 := time.Now()
			if threads == 1 {
				_ = r.in.GEMV(y, 0, w.M.Rows)
			} else {
				parts := avx512SplitRows(r.p, w.M.Rows, threads)
				var wg sync.WaitGroup
				for _, pr := range parts[1:] {
					wg.Go(func() { _ = r.in.GEMV(y, pr[0], pr[1]) })
				}
				_ = r.in.GEMV(y, parts[0][0], parts[0][1])
				wg.Wait()
			}
			t2 := time.Now()
			r.load = append(r.load, t1.Sub(t0))
			r.all = append(r.all, t2.Sub(t0))
		}
	}
	for _, r := range runs {
		slices.Sort(r.load)
		slices.Sort(r.all)
		q := func(d []time.Duration, f float64) float64 {
			return float64(d[int(f*float64(len(d)-1))].Nanoseconds()) / 1e3
		}
		t.Logf("%s threads=%d %-14s load+gemv us: min %.1f p10 %.1f p50 %.1f | load: min %.1f p50 %.1f", w.M.Shape(), threads, r.id,
			q(r.all, 0), q(r.all, 0.1), q(r.all, 0.5), q(r.load, 0), q(r.load, 0.5))
	}
}
