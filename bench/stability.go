package bench

import (
	"fmt"
	"math"
	"strings"

	"github.com/qkbench/qkbench/internal/stats"
)

// The limits beyond which a cell's samples are called unstable.
const (
	// MaxHalfWidth: the 95% interval of the median reaches further than
	// ±5% of it.
	MaxHalfWidth = 0.05
	// Two levels: the samples split into two groups of at least a fifth
	// each whose nearest values are 4% apart and whose medians 8% (the
	// host's speed states here are ~20% apart).
	MinLevelGap, MinLevelRatio = 0.04, 0.08
	// Drift: the samples' rank correlation with time is at least 0.7 and the
	// last third's median is 5% away from the first third's.
	MinDriftCorr, MinDrift = 0.7, 0.05
)

// Unstable says why samples (seconds, in the order they were taken) cannot
// be trusted, "" when they can: an interval wider than ±MaxHalfWidth, two
// levels, or a drift. With fewer than 6 samples there is no 95% interval
// and it says nothing.
func Unstable(samples []float64, median, low, high float64) string {
	n := len(samples)
	if n < 6 || !(median > 0) {
		return ""
	}
	var why []string
	if low > 0 && high > 0 {
		if hw := math.Max(high/median-1, 1-low/median); hw > MaxHalfWidth {
			why = append(why, fmt.Sprintf("its 95%% interval is ±%.0f%%", 100*hw))
		}
	}
	if lo, hi, gap, up, ok := stats.Levels(samples, 0.2); ok && gap >= MinLevelGap && hi/lo-1 >= MinLevelRatio {
		why = append(why, fmt.Sprintf("two levels %.0f%% apart (%d of %d samples in the slow one)", 100*(hi/lo-1), up, n))
	}
	if n >= 8 {
		third := n / 3
		first, last := stats.Median(samples[:third]), stats.Median(samples[n-third:])
		if d := last/first - 1; math.Abs(stats.Spearman(samples)) >= MinDriftCorr && math.Abs(d) >= MinDrift {
			why = append(why, fmt.Sprintf("it drifted %+.0f%% over the run", 100*d))
		}
	}
	return strings.Join(why, "; ")
}
