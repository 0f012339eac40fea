package reports

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

// QuietQuantile is the share of a cell's slices that were faster than its
// quiet time.
//
// A shared host's interference only ever slows a kernel down, and it slows
// kernels down unequally: a memory-bound kernel loses more to a neighbour
// that streams memory than a compute-bound loop does. So the ratio of two
// medians, or of two samples taken side by side, moves with how much of the
// run the host spent in its slow states, which differs from run to run;
// the speed each kernel reaches when the host leaves it alone does not. A
// low quantile of the slices' times estimates that speed without resting
// on the single fastest slice: 2% is ~10 of a fast cell's few hundred
// slices, and a slow cell's fastest. Higher quantiles move when the host
// spends most of a run slowed (docs/measurements.md compares estimators
// over pairs of sweeps: the 10th percentile agreed in 117–124 of 130 cells
// where this one did in 124–130).
const QuietQuantile = 0.02

// QuietTime returns the QuietQuantile of the times per GEMV of the cell's
// slices in the samples that were not disturbed (all of them when every
// one was); 0 without slice times.
func (c *Cell) QuietTime() float64 {
	var v []float64
	for _, i := range c.cleanIndexes() {
		if i < len(c.SliceSeconds) {
			v = append(v, c.SliceSeconds[i]...)
		}
	}
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[quantileIndex(len(v))]
}

// quantileIndex is the index in n sorted values of the QuietQuantile: the
// smallest value with at least that share of the values at or below it.
func quantileIndex(n int) int {
	return max(int(math.Ceil(QuietQuantile*float64(n)))-1, 0)
}

// cleanIndexes returns the indexes of the samples that were not disturbed;
// all of them when every one was (CleanSamples, QuietTime).
func (c *Cell) cleanIndexes() []int {
	var out []int
	for i := range c.Samples {
		if !slices.Contains(c.Disturbed, i) {
			out = append(out, i)
		}
	}
	if len(out) == 0 {
		for i := range c.Samples {
			out = append(out, i)
		}
	}
	return out
}

// Round6 rounds v to 6 significant digits, which is all a slice time
// carries (the receipt holds tens of thousands of them).
func Round6(v float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	if err != nil {
		return v
	}
	return r
}

// quietBootstraps is how many times quietRatio redraws the rounds for its
// interval; minIntervalRounds the fewest rounds it gives an interval for.
const (
	quietBootstraps   = 1000
	minIntervalRounds = 6
)

// weighted is one slice time and the round (index into the pairs) it
// belongs to.
type weighted struct {
	v     float64
	round int
}

// quietRatio is PairedRatio for two cells with slice times: the ratio of
// their QuietQuantile over the rounds in which both have an undisturbed
// sample with slices, and the 2.5th and 97.5th percentiles of that ratio
// over quietBootstraps draws of as many rounds with replacement. Drawing
// rounds, the same for both cells, keeps what the two cells' slices of a
// round share (the host's state then) inside the interval.
func quietRatio(a, b *Cell) Ratio {
	x := Ratio{Value: math.NaN()}
	pairs := roundPairs(a, b, func(c *Cell, i int) bool { return i < len(c.SliceSeconds) && len(c.SliceSeconds[i]) > 0 })
	var va, vb []weighted
	var na, nb []int // slice times per round
	for r, p := range pairs {
		sa, sb := a.SliceSeconds[p[0]], b.SliceSeconds[p[1]]
		for _, v := range sa {
			va = append(va, weighted{v, r})
		}
		for _, v := range sb {
			vb = append(vb, weighted{v, r})
		}
		na, nb = append(na, len(sa)), append(nb, len(sb))
	}
	x.Pairs = len(pairs)
	if x.Pairs < 3 {
		return x
	}
	byV := func(p, q weighted) int { return cmp.Compare(p.v, q.v) }
	slices.SortFunc(va, byV)
	slices.SortFunc(vb, byV)
	weights := make([]int, x.Pairs)
	for i := range weights {
		weights[i] = 1
	}
	qa, qb := weightedQuantile(va, weights, na), weightedQuantile(vb, weights, nb)
	if !(qa > 0) || !(qb > 0) {
		return x
	}
	x.Value = qa / qb
	if x.Pairs < minIntervalRounds {
		return x
	}
	// A fixed seed: the same receipt renders the same interval.
	rng := rand.New(rand.NewPCG(0x71b, uint64(x.Pairs)))
	draws := make([]float64, 0, quietBootstraps)
	for range quietBootstraps {
		clear(weights)
		for range x.Pairs {
			weights[rng.IntN(x.Pairs)]++
		}
		qa, qb := weightedQuantile(va, weights, na), weightedQuantile(vb, weights, nb)
		if qa > 0 && qb > 0 {
			draws = append(draws, qa/qb)
		}
	}
	if len(draws) < quietBootstraps/2 {
		return x
	}
	slices.Sort(draws)
	k := int(0.025 * float64(len(draws))) // the same k from each end: b over a is the inverse
	x.Low, x.High = draws[k], draws[len(draws)-1-k]
	return x
}

// weightedQuantile returns the QuietQuantile of the sorted slice times v,
// each counted as often as its round's weight: the smallest time with at
// least that share of the weighted times at or below it. perRound counts
// the times of each round. 0 when every weight is 0.
func weightedQuantile(v []weighted, weights, perRound []int) float64 {
	total := 0
	for r, n := range perRound {
		total += weights[r] * n
	}
	if total == 0 {
		return 0
	}
	need := quantileIndex(total) + 1
	seen := 0
	for _, s := range v {
		if seen += weights[s.round]; seen >= need {
			return s.v
		}
	}
	return v[len(v)-1].v
}
