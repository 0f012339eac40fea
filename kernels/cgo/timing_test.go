package cgo_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/cgo"
	"github.com/qkbench/qkbench/workloads"
)

// TestGGMLTimingAgrees checks qkbench's timing of the ggml peers against
// testdata/ggmltime.c, an independent C program that times the same library
// functions in a plain loop. The two are run interleaved, several rounds; the
// median ratio of qkbench's Load+GEMV to the program's quantize+dot loop must
// lie within 15%. Timing is noisy on a shared machine, so the test runs only
// with QKBENCH_GGML_TIMING=1.
func TestGGMLTimingAgrees(t *testing.T) {
	if os.Getenv("QKBENCH_GGML_TIMING") != "1" {
		t.Skip("set QKBENCH_GGML_TIMING=1 to compare with the independent C timing program")
	}
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("no gcc to build testdata/ggmltime.c")
	}
	bin := filepath.Join(t.TempDir(), "ggmltime")
	if out, err := exec.Command(cc, "-O2", "-o", bin, "testdata/ggmltime.c", "-ldl").CombinedOutput(); err != nil {
		t.Fatalf("building ggmltime: %v\n%s", err, out)
	}
	dir, err := cgo.GGMLDir()
	if err != nil {
		t.Skip(err)
	}
	const rows, cols, reps, rounds = 2048, 4096, 200, 6
	w, err := workloads.Generate(workloads.Spec{Rows: rows, Cols: cols, Codebook: kernels.Ternary, Seed: workloads.DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`total_us=([0-9.]+)`)
	for _, k := range []kernels.Kernel{cgo.GGMLZen4, cgo.GGMLHaswell} {
		if err := kernels.Usable(k); err != nil {
			t.Logf("%s unavailable: %v", k.Info().ID, err)
			continue
		}
		variant := k.Info().ID[len("ggml-tq2_0-"):]
		p, err := k.Prepare(w.M)
		if err != nil {
			t.Fatal(err)
		}
		in := p.NewInput()
		y := make([]float32, rows)
		var ratios, ours, theirs []float64
		for round := 0; round < rounds; round++ {
			out, err := exec.Command(bin, dir, variant, strconv.Itoa(rows), strconv.Itoa(cols), strconv.Itoa(reps)).CombinedOutput()
			if err != nil {
				t.Fatalf("ggmltime: %v\n%s", err, out)
			}
			m := re.FindSubmatch(out)
			if m == nil {
				t.Fatalf("ggmltime printed no total_us: %s", out)
			}
			c, _ := strconv.ParseFloat(string(m[1]), 64)
			ts := make([]float64, reps)
			for i := range ts {
				t0 := time.Now()
				if err := in.Load(w.X); err != nil {
					t.Fatal(err)
				}
				if err := in.GEMV(y, 0, rows); err != nil {
					t.Fatal(err)
				}
				ts[i] = float64(time.Since(t0).Nanoseconds()) / 1e3
			}
			q := median(ts)
			ours, theirs, ratios = append(ours, q), append(theirs, c), append(ratios, q/c)
		}
		r := median(ratios)
		t.Logf("%s %dx%d: qkbench median %.1f µs, ggmltime median %.1f µs, median ratio %.3f (rounds %v vs %v)",
			k.Info().ID, rows, cols, median(ours), median(theirs), r, ours, theirs)
		if r > 1.15 || r < 1/1.15 {
			t.Errorf("%s: qkbench and ggmltime disagree by more than 15%% (ratio %.3f)", k.Info().ID, r)
		}
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
