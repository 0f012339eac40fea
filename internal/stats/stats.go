// Package stats holds the rank statistics qkbench judges timings with: the
// Wilcoxon signed-rank test, the Hodges–Lehmann estimate with its
// signed-rank interval, Holm's correction and a median. The gate judges
// paired builds with them, the sweep pairs kernels within its rounds.
package stats

import (
	"math"
	"slices"
	"sort"
	"sync"
)

// exactMax is the largest sample size for which the signed-rank null
// distribution is computed exactly; above it the normal approximation is
// used (its error is far below the levels the gate works at).
const exactMax = 200

var (
	nullMu    sync.Mutex
	nullCache = map[int][]float64{}
)

// nullCDF returns F with F[t] = P(T+ <= t) for the Wilcoxon signed-rank
// statistic T+ of n untied, nonzero differences under the null hypothesis
// (each sign + or - with probability 1/2), for t = 0..n(n+1)/2.
func nullCDF(n int) []float64 {
	nullMu.Lock()
	defer nullMu.Unlock()
	if f, ok := nullCache[n]; ok {
		return f
	}
	m := n * (n + 1) / 2
	p := make([]float64, m+1)
	p[0] = 1
	top := 0
	for k := 1; k <= n; k++ {
		// Rank k enters T+ with probability 1/2.
		top += k
		for s := top; s >= 0; s-- {
			v := p[s] / 2
			if s >= k {
				v += p[s-k] / 2
			}
			p[s] = v
		}
	}
	for s := 1; s <= m; s++ {
		p[s] += p[s-1]
	}
	nullCache[n] = p
	return p
}

// cdf returns P(T+ <= t) for n differences: exact for n <= exactMax, else
// the normal approximation with a continuity correction.
func cdf(n int, t float64) float64 {
	m := float64(n*(n+1)) / 2
	if t < 0 {
		return 0
	}
	if t >= m {
		return 1
	}
	if n <= exactMax {
		return nullCDF(n)[int(math.Floor(t))]
	}
	mu := m / 2
	sd := math.Sqrt(float64(n) * float64(n+1) * float64(2*n+1) / 24)
	return normCDF((math.Floor(t) + 0.5 - mu) / sd)
}

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// NormQuantile returns z with P(N(0,1) <= z) = p, for 0 < p < 1.
func NormQuantile(p float64) float64 { return -math.Sqrt2 * math.Erfcinv(2*p) }

// SignedRankP is the two-sided p-value of the Wilcoxon signed-rank test of
// "the differences d are symmetric about 0". Zeros are dropped; tied
// absolute values get their average rank, and with ties the normal
// approximation with the tie-corrected variance is used.
func SignedRankP(d []float64) float64 {
	var nz []float64
	for _, v := range d {
		if v != 0 && !math.IsNaN(v) {
			nz = append(nz, v)
		}
	}
	n := len(nz)
	if n == 0 {
		return 1
	}
	sort.Slice(nz, func(i, j int) bool { return math.Abs(nz[i]) < math.Abs(nz[j]) })
	var tplus, tieSum float64
	ties := false
	for i := 0; i < n; {
		j := i + 1
		for j < n && math.Abs(nz[j]) == math.Abs(nz[i]) {
			j++
		}
		rank := float64(i+j+1) / 2 // ranks i+1..j averaged
		if t := float64(j - i); t > 1 {
			ties = true
			tieSum += t*t*t - t
		}
		for k := i; k < j; k++ {
			if nz[k] > 0 {
				tplus += rank
			}
		}
		i = j
	}
	m := float64(n*(n+1)) / 2
	var p float64
	if !ties {
		// T+ is an integer here; P(T+ >= t) = P(T+ <= m-t) by symmetry.
		p = 2 * math.Min(cdf(n, tplus), cdf(n, m-tplus))
	} else {
		mu := m / 2
		sd := math.Sqrt(float64(n)*float64(n+1)*float64(2*n+1)/24 - tieSum/48)
		if sd == 0 {
			return 1
		}
		z := (math.Abs(tplus-mu) - 0.5) / sd
		p = 2 * (1 - normCDF(math.Max(z, 0)))
	}
	return math.Min(p, 1)
}

// HodgesLehmann returns the Hodges–Lehmann estimate of the centre of d (the
// median of the Walsh averages (d[i]+d[j])/2, i <= j) and its confidence
// interval at the given level from the signed-rank distribution: [lo, hi]
// with P(lo <= centre <= hi) >= level for symmetric d. With too few values
// for the level the interval is (-Inf, +Inf).
func HodgesLehmann(d []float64, level float64) (est, lo, hi float64) {
	n := len(d)
	if n == 0 {
		return math.NaN(), math.Inf(-1), math.Inf(1)
	}
	m := n * (n + 1) / 2
	bp := walshPool.Get().(*[]float64)
	defer walshPool.Put(bp)
	w := (*bp)[:0]
	for i := range d {
		for j := i; j < n; j++ {
			w = append(w, (d[i]+d[j])/2)
		}
	}
	*bp = w
	// Only a few order statistics are needed: select them (linear time)
	// rather than sort all m averages; the gate's calibration replays
	// hundreds of thousands of these at n up to 384 (m = 73,920).
	k := criticalRank(n, (1-level)/2)
	mid := []int{(m - 1) / 2, m / 2} // equal when m is odd
	if k < 1 {
		v := orderStats(w, mid[0], mid[1])
		return (v[0] + v[1]) / 2, math.Inf(-1), math.Inf(1)
	}
	v := orderStats(w, k-1, mid[0], mid[1], m-k)
	return (v[1] + v[2]) / 2, v[0], v[3]
}

// walshPool holds the Walsh-average buffers of HodgesLehmann.
var walshPool = sync.Pool{New: func() any { return new([]float64) }}

// orderStats returns the idx[j]-th smallest values of w (from 0) for
// ascending idx, rearranging w: each selection leaves the larger values
// after it, so the next one searches only those.
func orderStats(w []float64, idx ...int) []float64 {
	out := make([]float64, len(idx))
	from := 0
	for j, i := range idx {
		if j > 0 && i == idx[j-1] {
			out[j] = out[j-1]
			continue
		}
		out[j] = selectNth(w[from:], i-from)
		from = i + 1
	}
	return out
}

// selectNth rearranges a so that a[i] is its i-th smallest value (from 0),
// a[:i] no larger and a[i+1:] no smaller, and returns a[i]: Hoare's
// quickselect with a median-of-three pivot, insertion sort for short runs.
func selectNth(a []float64, i int) float64 {
	lo, hi := 0, len(a)-1
	for hi-lo > 16 {
		mid := lo + (hi-lo)/2
		// Median of three to a[mid]; a[lo] <= a[mid] <= a[hi].
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		p := a[mid]
		l, r := lo, hi
		for l <= r {
			for a[l] < p {
				l++
			}
			for a[r] > p {
				r--
			}
			if l <= r {
				a[l], a[r] = a[r], a[l]
				l++
				r--
			}
		}
		// a[lo:r+1] <= p <= a[l:hi+1], and a[r+1:l] == p.
		switch {
		case i <= r:
			hi = r
		case i >= l:
			lo = l
		default:
			return a[i]
		}
	}
	for x := lo + 1; x <= hi; x++ {
		for y := x; y > lo && a[y] < a[y-1]; y-- {
			a[y], a[y-1] = a[y-1], a[y]
		}
	}
	return a[i]
}

// criticalRank returns the largest k with P(T+ <= k-1) <= tail for n
// differences: the interval [W(k), W(M+1-k)] of the sorted Walsh averages
// then has coverage at least 1 - 2*tail. 0 means no such k.
func criticalRank(n int, tail float64) int {
	m := n * (n + 1) / 2
	if n <= exactMax {
		f := nullCDF(n)
		k := sort.Search(m+1, func(t int) bool { return f[t] > tail }) // first t with F(t) > tail
		return k                                                       // F(k-1) <= tail
	}
	mu := float64(m) / 2
	sd := math.Sqrt(float64(n) * float64(n+1) * float64(2*n+1) / 24)
	k := int(math.Floor(mu + NormQuantile(tail)*sd + 0.5))
	return max(k, 0)
}

// Holm returns Holm's step-down adjusted p-values: the family-wise error
// rate of rejecting every hypothesis whose adjusted p is <= alpha is at
// most alpha. The result is in the order of p.
func Holm(p []float64) []float64 {
	m := len(p)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	out := make([]float64, m)
	run := 0.0
	for rank, i := range idx {
		v := math.Min(1, float64(m-rank)*p[i])
		run = math.Max(run, v)
		out[i] = run
	}
	return out
}

// Median returns the median of v (0 for none); v is not changed.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
