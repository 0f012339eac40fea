package reports

import (
	"fmt"
	"math"
	"slices"

	"github.com/qkbench/qkbench/internal/stats"
)

// Ratio is the ratio of two cells' times per GEMV (PairedRatio).
type Ratio struct {
	Value, Low, High float64 // Low, High: 0 when there are too few pairs for an interval
	Pairs            int
}

// MaxRatioHalfWidth: a ratio whose interval reaches further than ±5% is
// marked, as an unstable cell is.
const MaxRatioHalfWidth = 0.05

// PairedRatio returns a's time over b's (above 1: a is slower), from the
// rounds in which both have a sample that was not disturbed. Value is NaN
// with fewer than 3 such rounds.
//
// With slice times (SliceSeconds) it is the ratio of the two cells'
// quiet times (QuietTime) over those rounds, with a 95% interval from a
// bootstrap that draws whole rounds, the same for both cells (quietRatio).
// Without them (receipts written before slices were recorded) it is the
// Hodges–Lehmann estimate of the per-round log-ratios of the samples, with
// the signed-rank 95% interval; a receipt without sample rounds (schema 1)
// pairs samples by index.
func PairedRatio(a, b *Cell) Ratio {
	x := Ratio{Value: math.NaN()}
	if !a.Timed() || !b.Timed() {
		return x
	}
	if len(a.SliceSeconds) > 0 && len(b.SliceSeconds) > 0 {
		return quietRatio(a, b)
	}
	var d []float64
	for _, p := range roundPairs(a, b, func(c *Cell, i int) bool { return c.Samples[i] > 0 }) {
		d = append(d, math.Log(a.Samples[p[0]]/b.Samples[p[1]]))
	}
	x.Pairs = len(d)
	if len(d) < 3 {
		return x
	}
	est, lo, hi := stats.HodgesLehmann(d, 0.95)
	x.Value = math.Exp(est)
	if !math.IsInf(lo, 0) && !math.IsInf(hi, 0) {
		x.Low, x.High = math.Exp(lo), math.Exp(hi)
	}
	return x
}

// roundPairs returns the pairs (i, j) of a's sample i and b's sample j
// taken in the same round, both not disturbed and both usable, in a's
// order.
func roundPairs(a, b *Cell, usable func(c *Cell, i int) bool) [][2]int {
	bs := map[int]int{} // round -> b's sample
	for j := range b.Samples {
		if !slices.Contains(b.Disturbed, j) && usable(b, j) {
			bs[round(b, j)] = j
		}
	}
	var out [][2]int
	for i := range a.Samples {
		if j, ok := bs[round(a, i)]; ok && !slices.Contains(a.Disturbed, i) && usable(a, i) {
			out = append(out, [2]int{i, j})
		}
	}
	return out
}

func round(c *Cell, i int) int {
	if i < len(c.SampleRounds) {
		return c.SampleRounds[i]
	}
	return i
}

// Inverse is b's time over a's.
func (x Ratio) Inverse() Ratio {
	y := x
	y.Value = 1 / x.Value
	if x.Low > 0 && x.High > 0 {
		y.Low, y.High = 1/x.High, 1/x.Low
	}
	return y
}

// Shaky reports whether the ratio is to be marked: its interval is missing
// or wider than ±MaxRatioHalfWidth. An unstable cell alone does not mark
// it: the ratio compares the slices the host left alone (or pairs whole
// samples round by round, where a host state that hits both cancels out),
// and what does not repeat widens the ratio's own interval. (On a host
// whose speed flips between states, every cell's samples are two-level
// while most ratios repeat within ±5%: marking those would cry wolf.)
func (x Ratio) Shaky() bool {
	if x.Low <= 0 {
		return true
	}
	return math.Max(x.High/x.Value-1, 1-x.Low/x.Value) > MaxRatioHalfWidth
}

// String formats the ratio as "3.96×", with the marker † when it is shaky.
func (x Ratio) String() string {
	if math.IsNaN(x.Value) {
		return ""
	}
	s := fmt.Sprintf("%.2f×", x.Value)
	if x.Shaky() {
		s += Mark
	}
	return s
}

// Mark flags an unstable cell, and a ratio with a wide interval.
const Mark = "†"
