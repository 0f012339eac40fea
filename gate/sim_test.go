package gate

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// hostSim is a simulated shared VM, one sample a step (a gate's sample is
// ~10 ms): the host flips between two speed states 20% apart (on average
// every 50 samples: the ~1 s states measured here), drifts slowly (a
// mean-reverting walk with a 3% spread over thousands of samples: the
// day-to-day clock), each sample has 1% multiplicative jitter, and 2% of
// samples are hit by an interfering burst that makes them up to 40% slower
// unseen, and 10% are descheduled (seen: Disturbed) and up to 80% slower.
// Both builds run on the same simulated host, one sample at a time.
type hostSim struct {
	rng   *rand.Rand
	slow  bool
	drift float64   // log of the slow drift factor
	base  []float64 // seconds per GEMV of each cell on the fast state
	delay []float64 // head's relative slowdown per cell
	// procBias is each side's per-process offset (memory placement), drawn
	// afresh for every opened sampler.
	procBias [2]float64
	procSD   float64
}

func (h *hostSim) Sample(_ context.Context, s Side, c int) (Sample, error) {
	if h.rng.Float64() < 1.0/50 {
		h.slow = !h.slow
	}
	h.drift = 0.999*h.drift + h.rng.NormFloat64()*0.03*math.Sqrt(1-0.999*0.999)
	v := h.base[c] * math.Exp(h.drift+h.rng.NormFloat64()*0.01) * (1 + h.procBias[s])
	if h.slow {
		v *= 1.2
	}
	if h.rng.Float64() < 0.02 {
		v *= 1 + 0.4*h.rng.Float64()
	}
	if s == Head {
		v *= 1 + h.delay[c]
	}
	// Another process takes the core during 10% of samples (as measured
	// here under load: 18%), slowing them by up to 80%; the sample's CPU
	// time shows it.
	disturbed := h.rng.Float64() < 0.10
	if disturbed {
		v *= 1 + 0.8*h.rng.Float64()
	}
	return Sample{Seconds: v, Disturbed: disturbed}, nil
}

func (h *hostSim) open(_ context.Context, _ []int) (Sampler, func(), error) {
	h.procBias = [2]float64{h.rng.NormFloat64() * h.procSD, h.rng.NormFloat64() * h.procSD}
	return h, func() {}, nil
}

func newHost(seed uint64, cells int, procSD float64) *hostSim {
	h := &hostSim{rng: rand.New(rand.NewPCG(seed, 1)), base: make([]float64, cells), delay: make([]float64, cells), procSD: procSD}
	for i := range h.base {
		h.base[i] = 20e-6 * float64(i+1)
	}
	return h
}

// simGates runs n simulated gates over 8 cells (cell 3 slowed by slowdown)
// and returns how many gates raised a false alarm (a regressed or improved
// verdict on an unslowed cell) and how many caught the slowed cell.
func simGates(t *testing.T, n int, o Options, slowdown, procSD float64) (falseAlarms, caught int) {
	t.Helper()
	const cells = 8
	groups := [][]int{{0, 1, 2, 3}, {4, 5, 6, 7}}
	for g := range n {
		h := newHost(uint64(g)+1000, cells, procSD)
		h.delay[3] = slowdown
		j, err := Judge(context.Background(), h.open, groups, o, true, rand.New(rand.NewPCG(uint64(g), 7)), nil)
		if err != nil {
			t.Fatal(err)
		}
		alarm := false
		for i, v := range j.Final {
			c := j.Tracks[i].Cell
			if c == 3 && slowdown != 0 {
				if v == Regressed {
					caught++
				}
				continue
			}
			if v == Regressed || v == Improved {
				alarm = true
			}
		}
		if alarm {
			falseAlarms++
		}
	}
	return falseAlarms, caught
}

// TestSimulatedAA: gates of two identical builds on a host that flips
// between two states 20% apart must almost never alarm: at most 1% of 1000
// gates (8 cells each), at the default threshold and at 3%.
func TestSimulatedAA(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	for _, thr := range []float64{0.05, 0.03} {
		o := DefaultOptions
		o.Threshold = thr
		fa, _ := simGates(t, n, o, 0, 0.005)
		t.Logf("threshold %.0f%%: %d of %d simulated A/A gates raised an alarm", thr*100, fa, n)
		if float64(fa) > 0.01*float64(n) {
			t.Errorf("threshold %.0f%%: %d false alarms in %d A/A gates, want at most 1%%", thr*100, fa, n)
		}
	}
}

// TestSimulatedSlowdown: a 5% slowdown of one cell on the same host is
// caught in at least 95% of gates at a 3% threshold, blaming no other cell
// more than 1% of the time; at the default 5% threshold a 10% slowdown is.
func TestSimulatedSlowdown(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	for _, c := range []struct{ thr, slow float64 }{{0.03, 0.05}, {0.05, 0.10}} {
		o := DefaultOptions
		o.Threshold = c.thr
		fa, caught := simGates(t, n, o, c.slow, 0.005)
		t.Logf("threshold %.0f%%, slowdown %.0f%%: caught in %d of %d gates, other cells blamed in %d", c.thr*100, c.slow*100, caught, n, fa)
		if float64(caught) < 0.95*float64(n) {
			t.Errorf("threshold %.0f%%: %.0f%% slowdown caught in %d of %d gates, want at least 95%%", c.thr*100, c.slow*100, caught, n)
		}
		if float64(fa) > 0.01*float64(n) {
			t.Errorf("threshold %.0f%%: other cells blamed in %d of %d gates, want at most 1%%", c.thr*100, fa, n)
		}
	}
}

// TestUnpairedWouldAlarm shows why the gate pairs its samples: on the same
// simulated host, two separate runs of the same build (go test -bench
// -count 10: ten samples of ~1 s, i.e. 100 simulated steps each, one run
// after the other), compared as benchstat does, differ "significantly" far
// more often than the 5% a test at p < 0.05 promises.
func TestUnpairedWouldAlarm(t *testing.T) {
	h := newHost(1, 1, 0)
	run := func() []float64 {
		var out []float64
		for range 10 {
			sum := 0.0
			for range 100 {
				v, _ := h.Sample(context.Background(), Base, 0)
				sum += v.Seconds
			}
			out = append(out, sum/100)
		}
		return out
	}
	flagged := 0
	const runs = 100
	for range runs {
		if mannWhitneyP(run(), run()) < 0.05 {
			flagged++
		}
	}
	t.Logf("two separate runs of 10 samples: %d of %d A/A comparisons significant at p < 0.05", flagged, runs)
	if flagged < 10 {
		t.Errorf("the simulated host should defeat unpaired comparisons: %d of %d flagged, want at least twice the nominal 5%%", flagged, runs)
	}
}
