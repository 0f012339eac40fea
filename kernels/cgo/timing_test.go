package cgo_test

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/qkbench/qkbench/internal/stats"
	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/cgo"
	"github.com/qkbench/qkbench/workloads"
)

// TestGGMLTimingAgrees checks qkbench's timing of the ggml peers against
// testdata/ggmltime.c, an independent C program that times the same library
// functions in a plain loop. The program stays up and times a batch of reps
// whenever asked, so the two timings are paired in time as the gate pairs
// builds: each pair is qkbench, C, C, qkbench or the reverse (chosen at
// random), and the Hodges–Lehmann estimate of the pairs' ratio
// qkbench/C must lie within 15% of 1. A change of the host's speed between
// separate rounds (states ~20% apart here) cannot tilt it. Timing is noisy
// on a shared machine, so the test runs only with QKBENCH_GGML_TIMING=1.
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
	const rows, cols, reps, pairs = 2048, 4096, 40, 24
	w, err := workloads.Generate(workloads.Spec{Rows: rows, Cols: cols, Codebook: kernels.Ternary, Seed: workloads.DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`total_us=([0-9.]+)`)
	rng := rand.New(rand.NewPCG(1, 2))
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
		ours := func() float64 { // median µs of reps Load+GEMV
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
			return stats.Median(ts)
		}
		prog := exec.Command(bin, dir, variant, strconv.Itoa(rows), strconv.Itoa(cols), "-")
		stdin, _ := prog.StdinPipe()
		stdout, _ := prog.StdoutPipe()
		prog.Stderr = os.Stderr
		if err := prog.Start(); err != nil {
			t.Fatal(err)
		}
		answers := bufio.NewScanner(stdout)
		theirs := func() float64 {
			fmt.Fprintf(stdin, "%d\n", reps)
			if !answers.Scan() {
				t.Fatalf("ggmltime stopped answering: %v", answers.Err())
			}
			m := re.FindSubmatch(answers.Bytes())
			if m == nil {
				t.Fatalf("ggmltime printed no total_us: %s", answers.Text())
			}
			v, _ := strconv.ParseFloat(string(m[1]), 64)
			return v
		}
		ours()
		theirs() // warm both up
		var logs, oursAll, theirsAll []float64
		for range pairs {
			var o, c float64
			if rng.IntN(2) == 0 {
				o += ours()
				c += theirs()
				c += theirs()
				o += ours()
			} else {
				c += theirs()
				o += ours()
				o += ours()
				c += theirs()
			}
			logs = append(logs, math.Log(o/c))
			oursAll, theirsAll = append(oursAll, o/2), append(theirsAll, c/2)
		}
		stdin.Close()
		prog.Wait()
		est, lo, hi := stats.HodgesLehmann(logs, 0.95)
		r := math.Exp(est)
		t.Logf("%s %dx%d: qkbench median %.1f µs, ggmltime median %.1f µs; paired ratio %.3f [%.3f, %.3f] over %d pairs",
			k.Info().ID, rows, cols, stats.Median(oursAll), stats.Median(theirsAll), r, math.Exp(lo), math.Exp(hi), pairs)
		if r > 1.15 || r < 1/1.15 {
			t.Errorf("%s: qkbench and ggmltime disagree by more than 15%% (paired ratio %.3f)", k.Info().ID, r)
		}
	}
}
