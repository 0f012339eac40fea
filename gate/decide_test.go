package gate

import (
	"context"
	"math/rand/v2"
	"testing"
)

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
