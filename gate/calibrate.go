package gate

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/qkbench/qkbench/internal/stats"
)

// CalRun is one gate of a calibration: for every cell, the log-ratios of
// its first measurement and the final verdict.
type CalRun struct {
	LogRatios [][]float64 `json:"log_ratios"`
	Verdicts  []Verdict   `json:"verdicts"`
	Estimates []Estimate  `json:"estimates"`
}

// RunOf extracts a CalRun from a judgement whose tracks are in cell order.
func RunOf(j *Judgement, cells int) CalRun {
	r := CalRun{LogRatios: make([][]float64, cells), Verdicts: make([]Verdict, cells), Estimates: make([]Estimate, cells)}
	for i, t := range j.Tracks {
		r.LogRatios[t.Cell] = t.LogRatios()
		r.Verdicts[t.Cell] = j.Final[i]
		r.Estimates[t.Cell] = t.Estimate
	}
	return r
}

// Calibration holds A/A gates of one build against itself and gates against
// a copy whose SlowCell is slowed by Slowdown through the test hook.
type Calibration struct {
	Cells    []CellSpec `json:"cells"`
	Options  Options    `json:"options"`
	AA       []CalRun   `json:"aa"`
	Slowed   []CalRun   `json:"slowed,omitempty"`
	SlowCell int        `json:"slow_cell"`
	Slowdown float64    `json:"slowdown"`
}

// CellCalibration is what the calibration says about one cell.
type CellCalibration struct {
	Cell        CellSpec `json:"cell"`
	Gates       int      `json:"aa_gates"`
	FalseAlarms int      `json:"aa_false_alarms"` // regressed or improved in an A/A gate
	// Spread of the A/A pair ratios: their 2.5%, 50% and 97.5% quantiles.
	PairLow, PairMid, PairHigh float64
	// HalfWidth is the median relative half-width of the A/A intervals.
	HalfWidth float64 `json:"aa_interval_half_width"`
	// Pairs is the median number of pairs an A/A gate took.
	Pairs int `json:"aa_median_pairs"`
	// Detectable is the smallest slowdown (of a grid) that resampled gates
	// at the calibration's threshold catch at least 95% of the time (0:
	// none of the grid).
	Detectable float64 `json:"detectable_95"`
}

// ThresholdRow is one line of the threshold table: at this threshold, the
// resampled A/A gates' alarm rate and the slowdown caught 95% of the time
// in the noisiest cell.
type ThresholdRow struct {
	Threshold  float64 `json:"threshold"`
	AlarmRate  float64 `json:"aa_alarm_rate"` // share of resampled gates with any false alarm
	Detectable float64 `json:"detectable_95"` // worst cell; 0: none of the grid
}

// CalSummary is the analysis of a Calibration.
type CalSummary struct {
	Cells      []CellCalibration `json:"cells"`
	CellTests  int               `json:"aa_cell_tests"`
	Alarms     int               `json:"aa_false_alarms"`
	GateAlarms int               `json:"aa_gates_with_alarm"`
	Gates      int               `json:"aa_gates"`
	// Slowed gates: how often the slowed cell regressed and how often any
	// other cell was blamed.
	SlowedGates, Caught, Blamed int
	Thresholds                  []ThresholdRow `json:"thresholds"`
	Suggested                   float64        `json:"suggested_threshold"`
}

// slowdownGrid is where Detectable is searched.
var slowdownGrid = []float64{0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.06, 0.075, 0.10, 0.125, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50}

// thresholdGrid is the thresholds the summary tabulates.
var thresholdGrid = []float64{0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.10, 0.15, 0.20}

// Resamples is the number of resampled gates behind each rate of the
// threshold table.
var Resamples = 400

// Analyse summarises a calibration. The resampled figures replay the gate's
// sequential rule on pairs drawn (with replacement) from one A/A gate's
// pairs of a cell at a time, so that they keep each gate's own offsets,
// with the confirmation drawn from another gate.
func (c *Calibration) Analyse(rng *rand.Rand) CalSummary {
	var s CalSummary
	o := c.Options
	m := len(c.Cells)
	s.Gates = len(c.AA)
	for ci, spec := range c.Cells {
		if !c.measured(ci) {
			continue
		}
		cc := CellCalibration{Cell: spec, Gates: len(c.AA)}
		var all, widths []float64
		var pairs []int
		for _, r := range c.AA {
			if ci >= len(r.Verdicts) {
				continue
			}
			if v := r.Verdicts[ci]; v == Regressed || v == Improved {
				cc.FalseAlarms++
			}
			for _, d := range r.LogRatios[ci] {
				all = append(all, math.Exp(d))
			}
			e := r.Estimates[ci]
			if e.Low > 0 && !math.IsInf(e.High, 0) {
				widths = append(widths, (e.High-e.Low)/2)
			}
			pairs = append(pairs, len(r.LogRatios[ci]))
		}
		slices.Sort(all)
		cc.PairLow, cc.PairMid, cc.PairHigh = quantile(all, 0.025), quantile(all, 0.5), quantile(all, 0.975)
		cc.HalfWidth = stats.Median(widths)
		slices.Sort(pairs)
		if len(pairs) > 0 {
			cc.Pairs = pairs[len(pairs)/2]
		}
		cc.Detectable = c.detectable(rng, ci, o, m)
		s.Cells = append(s.Cells, cc)
		s.Alarms += cc.FalseAlarms
		s.CellTests += cc.Gates
	}
	for _, r := range c.AA {
		for _, v := range r.Verdicts {
			if v == Regressed || v == Improved {
				s.GateAlarms++
				break
			}
		}
	}
	s.SlowedGates = len(c.Slowed)
	for _, r := range c.Slowed {
		blamed := false
		for ci, v := range r.Verdicts {
			if ci == c.SlowCell {
				if v == Regressed {
					s.Caught++
				}
			} else if v == Regressed || v == Improved {
				blamed = true
			}
		}
		if blamed {
			s.Blamed++
		}
	}
	// The threshold rows are independent: one goroutine each (two cores
	// halve a few minutes of resampling), each with its own generator
	// seeded in order from rng, so the figures do not depend on scheduling.
	s.Thresholds = make([]ThresholdRow, len(thresholdGrid))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, thr := range thresholdGrid {
		r := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ot := o
			ot.Threshold = thr
			if ot.Margin >= thr {
				ot.Margin = thr / 2
			}
			row := ThresholdRow{Threshold: thr, AlarmRate: c.alarmRate(r, ot, m)}
			for ci := range c.Cells {
				if !c.measured(ci) {
					continue
				}
				d := c.detectable(r, ci, ot, m)
				if d == 0 {
					row.Detectable = 0
					break
				}
				row.Detectable = math.Max(row.Detectable, d)
			}
			s.Thresholds[i] = row
		}()
	}
	wg.Wait()
	s.Suggested = 0
	for _, row := range s.Thresholds {
		if row.AlarmRate <= 0.01 && len(c.AA) >= 2 {
			s.Suggested = row.Threshold
			break
		}
	}
	return s
}

// measured reports whether any A/A gate has pairs of cell ci (cells the
// gate skipped have none).
func (c *Calibration) measured(ci int) bool {
	for _, r := range c.AA {
		if ci < len(r.LogRatios) && len(r.LogRatios[ci]) > 0 {
			return true
		}
	}
	return false
}

// replay runs the sequential rule for one cell on pairs drawn from the
// log-ratios d, shifted by ln(1+slow); it returns the track.
func replay(rng *rand.Rand, o Options, m int, d []float64, slow float64) *Track {
	t := &Track{Verdict: Inconclusive}
	if len(d) == 0 {
		return t
	}
	shift := math.Log1p(slow)
	for !t.Done() {
		v := d[rng.IntN(len(d))] + shift
		o.Add(t, Pair{Base: 1, Head: math.Exp(v)}, m)
	}
	return t
}

// gateOf replays a whole decision for one cell: the first measurement and,
// for a regression or an improvement, the confirmation drawn from another
// A/A gate, judged as Judge does.
func (c *Calibration) gateOf(rng *rand.Rand, o Options, m, ci int, slow float64) Verdict {
	n := len(c.AA)
	if n == 0 {
		return Inconclusive
	}
	r := rng.IntN(n)
	t := replay(rng, o, m, c.AA[r].LogRatios[ci], slow)
	if t.Verdict != Regressed && t.Verdict != Improved {
		return t.Verdict
	}
	r2 := r
	if n > 1 {
		r2 = (r + 1 + rng.IntN(n-1)) % n
	}
	t2 := replay(rng, o, 1, c.AA[r2].LogRatios[ci], slow)
	pooled := o.Analyse(append(t.LogRatios(), t2.LogRatios()...))
	if t2.Estimate.P <= o.Alpha && o.confirms(t.Verdict, t2.Estimate, pooled) {
		return t.Verdict
	}
	return Inconclusive
}

// detectable returns the smallest slowdown of the grid that resampled
// gates catch at least 95% of the time in cell ci (0: none).
func (c *Calibration) detectable(rng *rand.Rand, ci int, o Options, m int) float64 {
	caught := func(slow float64) bool {
		n := 0
		for range Resamples {
			if c.gateOf(rng, o, m, ci, slow) == Regressed {
				n++
			}
		}
		return float64(n) >= 0.95*float64(Resamples)
	}
	// The catch rate grows with the slowdown: bisect the grid for the
	// first value caught (five rounds of resampling instead of up to 17).
	lo, hi := 0, len(slowdownGrid) // the answer is in [lo, hi); hi: none
	for lo < hi {
		mid := (lo + hi) / 2
		if caught(slowdownGrid[mid]) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if lo == len(slowdownGrid) {
		return 0
	}
	return slowdownGrid[lo]
}

// alarmRate returns the share of resampled A/A gates (all cells) in which
// some cell regressed or improved.
func (c *Calibration) alarmRate(rng *rand.Rand, o Options, m int) float64 {
	alarms := 0
	for range Resamples {
		for ci := range c.Cells {
			if !c.measured(ci) {
				continue
			}
			if v := c.gateOf(rng, o, m, ci, 0); v == Regressed || v == Improved {
				alarms++
				break
			}
		}
	}
	return float64(alarms) / float64(Resamples)
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Round(q * float64(len(sorted)-1)))
	return sorted[i]
}

// Write prints the summary.
func (s *CalSummary) Write(w io.Writer, c *Calibration) {
	fmt.Fprintf(w, "A/A: %d gates × %d cells = %d cell-tests: %d false alarms (regressed or improved), %d gates with one\n",
		s.Gates, len(c.Cells), s.CellTests, s.Alarms, s.GateAlarms)
	if s.CellTests > 0 && s.Alarms == 0 {
		fmt.Fprintf(w, "  (0 in %d: the false-alarm rate per cell is below %.2g%% with 95%% confidence, by the rule of three)\n", s.CellTests, 300/float64(s.CellTests))
	}
	if s.SlowedGates > 0 {
		fmt.Fprintf(w, "Slowed by %.3g%% (%s): caught in %d of %d gates; another cell blamed in %d\n",
			100*c.Slowdown, c.Cells[c.SlowCell].Kernel+" "+c.Cells[c.SlowCell].Shape, s.Caught, s.SlowedGates, s.Blamed)
	}
	fmt.Fprintf(w, "\nper cell (threshold %.3g%%):\n", 100*c.Options.Threshold)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-16s %-10s %3s  %6s  %-24s %8s %6s %12s\n", "kernel", "shape", "thr", "alarms", "A/A pair ratio 95% range", "±interval", "pairs", "caught 95% at")
	for _, cc := range s.Cells {
		det := "> 50%"
		if cc.Detectable > 0 {
			det = fmt.Sprintf("%.3g%%", 100*cc.Detectable)
		}
		fmt.Fprintf(&sb, "%-16s %-10s %3d  %3d/%-2d  %.3f .. %.3f (mid %.3f) %7.2f%% %6d %12s\n", cc.Cell.Kernel, cc.Cell.Shape, cc.Cell.Threads,
			cc.FalseAlarms, cc.Gates, cc.PairLow, cc.PairHigh, cc.PairMid, 100*cc.HalfWidth, cc.Pairs, det)
	}
	fmt.Fprint(w, sb.String())
	fmt.Fprintf(w, "\nresampled gates (%d per figure) by threshold:\n", Resamples)
	fmt.Fprintf(w, "%9s  %18s  %24s\n", "threshold", "A/A alarm rate", "caught 95% (worst cell)")
	for _, r := range s.Thresholds {
		det := "> 50%"
		if r.Detectable > 0 {
			det = fmt.Sprintf("%.3g%%", 100*r.Detectable)
		}
		fmt.Fprintf(w, "%8.3g%%  %17.1f%%  %24s\n", 100*r.Threshold, 100*r.AlarmRate, det)
	}
	if s.Suggested > 0 {
		fmt.Fprintf(w, "\nsuggested: --threshold %.3g%% (the smallest with at most 1%% resampled A/A alarms)\n", 100*s.Suggested)
	} else {
		fmt.Fprintln(w, "\nno threshold of the table keeps resampled A/A alarms at or below 1%: the machine is too noisy, or too few gates ran")
	}
}
