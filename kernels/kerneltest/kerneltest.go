// Package kerneltest is the conformance suite every QK256 kernel passes: the
// same shapes, codebooks, tails, guard bands and concurrency for every backend,
// checked against the float64 oracle and the ref-i8 reference.
package kerneltest

import (
	"fmt"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

// Run runs the whole suite against k. An unavailable kernel is skipped with
// its reason, unless QKBENCH_REQUIRE names it: then the test fails.
func Run(t *testing.T, k kernels.Kernel) {
	t.Helper()
	id := k.Info().ID
	if err := kernels.Usable(k); err != nil {
		for _, r := range kernels.Required() {
			if r == id {
				t.Fatalf("%s is required by QKBENCH_REQUIRE but unavailable: %v", id, err)
			}
		}
		t.Skipf("%s unavailable: %v", id, err)
	}
	for _, cb := range []kernels.Codebook{kernels.QK256, kernels.Ternary} {
		if k.Supports(cb) != nil {
			continue
		}
		for _, rows := range []int{1, 2, 3, 7, 8, 67} {
			for _, cols := range []int{1, 7, 255, 256, 512, 1536, 3200, 4096} {
				t.Run(fmt.Sprintf("cb=%s/%dx%d", cb.Name(), rows, cols), func(t *testing.T) {
					w, err := workloads.Generate(workloads.Spec{Rows: rows, Cols: cols, Codebook: cb, Seed: uint64(rows*100000 + cols)})
					if err != nil {
						t.Fatal(err)
					}
					y := make([]float32, rows)
					if err := kernels.Run(k, w.M, w.X, y); err != nil {
						t.Fatal(err)
					}
					if a := kernels.Expect(w.M, w.X).Agree(k.Info().Mode, y); a.ExactMatch != 1 && k.Info().Mode == kernels.I8 || !a.Pass && k.Info().Mode != kernels.I8 {
						t.Fatalf("%s: %s", id, a.Why)
					}
				})
			}
		}
	}
}
