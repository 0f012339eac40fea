// Package gate decides whether a change made qkbench's kernels slower: it
// times a base and a head build in pairs, interleaved in time on the same
// machine, and judges each cell (kernel × shape × threads) on the paired
// log-ratios head/base with the Wilcoxon signed-rank test, the
// Hodges–Lehmann estimate and its confidence interval (internal/stats), a
// sequential sampling plan fixed in advance, Holm's correction across cells
// and a confirmation with fresh processes. It also compares existing
// benchmark result files (unpaired, weaker) and calibrates the gate's
// false-alarm rate and power.
package gate

import (
	"fmt"
	"math"

	"github.com/qkbench/qkbench/internal/stats"
)

// Verdict is the gate's judgement of one cell.
type Verdict string

const (
	// Regressed: head is slower than base by more than the threshold, the
	// interval lies wholly above 1 + margin and the slowdown is significant
	// after Holm's correction across cells (and, in a gate, confirmed by a
	// second measurement with fresh processes).
	Regressed Verdict = "regressed"
	// Improved: the same, the other way.
	Improved Verdict = "improved"
	// Same: the interval lies within ±threshold.
	Same Verdict = "same"
	// Inconclusive: none of the above (too noisy, or a change near the
	// threshold). It fails a gate only with --strict.
	Inconclusive Verdict = "inconclusive"
)

// Options are the decision rule and the sampling plan.
type Options struct {
	// Threshold is the smallest relative change that counts: 0.05 fails a
	// cell whose estimated slowdown exceeds 5%.
	Threshold float64
	// Margin: a regressed cell's interval must lie wholly above 1+Margin
	// (an improved one's wholly below 1/(1+Margin)).
	Margin float64
	// Alpha is the family-wise error rate of the significance tests across
	// the cells of one gate (Holm).
	Alpha float64
	// MinPairs, MaxPairs and Looks are the sequential plan: a cell is
	// judged first after MinPairs pairs, then at each look up to MaxPairs
	// (see Options.Plan), and stops sampling once its interval decides it.
	MinPairs, MaxPairs, Looks int
}

// DefaultOptions is the gate's default rule: 5% threshold, 1% margin,
// alpha 0.05, 16 to 384 pairs in 8 looks. Many short pairs: on the
// development VM a pair of 2 ms samples carried about twice the
// information per second of sampling that a pair of 10 ms samples did (the
// host's speed moves within tens of milliseconds).
var DefaultOptions = Options{Threshold: 0.05, Margin: 0.01, Alpha: 0.05, MinPairs: 16, MaxPairs: 384, Looks: 8}

// Validate reports options that make no sense.
func (o Options) Validate() error {
	switch {
	case !(o.Threshold > 0 && o.Threshold < 1):
		return fmt.Errorf("threshold %g: want a fraction in (0, 1), e.g. 0.05 for 5%%", o.Threshold)
	case !(o.Margin >= 0 && o.Margin < o.Threshold):
		return fmt.Errorf("margin %g: want a fraction in [0, threshold %g)", o.Margin, o.Threshold)
	case !(o.Alpha > 0 && o.Alpha < 1):
		return fmt.Errorf("alpha %g: want a value in (0, 1)", o.Alpha)
	case o.MinPairs < 6 || o.MinPairs > 10000:
		return fmt.Errorf("minimum pairs %d: want 6..10000", o.MinPairs)
	case o.MaxPairs < o.MinPairs || o.MaxPairs > 10000:
		return fmt.Errorf("maximum pairs %d: want %d..10000", o.MaxPairs, o.MinPairs)
	case o.Looks < 1 || o.Looks > 100:
		return fmt.Errorf("looks %d: want 1..100", o.Looks)
	}
	return nil
}

// Plan returns the pair counts at which a cell is judged: MinPairs, then
// geometric steps to MaxPairs, Looks values at most (fewer when the steps
// would repeat a count).
func (o Options) Plan() []int {
	if o.Looks <= 1 || o.MaxPairs == o.MinPairs {
		return []int{o.MaxPairs}
	}
	var out []int
	r := math.Pow(float64(o.MaxPairs)/float64(o.MinPairs), 1/float64(o.Looks-1))
	for i := range o.Looks {
		n := int(math.Round(float64(o.MinPairs) * math.Pow(r, float64(i))))
		if i == o.Looks-1 {
			n = o.MaxPairs
		}
		if len(out) == 0 || n > out[len(out)-1] {
			out = append(out, n)
		}
	}
	return out
}

// Level is the confidence level of the interval at each look: the
// error budget Alpha spread over the looks of the plan (Bonferroni), so that
// looking several times does not inflate the false-alarm rate.
func (o Options) Level() float64 { return 1 - o.Alpha/float64(len(o.Plan())) }

// Estimate is what the paired log-ratios of one cell say.
type Estimate struct {
	Pairs int `json:"pairs"`
	// Ratio is exp(Hodges–Lehmann estimate of the log-ratios head/base):
	// 1.05 means head takes 5% longer.
	Ratio float64 `json:"ratio"`
	// Low and High bound Ratio at the plan's confidence level.
	Low  float64 `json:"ci_low"`
	High float64 `json:"ci_high"`
	// P is the signed-rank test's two-sided p-value times the number of
	// looks of the plan (capped at 1): valid whichever look the cell stopped
	// at. Holm's correction across cells comes on top.
	P float64 `json:"p"`
}

// Analyse judges the log-ratios d (ln(head/base) per pair) of one cell.
func (o Options) Analyse(d []float64) Estimate {
	est, lo, hi := stats.HodgesLehmann(d, o.Level())
	return Estimate{Pairs: len(d), Ratio: math.Exp(est), Low: math.Exp(lo), High: math.Exp(hi),
		P: math.Min(1, stats.SignedRankP(d)*float64(len(o.Plan())))}
}

// Verdict is the rule applied to one estimate, before the correction
// across cells: what the cell's interval says on its own.
func (o Options) Verdict(e Estimate) Verdict { return o.verdict(e, 1) }

// verdict is Verdict for a cell among m: a regression or an improvement
// also needs a p-value that survives Holm's correction whatever the other
// cells show (p <= Alpha/m, the first step of Holm), so that a cell stops
// sampling only when more pairs could not change its verdict's footing.
func (o Options) verdict(e Estimate, m int) Verdict {
	up, down := 1+o.Threshold, 1/(1+o.Threshold)
	switch {
	case e.Pairs == 0 || math.IsNaN(e.Ratio):
		return Inconclusive
	case e.Ratio > up && e.Low > 1+o.Margin && e.P*float64(m) <= o.Alpha:
		return Regressed
	case e.Ratio < down && e.High < 1/(1+o.Margin) && e.P*float64(m) <= o.Alpha:
		return Improved
	case e.Low >= down && e.High <= up:
		return Same
	}
	return Inconclusive
}

// Decided reports whether a cell can stop sampling: its interval decides it.
func (v Verdict) Decided() bool { return v != Inconclusive }

// Finalize applies Holm's correction across the cells' estimates: a cell
// whose interval says regressed or improved keeps that verdict only when its
// adjusted p-value is at most Alpha, and is inconclusive otherwise. It
// returns the verdicts and the adjusted p-values.
func (o Options) Finalize(es []Estimate) ([]Verdict, []float64) {
	ps := make([]float64, len(es))
	for i, e := range es {
		ps[i] = e.P
		if math.IsNaN(ps[i]) {
			ps[i] = 1
		}
	}
	adj := stats.Holm(ps)
	vs := make([]Verdict, len(es))
	for i, e := range es {
		v := o.Verdict(e)
		if (v == Regressed || v == Improved) && adj[i] > o.Alpha {
			v = Inconclusive
		}
		vs[i] = v
	}
	return vs, adj
}
