package stats

import (
	"math"
	"slices"
	"sort"
)

// Levels looks for two levels in v: it splits the sorted values at the
// largest relative gap between neighbours that leaves at least minShare of
// them (and at least 2) on each side, and returns the medians of the lower
// and upper group, the relative gap between the groups' nearest values
// (upper's smallest / lower's largest - 1) and how many values are in the
// upper group. ok is false when v is too small to split.
func Levels(v []float64, minShare float64) (low, high, gap float64, upper int, ok bool) {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	least := max(2, int(math.Ceil(minShare*float64(n))))
	if n < 2*least || s[0] <= 0 {
		return 0, 0, 0, 0, false
	}
	best := -1
	for k := least; k <= n-least; k++ { // lower group s[:k], upper s[k:]
		g := s[k]/s[k-1] - 1
		if best < 0 || g > gap {
			best, gap = k, g
		}
	}
	return Median(s[:best]), Median(s[best:]), gap, n - best, true
}

// Spearman returns Spearman's rank correlation of v with its index (the
// order the values were taken in): near +1 for values that grow over time,
// near -1 for values that shrink; 0 for fewer than 3 values.
func Spearman(v []float64) float64 {
	n := len(v)
	if n < 3 {
		return 0
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	rank := make([]float64, n)
	for i := 0; i < n; {
		j := i + 1
		for j < n && v[idx[j]] == v[idx[i]] {
			j++
		}
		for k := i; k < j; k++ {
			rank[idx[k]] = float64(i+j-1)/2 + 1
		}
		i = j
	}
	// Pearson correlation of rank with position.
	mean := float64(n+1) / 2
	var sxy, sxx, syy float64
	for i, r := range rank {
		x := float64(i+1) - mean
		y := r - mean
		sxy += x * y
		sxx += x * x
		syy += y * y
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}
