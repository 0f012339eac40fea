package gate

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
)

// Calibration on the simulated host: its A/A gates raise no alarm, the
// slowed cell is caught, the table is monotone where it must be, and the
// suggested threshold keeps resampled alarms at 1% or below.
func TestCalibrationAnalyse(t *testing.T) {
	old := Resamples
	Resamples = 60
	defer func() { Resamples = old }()
	const cells = 3
	cal := &Calibration{Options: DefaultOptions, SlowCell: 1, Slowdown: 0.08}
	for i := range cells {
		cal.Cells = append(cal.Cells, CellSpec{Kernel: "k" + string(rune('0'+i)), Shape: "64x256", Threads: 1})
	}
	groups := [][]int{{0, 1, 2}}
	for g := range 12 {
		h := newHost(uint64(g)+77, cells, 0.003)
		j, err := Judge(context.Background(), h.open, groups, cal.Options, true, rand.New(rand.NewPCG(uint64(g), 9)), nil)
		if err != nil {
			t.Fatal(err)
		}
		cal.AA = append(cal.AA, RunOf(j, cells))
		h.delay[1] = cal.Slowdown
		j, err = Judge(context.Background(), h.open, groups, cal.Options, true, rand.New(rand.NewPCG(uint64(g), 10)), nil)
		if err != nil {
			t.Fatal(err)
		}
		cal.Slowed = append(cal.Slowed, RunOf(j, cells))
	}
	s := cal.Analyse(rand.New(rand.NewPCG(1, 1)))
	var out strings.Builder
	s.Write(&out, cal)
	t.Log("\n" + out.String())
	if s.CellTests != 36 || s.Alarms != 0 || s.Gates != 12 {
		t.Errorf("A/A: %d cell-tests, %d alarms, %d gates; want 36, 0, 12", s.CellTests, s.Alarms, s.Gates)
	}
	if s.SlowedGates != 12 || s.Caught < 11 || s.Blamed > 0 {
		t.Errorf("slowed: caught %d of %d, blamed %d", s.Caught, s.SlowedGates, s.Blamed)
	}
	for i := 1; i < len(s.Thresholds); i++ {
		a, b := s.Thresholds[i-1], s.Thresholds[i]
		if a.Detectable > 0 && b.Detectable > 0 && b.Detectable < a.Detectable {
			t.Errorf("a higher threshold (%g) catches a smaller slowdown (%g < %g)", b.Threshold, b.Detectable, a.Detectable)
		}
	}
	if s.Suggested == 0 || s.Suggested > 0.05 {
		t.Errorf("suggested threshold %g, want one at or below 5%% on this quiet simulated host", s.Suggested)
	}
	for _, c := range s.Cells {
		if c.Detectable == 0 || c.Detectable > 0.1 {
			t.Errorf("%s: detectable slowdown %g, want at most 10%%", c.Cell.Kernel, c.Detectable)
		}
		if !(c.PairLow < 1 && c.PairHigh > 1) {
			t.Errorf("%s: A/A pair ratios %g..%g should straddle 1", c.Cell.Kernel, c.PairLow, c.PairHigh)
		}
	}
}
