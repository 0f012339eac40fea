package gate

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Side is one of the two builds a gate compares.
type Side int

const (
	Base Side = iota
	Head
)

func (s Side) String() string {
	if s == Base {
		return "base"
	}
	return "head"
}

// Sampler times samples of cells in two builds. The gate's Sampler talks to
// one sample server per build; tests use simulated ones.
type Sampler interface {
	// Sample runs one timed sample of cell c on side s.
	Sample(ctx context.Context, s Side, c int) (Sample, error)
}

// Sample is one timed sample.
type Sample struct {
	Seconds float64 // per GEMV
	// Disturbed is true when the sample's process was descheduled for part
	// of it (its CPU time fell short of the elapsed time × its threads):
	// another process took the core, which says nothing about the kernel.
	Disturbed bool
}

// MaxRetakes bounds how often TakePair takes a pair again because one of
// its samples was disturbed; the last try is kept, marked disturbed.
const MaxRetakes = 8

// Pair is one paired observation of a cell: both builds timed twice, in the
// order ABBA or BAAB (chosen at random per pair), so that drift within the
// pair and a change of the host's state hit both halves alike.
type Pair struct {
	Base  float64 `json:"base_seconds"` // mean of the base build's two samples, seconds per GEMV
	Head  float64 `json:"head_seconds"`
	Order string  `json:"order"` // "ABBA" (base first) or "BAAB"
	// Retakes is how many earlier tries of this pair were thrown away
	// because a sample was disturbed; Disturbed is true when this one was
	// too (after MaxRetakes).
	Retakes   int  `json:"retakes,omitempty"`
	Disturbed bool `json:"disturbed,omitempty"`
}

// LogRatio is ln(head/base).
func (p Pair) LogRatio() float64 { return math.Log(p.Head / p.Base) }

// Track is the sampling state of one cell.
type Track struct {
	Cell     int // the Sampler's cell index
	Pairs    []Pair
	Estimate Estimate
	Verdict  Verdict // the interval's verdict at the last look (before Holm)
	look     int     // index into the plan of the next look
	done     bool
}

// LogRatios returns ln(head/base) of every pair.
func (t *Track) LogRatios() []float64 {
	d := make([]float64, len(t.Pairs))
	for i, p := range t.Pairs {
		d[i] = p.LogRatio()
	}
	return d
}

// Progress is told about each look: the track just judged, and how many
// cells are still sampling.
type Progress func(t *Track, active int)

// Measure samples the cells in pairs until each is decided or reaches the
// plan's cap. Each round takes one pair of every cell still sampling, in a
// fresh random order, so that a cell's pairs are spread over the whole run.
// On error or cancellation it returns the tracks measured so far with the
// error.
//
// m is the number of cells in the whole gate (for Holm's correction; at
// least len(cells)).
func Measure(ctx context.Context, s Sampler, cells []int, m int, o Options, rng *rand.Rand, progress Progress) ([]*Track, error) {
	m = max(m, len(cells))
	tracks := make([]*Track, len(cells))
	active := make([]*Track, len(cells))
	for i, c := range cells {
		tracks[i] = &Track{Cell: c, Verdict: Inconclusive}
		active[i] = tracks[i]
	}
	for len(active) > 0 {
		rng.Shuffle(len(active), func(i, j int) { active[i], active[j] = active[j], active[i] })
		for _, t := range active {
			p, err := TakePair(ctx, s, t.Cell, rng)
			if err != nil {
				return tracks, err
			}
			if !o.Add(t, p, m) || progress == nil {
				continue
			}
			n := 0
			for _, u := range tracks {
				if !u.done {
					n++
				}
			}
			progress(t, n)
		}
		active = slices.DeleteFunc(active, func(t *Track) bool { return t.done })
	}
	return tracks, nil
}

// Add appends a pair to a cell's track and, when the plan says to look,
// judges it (one of m cells); it reports whether it looked. After a look
// that decides the cell, or the plan's last, Done is true.
func (o Options) Add(t *Track, p Pair, m int) bool {
	plan := o.Plan()
	t.Pairs = append(t.Pairs, p)
	if t.done || t.look >= len(plan) || len(t.Pairs) < plan[t.look] {
		return false
	}
	t.Estimate = o.Analyse(t.LogRatios())
	t.Verdict = o.verdict(t.Estimate, m)
	t.look++
	t.done = t.Verdict.Decided() || t.look == len(plan)
	return true
}

// Done reports whether the track needs no more pairs.
func (t *Track) Done() bool { return t.done }

// TakePair times one pair of cell c: ABBA or BAAB at random. A pair with a
// disturbed sample is thrown away whole and taken again (whichever side
// was disturbed, so the choice does not favour a side), up to MaxRetakes
// times.
func TakePair(ctx context.Context, s Sampler, c int, rng *rand.Rand) (Pair, error) {
	for try := 0; ; try++ {
		p, disturbed, err := takePair(ctx, s, c, rng)
		if err != nil || !disturbed || try == MaxRetakes {
			p.Retakes, p.Disturbed = try, disturbed
			return p, err
		}
	}
}

func takePair(ctx context.Context, s Sampler, c int, rng *rand.Rand) (Pair, bool, error) {
	order := [4]Side{Base, Head, Head, Base}
	name := "ABBA"
	if rng.IntN(2) == 1 {
		order = [4]Side{Head, Base, Base, Head}
		name = "BAAB"
	}
	var sum [2]float64
	disturbed := false
	for _, side := range order {
		if err := ctx.Err(); err != nil {
			return Pair{}, false, err
		}
		v, err := s.Sample(ctx, side, c)
		if err != nil {
			return Pair{}, false, err
		}
		if !(v.Seconds > 0) || math.IsInf(v.Seconds, 0) {
			return Pair{}, false, fmt.Errorf("gate: %s sample of cell %d is %g seconds, want a positive time", side, c, v.Seconds)
		}
		sum[side] += v.Seconds
		disturbed = disturbed || v.Disturbed
	}
	return Pair{Base: sum[Base] / 2, Head: sum[Head] / 2, Order: name}, disturbed, nil
}
