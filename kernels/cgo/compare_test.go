package cgo_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qkbench/qkbench/internal/stats"
	"github.com/qkbench/qkbench/kernels"
	_ "github.com/qkbench/qkbench/kernels/all" // ref-i8, go-i8, avx2-i8... for the comparisons
	"github.com/qkbench/qkbench/workloads"
)

// TestCompare times kernels interleaved on a shared, noisy machine: in each
// round every kernel runs Load+GEMV repeatedly (up to 40 calls or 60 ms, at
// least 3) and the round keeps the median call; the table gives the median
// over rounds and, per kernel, the median over rounds of its ratio to the
// first kernel in the same round. Ternary codebook and weights
// (QKBENCH_CODEBOOK=ternary semantics), 1 thread, hot weights.
//
//	QKBENCH_COMPARE=1 [QKBENCH_ROUNDS=9] [QKBENCH_KERNELS=a,b] [QKBENCH_SHAPES=2048x4096] go test -run TestCompare -v ./kernels/cgo/
func TestCompare(t *testing.T) {
	if os.Getenv("QKBENCH_COMPARE") != "1" {
		t.Skip("set QKBENCH_COMPARE=1 to run the interleaved timing comparison")
	}
	ids := []string{"c-i2s-i8", "avx2-i8", "go-i8", "ref-i8", "c-portable-i8", "ggml-tq2_0-haswell", "ggml-tq2_0-zen4"}
	if s := os.Getenv("QKBENCH_KERNELS"); s != "" {
		ids = strings.Split(s, ",")
	}
	shapes := benchShapes
	if s := os.Getenv("QKBENCH_SHAPES"); s != "" {
		shapes = strings.Split(s, ",")
	}
	rounds := 9
	if s := os.Getenv("QKBENCH_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			t.Fatalf("QKBENCH_ROUNDS=%q: want an integer in [1, 1000]", s)
		}
		rounds = n
	}
	var ks []kernels.Kernel
	for _, id := range ids {
		k, err := kernels.Lookup(id)
		if err != nil {
			t.Logf("skipping %s: not registered in this build", id)
			continue
		}
		if err := kernels.Usable(k); err != nil {
			t.Logf("skipping %s: %v", id, err)
			continue
		}
		ks = append(ks, k)
	}
	if len(ks) == 0 {
		t.Skip("no kernel to compare")
	}
	for _, sh := range shapes {
		shape, err := workloads.ParseShape(sh)
		if err != nil {
			t.Fatal(err)
		}
		w, err := workloads.Generate(workloads.SpecFor(shape, kernels.Ternary, workloads.DefaultSeed))
		if err != nil {
			t.Fatal(err)
		}
		ins := make([]kernels.Input, len(ks))
		for i, k := range ks {
			p, err := k.Prepare(w.M)
			if err != nil {
				t.Fatal(err)
			}
			ins[i] = p.NewInput()
		}
		y := make([]float32, w.M.Rows)
		per := make([][]float64, len(ks))   // round medians, µs
		ratio := make([][]float64, len(ks)) // vs ks[0] in the same round
		for round := 0; round < rounds; round++ {
			var first float64
			for i, in := range ins {
				var ts []float64
				start := time.Now()
				for len(ts) < 3 || len(ts) < 40 && time.Since(start) < 60*time.Millisecond {
					t0 := time.Now()
					if err := in.Load(w.X); err != nil {
						t.Fatal(err)
					}
					if err := in.GEMV(y, 0, w.M.Rows); err != nil {
						t.Fatal(err)
					}
					ts = append(ts, float64(time.Since(t0).Nanoseconds())/1e3)
				}
				m := stats.Median(ts)
				if i == 0 {
					first = m
				}
				per[i] = append(per[i], m)
				ratio[i] = append(ratio[i], m/first)
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "shape %s, %d rounds (median µs over rounds of per-round median calls; ratio to %s per round, median):\n", sh, rounds, ks[0].Info().ID)
		for i, k := range ks {
			gmac := float64(w.M.MACs()) / stats.Median(per[i]) / 1e3
			fmt.Fprintf(&b, "  %-20s %10.1f µs  %7.1f GMAC/s  ratio %.3f\n", k.Info().ID, stats.Median(per[i]), gmac, stats.Median(ratio[i]))
		}
		t.Log(b.String())
	}
}
