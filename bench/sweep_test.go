package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

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
		Probe:     &reports.Probe{ReadGBps: []reports.BandwidthPoint{{Bytes: 1 << 20, GBps: 50}}, Int8GMACps: map[string]float64{"x": 100}, F32GFMAps: 10},
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
