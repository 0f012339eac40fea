package gate

import (
	"context"
	"math"
	"math/rand/v2"
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
		const trials = 2000
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
		rate := float64(miss) / trials
		t.Logf("n=%d: the 95%% interval missed the centre in %.1f%% of %d trials", n, 100*rate, trials)
		if rate > 0.07 || rate < 0.02 {
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

func TestVerdict(t *testing.T) {
	o := DefaultOptions
	for _, c := range []struct {
		e    Estimate
		want Verdict
	}{
		{Estimate{Pairs: 20, Ratio: 1.10, Low: 1.07, High: 1.12}, Regressed},
		{Estimate{Pairs: 20, Ratio: 1.06, Low: 1.005, High: 1.12}, Inconclusive}, // interval touches the margin
		{Estimate{Pairs: 20, Ratio: 1.04, Low: 1.03, High: 1.05}, Same},          // significant, but under the threshold
		{Estimate{Pairs: 20, Ratio: 0.90, Low: 0.88, High: 0.93}, Improved},
		{Estimate{Pairs: 20, Ratio: 1.00, Low: 0.99, High: 1.01}, Same},
		{Estimate{Pairs: 20, Ratio: 1.00, Low: 0.90, High: 1.10}, Inconclusive},
		{Estimate{}, Inconclusive},
	} {
		if v := o.Verdict(c.e); v != c.want {
			t.Errorf("%+v: verdict %s, want %s", c.e, v, c.want)
		}
	}
	// Holm removes a regression whose p-value is not small enough.
	vs, _ := o.Finalize([]Estimate{{Pairs: 20, Ratio: 1.10, Low: 1.07, High: 1.12, P: 0.04}, {Pairs: 20, Ratio: 1, Low: 0.99, High: 1.01, P: 0.5}})
	if vs[0] != Inconclusive {
		t.Errorf("p=0.04 over 2 cells at alpha 0.05: verdict %s, want inconclusive", vs[0])
	}
}

func TestPlan(t *testing.T) {
	p := DefaultOptions.Plan()
	if p[0] != DefaultOptions.MinPairs || p[len(p)-1] != DefaultOptions.MaxPairs {
		t.Errorf("plan %v: want %d..%d", p, DefaultOptions.MinPairs, DefaultOptions.MaxPairs)
	}
	for i := 1; i < len(p); i++ {
		if p[i] <= p[i-1] {
			t.Errorf("plan %v is not increasing", p)
		}
	}
	t.Logf("default plan %v, interval level %.5f", p, DefaultOptions.Level())
}

// scripted returns the samples it is given, in order.
type scripted struct{ v []Sample }

func (s *scripted) Sample(context.Context, Side, int) (Sample, error) {
	v := s.v[0]
	s.v = s.v[1:]
	return v, nil
}

// A pair with a disturbed sample is taken again whole; after MaxRetakes
// disturbed tries the last is kept and marked.
func TestTakePairRetakes(t *testing.T) {
	ok, bad := Sample{Seconds: 1}, Sample{Seconds: 3, Disturbed: true}
	s := &scripted{v: []Sample{ok, ok, bad, ok, ok, ok, ok, ok}}
	p, err := TakePair(context.Background(), s, 0, rand.New(rand.NewPCG(1, 1)))
	if err != nil || p.Retakes != 1 || p.Disturbed || p.Base != 1 || p.Head != 1 {
		t.Errorf("pair %+v, %v; want the second, clean try after 1 retake", p, err)
	}
	var all []Sample
	for range 4 * (MaxRetakes + 1) {
		all = append(all, bad)
	}
	p, err = TakePair(context.Background(), &scripted{v: all}, 0, rand.New(rand.NewPCG(1, 1)))
	if err != nil || p.Retakes != MaxRetakes || !p.Disturbed {
		t.Errorf("always disturbed: pair %+v, %v; want the last try kept, marked disturbed", p, err)
	}
}
