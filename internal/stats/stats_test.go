package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Exact signed-rank null probabilities against values computed by hand
// (and tabulated in every statistics text).
func TestNullCDF(t *testing.T) {
	f := nullCDF(3) // 8 sign patterns; T+ in 0..6 with counts 1,1,1,2,1,1,1
	want := []float64{1. / 8, 2. / 8, 3. / 8, 5. / 8, 6. / 8, 7. / 8, 1}
	for i, w := range want {
		if math.Abs(f[i]-w) > 1e-15 {
			t.Errorf("n=3: F(%d) = %g, want %g", i, f[i], w)
		}
	}
	// Tabulated critical values (two-sided 0.05: reject when T <= c).
	for _, c := range []struct{ n, crit int }{{6, 0}, {8, 3}, {10, 8}, {12, 13}, {20, 52}, {30, 137}} {
		f := nullCDF(c.n)
		if !(f[c.crit] <= 0.025 && f[c.crit+1] > 0.025) {
			t.Errorf("n=%d: F(%d)=%g, F(%d)=%g; want the 0.025 tail to end at %d", c.n, c.crit, f[c.crit], c.crit+1, f[c.crit+1], c.crit)
		}
	}
}

func TestSignedRankP(t *testing.T) {
	all := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if p := SignedRankP(all); math.Abs(p-2.0/1024) > 1e-12 {
		t.Errorf("10 positive differences: p = %g, want 2/1024", p)
	}
	neg := []float64{-1, -2, -3, -4, -5, -6, -7, -8, -9, -10}
	if p := SignedRankP(neg); math.Abs(p-2.0/1024) > 1e-12 {
		t.Errorf("10 negative differences: p = %g, want 2/1024", p)
	}
	// Balanced signs: no evidence.
	if p := SignedRankP([]float64{1, -2, 3, -4, 5, -6, 7, -8}); p < 0.5 {
		t.Errorf("alternating signs: p = %g, want a large p", p)
	}
	if p := SignedRankP(nil); p != 1 {
		t.Errorf("no data: p = %g, want 1", p)
	}
	if p := SignedRankP([]float64{0, 0, 0}); p != 1 {
		t.Errorf("all zero: p = %g, want 1", p)
	}
	// Ties take the normal approximation: still small for all-positive.
	if p := SignedRankP([]float64{1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6}); p > 0.01 {
		t.Errorf("tied positive differences: p = %g, want < 0.01", p)
	}
}

// The Hodges–Lehmann interval covers the true centre at its nominal rate.
func TestHodgesLehmannCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{12, 30, 250} {
		miss := 0
		trials := 2000
		if n > 100 {
			trials = 400 // n² Walsh averages each
		}
		for range trials {
			d := make([]float64, n)
			for i := range d {
				d[i] = 0.3 + rng.NormFloat64()
			}
			_, lo, hi := HodgesLehmann(d, 0.95)
			if !(lo <= 0.3 && 0.3 <= hi) {
				miss++
			}
		}
		rate := float64(miss) / float64(trials)
		t.Logf("n=%d: the 95%% interval missed the centre in %.1f%% of %d trials", n, 100*rate, trials)
		if rate > 0.08 || rate < 0.02 {
			t.Errorf("n=%d: miss rate %.3f, want about 0.05", n, rate)
		}
	}
	if _, lo, hi := HodgesLehmann([]float64{1, 2, 3}, 0.95); !math.IsInf(lo, -1) || !math.IsInf(hi, 1) {
		t.Errorf("3 values cannot give a 95%% interval; got [%g, %g]", lo, hi)
	}
	if est, _, _ := HodgesLehmann([]float64{1, 2, 3}, 0.5); est != 2 {
		t.Errorf("estimate of {1,2,3} = %g, want 2", est)
	}
}

func TestHolm(t *testing.T) {
	got := Holm([]float64{0.01, 0.04, 0.03, 0.005})
	want := []float64{0.03, 0.06, 0.06, 0.02}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("Holm: got %v, want %v", got, want)
			break
		}
	}
}

// hlSorted is HodgesLehmann the obvious way: sort every Walsh average.
func hlSorted(d []float64, level float64) (est, lo, hi float64) {
	n := len(d)
	var w []float64
	for i := range d {
		for j := i; j < n; j++ {
			w = append(w, (d[i]+d[j])/2)
		}
	}
	slices.Sort(w)
	m := len(w)
	est = (w[(m-1)/2] + w[m/2]) / 2
	k := criticalRank(n, (1-level)/2)
	if k < 1 {
		return est, math.Inf(-1), math.Inf(1)
	}
	return est, w[k-1], w[m-k]
}

// HodgesLehmann selects its order statistics instead of sorting: the same
// answers on data with and without ties, at every size the gate uses.
func TestHodgesLehmannSelectsAsSortWould(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 2, 3, 5, 6, 9, 10, 16, 17, 25, 40, 62, 98, 155, 244, 384} {
		for trial := range 20 {
			d := make([]float64, n)
			for i := range d {
				switch trial % 4 {
				case 0:
					d[i] = rng.NormFloat64()
				case 1: // heavy ties: a few levels
					d[i] = float64(rng.IntN(5)) - 2
				case 2: // two states 20% apart
					d[i] = 0.01*rng.NormFloat64() + 0.18*float64(rng.IntN(2))
				case 3: // sorted, then reversed: worst cases of naive pivots
					d[i] = float64(n - i)
				}
			}
			for _, level := range []float64{0.5, 0.95, 0.99} {
				e1, l1, h1 := HodgesLehmann(d, level)
				e2, l2, h2 := hlSorted(d, level)
				if e1 != e2 || l1 != l2 || h1 != h2 {
					t.Fatalf("n=%d trial %d level %g: select gives %v [%v, %v], sort %v [%v, %v]", n, trial, level, e1, l1, h1, e2, l2, h2)
				}
			}
		}
	}
}

func BenchmarkHodgesLehmann384(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	d := make([]float64, 384)
	for i := range d {
		d[i] = 0.05 * rng.NormFloat64()
	}
	for b.Loop() {
		HodgesLehmann(d, 0.99)
	}
}
