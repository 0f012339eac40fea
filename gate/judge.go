package gate

import (
	"context"
	"math/rand/v2"

	"github.com/qkbench/qkbench/internal/stats"
)

// Opener starts a fresh pair of samplers (new processes) with the given
// cells ready to sample; close releases them.
type Opener func(ctx context.Context, cells []int) (s Sampler, close func(), err error)

// Judgement is a whole gate's decision over its cells.
type Judgement struct {
	Options Options
	// Tracks holds the first measurement of every cell, in the order of
	// the cells given to Judge.
	Tracks []*Track
	// Adjusted is each cell's Holm-adjusted p-value of the first measurement.
	Adjusted []float64
	// First is each cell's verdict after the first measurement and Holm.
	First []Verdict
	// Confirm holds the second measurement (fresh processes, fresh order)
	// of the cells that regressed or improved in the first; nil for the
	// others.
	Confirm []*Track
	// ConfirmAdjusted is the Holm-adjusted p-value of the confirmation
	// (across the confirmed cells), 0 where there was none.
	ConfirmAdjusted []float64
	// Final is the verdict that counts: a regression (or improvement) only
	// when the confirmation bears it out (Options.confirms, and significant
	// after Holm across the confirmed cells); otherwise the first verdict,
	// with an unconfirmed one made inconclusive.
	Final []Verdict
	// Interrupted is true when sampling stopped early (context ended or a
	// sampler failed); verdicts of unfinished cells are inconclusive.
	Interrupted bool
}

// Judge measures the cells group by group (each group with freshly opened
// samplers: a group is typically one workload, so that only its matrices are
// in memory), applies Holm's correction across all cells, then measures the
// regressed and improved cells again with fresh samplers and a fresh random
// order; only a confirmed change keeps its verdict. confirm=false skips the second
// measurement (the first verdict is final). On an error it returns the
// judgement so far (Interrupted set) and the error.
func Judge(ctx context.Context, open Opener, groups [][]int, o Options, confirm bool, rng *rand.Rand, progress Progress) (*Judgement, error) {
	j := &Judgement{Options: o}
	index := map[int]int{} // cell -> position in j.Tracks
	for _, g := range groups {
		for _, c := range g {
			index[c] = len(j.Tracks)
			j.Tracks = append(j.Tracks, &Track{Cell: c, Verdict: Inconclusive})
		}
	}
	measure := func(groups [][]int, into []*Track, m int) error {
		for _, g := range groups {
			if len(g) == 0 {
				continue
			}
			s, closeFn, err := open(ctx, g)
			if err != nil {
				return err
			}
			ts, err := Measure(ctx, s, g, m, o, rng, progress)
			closeFn()
			for _, t := range ts {
				*into[index[t.Cell]] = *t
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	err := measure(groups, j.Tracks, len(j.Tracks))
	j.First, j.Adjusted = o.Finalize(estimates(j.Tracks))
	j.Final = append([]Verdict(nil), j.First...)
	j.Confirm = make([]*Track, len(j.Tracks))
	j.ConfirmAdjusted = make([]float64, len(j.Tracks))
	if err != nil {
		j.Interrupted = true
		unconfirmed(j)
		return j, err
	}
	if !confirm {
		return j, nil
	}
	var again [][]int
	var redo []*Track
	for _, g := range groups {
		var sub []int
		for _, c := range g {
			if v := j.First[index[c]]; v == Regressed || v == Improved {
				sub = append(sub, c)
				t := &Track{Cell: c, Verdict: Inconclusive}
				j.Confirm[index[c]] = t
				redo = append(redo, t)
			}
		}
		again = append(again, sub)
	}
	if len(redo) == 0 {
		return j, nil
	}
	err = measure(again, j.Confirm, len(redo))
	ps := make([]float64, len(redo))
	for k, e := range estimates(redo) {
		ps[k] = e.P
	}
	adj := stats.Holm(ps)
	for k, t := range redo {
		i := index[t.Cell]
		j.ConfirmAdjusted[i] = adj[k]
		pooled := o.Analyse(append(j.Tracks[i].LogRatios(), t.LogRatios()...))
		if err != nil || adj[k] > o.Alpha || !o.confirms(j.First[i], t.Estimate, pooled) {
			j.Final[i] = Inconclusive
		}
	}
	if err != nil {
		j.Interrupted = true
	}
	return j, err
}

// confirms reports whether a second measurement e (fresh processes) bears
// out a first verdict v: its interval lies beyond the margin on the same
// side (the change is real, not the first processes' placement), and the
// estimate of both measurements' pairs together still passes the threshold.
func (o Options) confirms(v Verdict, e, pooled Estimate) bool {
	switch v {
	case Regressed:
		return e.Low > 1+o.Margin && pooled.Ratio > 1+o.Threshold
	case Improved:
		return e.High < 1/(1+o.Margin) && pooled.Ratio < 1/(1+o.Threshold)
	}
	return false
}

// unconfirmed turns every regression or improvement of an interrupted
// judgement into inconclusive: it was never confirmed.
func unconfirmed(j *Judgement) {
	for i, v := range j.Final {
		if v == Regressed || v == Improved {
			j.Final[i] = Inconclusive
		}
	}
}

func estimates(ts []*Track) []Estimate {
	es := make([]Estimate, len(ts))
	for i, t := range ts {
		es[i] = t.Estimate
		if t.Estimate.Pairs == 0 {
			es[i].P = 1
		}
	}
	return es
}
