package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qkbench/qkbench/bench/probe"
	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/scalar"
	"github.com/qkbench/qkbench/reports"
	"github.com/qkbench/qkbench/workloads"
)

// offline is a kernel that is never available.
type offline struct{ kernels.Base }

func (offline) Available() error { return errors.New("test kernel is never available") }
func (k *offline) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	return nil, kernels.CheckPrepare(k, m)
}

func sweepWorkloads(t *testing.T, shapes ...string) []SweepWorkload {
	t.Helper()
	var out []SweepWorkload
	for _, s := range shapes {
		sh, err := workloads.ParseShape(s)
		if err != nil {
			t.Fatal(err)
		}
		w, err := workloads.Generate(workloads.SpecFor(sh, kernels.QK256, 1))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, SweepWorkload{W: w, Info: reports.WorkloadInfo{Name: w.Name, Shape: s}})
	}
	return out
}

func TestSweep(t *testing.T) {
	broken := newProbe()
	broken.wrongRows = true
	gone := &offline{kernels.Base{I: kernels.Info{ID: "gone-i8", Mode: kernels.I8}}}
	var order []string
	s := &Sweep{
		Kernels:   []kernels.Kernel{scalar.RefI8, scalar.RefF32, broken, gone},
		Workloads: sweepWorkloads(t, "48x300", "16x256"),
		Threads:   []int{1, 2},
		Count:     6,
		MinTime:   time.Millisecond,
		Machine:   fakeMachine(),
		CPUClock:  noClock,
		Profile: func(c *reports.Cell, f func() error) error {
			order = append(order, fmt.Sprintf("%s/%s/%d", c.Kernel, c.Workload, c.Threads))
			return f()
		},
	}
	steps, finished := 0, 0
	s.Progress = func(done, total int, _ string) { steps = done }
	s.Finished = func(r *reports.Run) error { finished++; return nil }
	run := &reports.Run{}
	if err := s.Run(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	if steps != s.Steps() || finished != 2 {
		t.Errorf("progress reached %d of %d steps; Finished called %d times, want 2", steps, s.Steps(), finished)
	}
	if len(run.Cells) != 2*4*2 {
		t.Fatalf("%d cells, want 16", len(run.Cells))
	}
	for _, c := range run.Cells {
		switch c.Kernel {
		case "ref-i8", "ref-f32":
			if c.Status != reports.StatusOK || len(c.Samples) != 6 || !(c.Median > 0) || c.Agreement == nil || !c.Agreement.Pass {
				t.Errorf("%s %s t%d: %+v", c.Kernel, c.Workload, c.Threads, c)
			}
			if c.Low <= 0 || c.Low > c.Median || c.High < c.Median {
				t.Errorf("%s: interval [%g, %g] around %g", c.Kernel, c.Low, c.High, c.Median)
			}
			if want := float64(c.MACs) / c.Median / 1e9; math.Abs(c.GMACps-want) > 1e-9*want {
				t.Errorf("GMAC/s %g, want %g", c.GMACps, want)
			}
			if !(c.Roofline > 0 && c.Roofline < 1) {
				t.Errorf("%s: roofline fraction %g", c.Kernel, c.Roofline)
			}
		case "probe-i8":
			if c.Status != reports.StatusFailed || len(c.Samples) != 0 {
				t.Errorf("a disagreeing kernel was timed or not failed: %+v", c)
			}
		case "gone-i8":
			if c.Status != reports.StatusUnavailable || c.Reason == "" {
				t.Errorf("unavailable kernel: %+v", c)
			}
		}
	}
	// Samples interleave round-robin: within a workload, no cell takes two
	// samples in a row while another cell still has one to take.
	if len(order) != 2*2*2*6 {
		t.Fatalf("%d samples taken, want 48", len(order))
	}
	for i := 0; i < len(order); i += 4 {
		seen := map[string]bool{}
		for _, o := range order[i : i+4] {
			if seen[o] {
				t.Fatalf("samples %d..%d are not round-robin: %v", i, i+3, order[i:i+4])
			}
			seen[o] = true
		}
	}
}

func TestSweepInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sweep{
		Kernels:   []kernels.Kernel{scalar.RefI8},
		Workloads: sweepWorkloads(t, "8x256", "9x256", "10x256"),
		Threads:   []int{1},
		Count:     6,
		MinTime:   time.Millisecond,
	}
	var saved []int
	s.Finished = func(r *reports.Run) error {
		saved = append(saved, len(r.Cells))
		cancel() // Ctrl-C after the first workload
		return nil
	}
	run := &reports.Run{}
	err := s.Run(ctx, run)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	if len(run.Cells) != 1 || run.Cells[0].Workload != "8x256" || len(saved) != 1 {
		t.Errorf("after an interrupt the run holds %d cells (saved %v), want the first workload's one", len(run.Cells), saved)
	}
}

// With --rounds, the run written after each workload of the first pass
// holds summarised cells: an interrupted run keeps the passes it finished
// (their cells had no median, and the receipt was refused on reading).
func TestSweepPassesSummarised(t *testing.T) {
	s := &Sweep{Kernels: []kernels.Kernel{scalar.RefI8}, Workloads: sweepWorkloads(t, "8x256", "9x256"), Threads: []int{1},
		Count: 4, Passes: 2, MinTime: time.Millisecond}
	writes := 0
	s.Finished = func(r *reports.Run) error {
		writes++
		for _, c := range r.Cells {
			if c.Status != reports.StatusOK || !(c.Median > 0) || len(c.Samples) == 0 {
				t.Errorf("write %d: cell %s %s: status %s, median %g, %d samples", writes, c.Kernel, c.Workload, c.Status, c.Median, len(c.Samples))
			}
		}
		return nil
	}
	if err := s.Run(context.Background(), &reports.Run{}); err != nil {
		t.Fatal(err)
	}
	if writes != 4 {
		t.Errorf("%d writes, want 4 (2 workloads × 2 passes)", writes)
	}
}

func TestColdCopies(t *testing.T) {
	if n := ColdCopies(2<<20, 64<<20); n != 32 {
		t.Errorf("ColdCopies(2 MiB, 64 MiB) = %d, want 32", n)
	}
	if n := ColdCopies(1<<30, 64<<20); n != 2 {
		t.Errorf("ColdCopies of a matrix larger than the total = %d, want 2", n)
	}
}

func TestSweepCold(t *testing.T) {
	s := &Sweep{Kernels: []kernels.Kernel{scalar.RefI8}, Workloads: sweepWorkloads(t, "8x256"), Threads: []int{1}, Count: 2, MinTime: time.Millisecond, Cold: true, ColdBytes: 8 * 64 * 5}
	run := &reports.Run{}
	if err := s.Run(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	if c := run.Cells[0]; c.Status != reports.StatusOK || c.Mode != "cold" {
		t.Errorf("cold cell: %+v", c)
	}
}

// fakeMachine is a probe result: 50 GB/s from cache, 10 GB/s from 64 MiB up
// on one thread, a 2-thread DRAM figure *below* the 1-thread one (as a busy
// machine can measure), 100 GMAC/s int8 and 10 GFMA/s f32.
func fakeMachine() *probe.Result {
	return &probe.Result{
		Cores:       2,
		Read:        []probe.Point{{WorkingSet: 1 << 20, BytesPerSec: 50e9}, {WorkingSet: 64 << 20, BytesPerSec: 10e9}},
		ReadThreads: []probe.Point{{WorkingSet: 64 << 20, BytesPerSec: 5e9}},
		Figures: []probe.Figure{
			{Name: "int8", Kind: probe.KindInt8, ISA: "avx2", Threads: 1, Best: 100},
			{Name: "f32", Kind: probe.KindF32, ISA: "fma3", Threads: 1, Best: 10},
		},
	}
}

func TestFloor(t *testing.T) {
	m := fakeMachine()
	for _, tc := range []struct {
		name           string
		bytes, macs    int64
		mode           kernels.Mode
		active, copies int
		want           float64
	}{
		// 1 MiB in cache: 2^20 B / 50 GB/s vs 4 Mi MACs / 100 GMAC/s.
		{"hot, compute bound", 1 << 20, 4 << 20, kernels.I8, 1, 1, float64(4<<20) / 100e9},
		{"hot f32, compute bound", 1 << 20, 4 << 20, kernels.F32, 1, 1, float64(4<<20) / 10e9},
		{"hot, 2 threads", 1 << 20, 4 << 20, kernels.I8, 2, 1, float64(4<<20) / 200e9},
		// Cold: the working set is 64 copies of 1 MiB, read at 10 GB/s; the
		// 2-thread figure (5 GB/s) is below the 1-thread one and must not
		// make the floor longer than one thread's.
		{"cold", 1 << 20, 1 << 10, kernels.I8, 1, 64, float64(1<<20) / 10e9},
		{"cold, 2 threads, slow aggregate", 1 << 20, 1 << 10, kernels.I8, 2, 64, float64(1<<20) / 10e9},
	} {
		c := &reports.Cell{WeightBytes: tc.bytes, MACs: tc.macs, ActiveThreads: tc.active}
		// The probe rounds times to nanoseconds.
		if got := Floor(m, c, tc.mode, tc.copies); math.Abs(got-tc.want) > 1e-4*tc.want {
			t.Errorf("%s: floor %g s, want %g s", tc.name, got, tc.want)
		}
	}
	if f := Floor(nil, &reports.Cell{WeightBytes: 1, MACs: 1}, kernels.I8, 1); f != 0 {
		t.Errorf("no probe: floor %g, want 0", f)
	}
}

func TestSweepActiveThreads(t *testing.T) {
	s := &Sweep{Kernels: []kernels.Kernel{scalar.RefI8}, Workloads: sweepWorkloads(t, "3x256"), Threads: []int{2}, Count: 2, MinTime: time.Millisecond}
	run := &reports.Run{}
	if err := s.Run(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	if c := run.Cells[0]; c.Threads != 2 || c.ActiveThreads != 1 {
		t.Errorf("3 rows at 2 threads: threads %d, active %d; want 2 and 1", c.Threads, c.ActiveThreads)
	}
}

// slowPrepare is ref-i8 whose Prepare takes a minute, like the setup of a
// 65536×65536 workload.
type slowPrepare struct{ kernels.Kernel }

func (k slowPrepare) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	time.Sleep(time.Minute)
	return k.Kernel.Prepare(m)
}

// Ctrl-C during calibration or a sample of --min-time 10s, or during a
// long setup, used to take effect only when that step ended (26.5 s, 15 s).
func TestSweepInterruptedMidStep(t *testing.T) {
	for _, c := range []struct {
		name string
		k    kernels.Kernel
	}{
		{"calibration", scalar.RefI8},
		{"setup", slowPrepare{scalar.RefI8}},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		s := &Sweep{Kernels: []kernels.Kernel{c.k}, Workloads: sweepWorkloads(t, "8x256"), Threads: []int{1}, Count: 3, MinTime: 10 * time.Second}
		time.AfterFunc(300*time.Millisecond, cancel)
		t0 := time.Now()
		err := s.Run(ctx, &reports.Run{})
		if !errors.Is(err, ErrInterrupted) {
			t.Errorf("%s: err = %v, want ErrInterrupted", c.name, err)
		}
		if d := time.Since(t0); d > 2*time.Second {
			t.Errorf("%s: Run returned %v after the start, 300 ms after it was interrupted", c.name, d)
		}
	}
}

// noClock says the process CPU time is unknown: no sample is disturbed.
func noClock() float64 { return -1 }

// scriptedClock makes the tries of samples disturbed or not, in order: a
// try is a pair of readings, (0, 0) for a disturbed one (no CPU time at
// all) and (0, 1e9) for a clean one.
type scriptedClock struct {
	disturbed []bool // per try; clean once it runs out
	calls     int
}

func (c *scriptedClock) read() float64 {
	try, end := c.calls/2, c.calls%2 == 1
	c.calls++
	if !end || try < len(c.disturbed) && c.disturbed[try] {
		return 0
	}
	return 1e9
}

// A disturbed sample is taken again (up to 3 tries), and one still
// disturbed is kept, marked, and left out of the median.
func TestSweepDisturbedSamples(t *testing.T) {
	clock := &scriptedClock{disturbed: []bool{true, false, false, true, true, true}}
	s := &Sweep{Kernels: []kernels.Kernel{scalar.RefI8}, Workloads: sweepWorkloads(t, "8x256"), Threads: []int{1},
		Count: 6, MinTime: time.Millisecond, CPUClock: clock.read}
	run := &reports.Run{}
	if err := s.Run(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	c := run.Cells[0]
	// Sample 0: disturbed, then clean (1 retake); 1: clean; 2: three
	// disturbed tries, kept and marked; 3..5 clean.
	if len(c.Samples) != 6 || c.Retakes != 3 || !slices.Equal(c.Disturbed, []int{2}) || len(c.CleanSamples()) != 5 {
		t.Errorf("samples %d, retakes %d, disturbed %v, clean %d; want 6, 3, [2], 5", len(c.Samples), c.Retakes, c.Disturbed, len(c.CleanSamples()))
	}
	if !slices.Equal(c.SampleRounds, []int{0, 1, 2, 3, 4, 5}) {
		t.Errorf("rounds %v", c.SampleRounds)
	}
}

// slicedSweep runs a sweep of two probe kernels, a-i8 and b-i8, whose
// GEMVs take delay, on one small workload, and returns the run and the
// kernels' GEMVs in order, from the first timed round on.
func slicedSweep(t *testing.T, delay, slice time.Duration, count int) (*reports.Run, []string) {
	t.Helper()
	var log []string
	mk := func(id string) *testKernel {
		k := newProbe()
		k.I.ID = id
		k.delay.Store(int64(delay))
		k.onGEMV = func() { log = append(log, id) }
		return k
	}
	s := &Sweep{Kernels: []kernels.Kernel{mk("a-i8"), mk("b-i8")}, Workloads: sweepWorkloads(t, "8x256"), Threads: []int{1},
		Count: count, MinTime: 10 * time.Millisecond, SliceTime: slice, CPUClock: noClock}
	timed := 0
	s.Progress = func(done, total int, what string) {
		if strings.HasSuffix(what, "calibrated") && done == 4 {
			timed = len(log) // both cells checked and calibrated
		}
	}
	run := &reports.Run{}
	if err := s.Run(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	for _, c := range run.Cells {
		if len(c.Samples) != count || c.Status != reports.StatusOK {
			t.Errorf("slice %v: %s: %d samples, status %s", slice, c.Kernel, len(c.Samples), c.Status)
		}
	}
	return run, log[timed:]
}

// runsOf counts the runs of one kernel's GEMVs in log.
func runsOf(log []string) int {
	runs := 0
	for i := range log {
		if i == 0 || log[i] != log[i-1] {
			runs++
		}
	}
	return runs
}

// A round takes its samples in slices, the cells' slices interleaved, so
// that each sample spreads over the whole round; with SliceTime < 0 (or a
// profile) each sample is taken whole, one cell after the other.
func TestSweepSlicesInterleave(t *testing.T) {
	for _, tc := range []struct {
		slice   time.Duration
		atLeast int // runs of one kernel's GEMVs in the timed rounds
		atMost  int
	}{
		{time.Millisecond, 20, 1 << 30}, // 10 slices per sample: ~4 × 10 × 2 runs
		{-1, 4, 4 * 2},                  // a run per sample, two merging where rounds meet
	} {
		_, log := slicedSweep(t, 20*time.Microsecond, tc.slice, 4)
		if runs := runsOf(log); runs < tc.atLeast || runs > tc.atMost {
			t.Errorf("slice %v: the 4 rounds of 2 cells ran in %d runs of one kernel, want %d..%d", tc.slice, runs, tc.atLeast, tc.atMost)
		}
	}
}

// A cell whose GEMV takes longer than a slice is sliced one GEMV at a time,
// with no untimed GEMV before each (it would double the cost).
func TestSweepSlicesSlowCells(t *testing.T) {
	run, log := slicedSweep(t, 2*time.Millisecond, time.Millisecond, 3)
	iters := 0
	for _, c := range run.Cells {
		iters += c.Iterations
	}
	if len(log) != 3*iters {
		t.Errorf("the rounds ran %d GEMVs, want 3 rounds × %d iterations: no warm-ups", len(log), iters)
	}
	for _, c := range run.Cells {
		for i, ss := range c.SliceSeconds {
			if len(ss) != c.Iterations {
				t.Errorf("%s sample %d: %d slice times, want one per GEMV (%d)", c.Kernel, i, len(ss), c.Iterations)
			}
		}
	}
	if runs := runsOf(log); runs < 3*iters/2 {
		t.Errorf("%d runs of one kernel in %d GEMVs: the slow cells' GEMVs did not interleave", runs, 3*iters)
	}
}

// A disturbed slice is taken again (up to 3 tries); a sample is disturbed
// when its slices' CPU time falls short of their elapsed time.
func TestSweepDisturbedSlices(t *testing.T) {
	// Sample 0: each of its 10 slices disturbed 3 times (20 retakes) and
	// kept; sample 1: its first slice disturbed once.
	script := make([]bool, 31)
	for i := range script {
		script[i] = true
	}
	clock := &scriptedClock{disturbed: script}
	s := &Sweep{Kernels: []kernels.Kernel{scalar.RefI8}, Workloads: sweepWorkloads(t, "8x256"), Threads: []int{1},
		Count: 3, MinTime: 10 * time.Millisecond, SliceTime: time.Millisecond, CPUClock: clock.read}
	run := &reports.Run{}
	if err := s.Run(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	c := run.Cells[0]
	if len(c.Samples) != 3 || c.Retakes != 21 || !slices.Equal(c.Disturbed, []int{0}) {
		t.Errorf("samples %d, retakes %d, disturbed %v; want 3, 21, [0]", len(c.Samples), c.Retakes, c.Disturbed)
	}
	// The slices kept, one time each (not the retaken tries): 10 per
	// sample, whose mean per GEMV is near the sample's.
	if len(c.SliceSeconds) != 3 {
		t.Fatalf("slice times of %d samples, want 3", len(c.SliceSeconds))
	}
	for i, ss := range c.SliceSeconds {
		if len(ss) != 10 || slices.Min(ss) > c.Samples[i] || slices.Max(ss) < c.Samples[i] {
			t.Errorf("sample %d (%v s): slices %v, want 10 around it", i, c.Samples[i], ss)
		}
	}
	if q := c.QuietTime(); c.Quiet != q || q <= 0 {
		t.Errorf("quiet time %v, want QuietTime %v > 0", c.Quiet, q)
	}
}

// A cell whose samples fall on two levels is unstable: it is sampled again
// up to Resample rounds and stays marked. Passes split the rounds.
func TestSweepResamplesUnstableCells(t *testing.T) {
	slow := newProbe()
	steady := scalar.RefF32
	n := 0
	s := &Sweep{Kernels: []kernels.Kernel{slow, steady}, Workloads: sweepWorkloads(t, "8x256"), Threads: []int{1},
		Count: 6, MinTime: 2 * time.Millisecond, Resample: 4, Passes: 2, CPUClock: noClock,
		Profile: func(c *reports.Cell, f func() error) error {
			if c.Kernel == slow.Info().ID {
				n++
				slow.delay.Store(int64(time.Duration(n%2) * 30 * time.Microsecond)) // every other sample slow
			}
			return f()
		}}
	finished := 0
	s.Finished = func(*reports.Run) error { finished++; return nil }
	run := &reports.Run{}
	if err := s.Run(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	if finished != 2 {
		t.Errorf("Finished called %d times, want 2 (one workload, two passes)", finished)
	}
	for _, c := range run.Cells {
		t.Logf("%s: %d samples, resampled %d, rounds %v, unstable %q", c.Kernel, len(c.Samples), c.Resampled, c.SampleRounds, c.Unstable)
		switch c.Kernel {
		case slow.Info().ID:
			if c.Resampled != 4 || len(c.Samples) != 10 || !strings.Contains(c.Unstable, "two levels") {
				t.Errorf("two-level cell: resampled %d, %d samples, unstable %q; want 4, 10, two levels", c.Resampled, len(c.Samples), c.Unstable)
			}
			if !slices.Equal(c.SampleRounds, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
				t.Errorf("rounds %v, want 0..9 across the passes and the extra rounds", c.SampleRounds)
			}
		case steady.Info().ID:
			// Whether it is sampled again depends on how quiet the test
			// machine is (it is tiny); never more than Resample rounds.
			if c.Resampled > 4 {
				t.Errorf("steady cell resampled %d times, at most 4", c.Resampled)
			}
		}
	}
}

// The cells an unstable cell's ratios pair with are sampled again with it:
// the peers and the portable Go baseline at its thread count, and its own
// kernel at the other thread counts.
func TestPairsWith(t *testing.T) {
	mk := func(id string, mode kernels.Mode, th int) *cell {
		return &cell{out: &reports.Cell{Kernel: id, Threads: th}, mode: mode}
	}
	u := mk("avx2-i8", kernels.I8, 1)
	for _, c := range []struct {
		c    *cell
		want bool
	}{
		{mk("ggml-tq2_0-zen4", kernels.Peer, 1), true},
		{mk("ggml-tq2_0-zen4", kernels.Peer, 2), false},
		{mk("go-i8", kernels.I8, 1), true},
		{mk("go-f32", kernels.F32, 1), false},
		{mk("avx2-i8", kernels.I8, 2), true},
		{mk("avx512lut-i8", kernels.I8, 1), false},
	} {
		if got := pairsWith(c.c, []*cell{u}); got != c.want {
			t.Errorf("%s t%d pairs with avx2-i8 t1: %v, want %v", c.c.out.Kernel, c.c.out.Threads, got, c.want)
		}
	}
}
