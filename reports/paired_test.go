package reports

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// Ratios pair samples by round: a host that changes speed between rounds
// (both cells alike) does not move the ratio, disturbed samples are left
// out, and a ratio with a wide interval is marked (two-level cells alone do
// not mark it).
func TestPairedRatio(t *testing.T) {
	speed := []float64{1, 1.2, 1, 1.2, 1.2, 1, 1, 1.2} // the host's state per round
	a := &Cell{Status: StatusOK, Median: 2}
	b := &Cell{Status: StatusOK, Median: 1}
	for r, s := range speed {
		a.Samples = append(a.Samples, 2*s*(1+0.001*float64(r%3)))
		a.SampleRounds = append(a.SampleRounds, r)
		// b's rounds in another order: pairing is by round, not by index.
		rb := len(speed) - 1 - r
		b.Samples = append(b.Samples, speed[rb])
		b.SampleRounds = append(b.SampleRounds, rb)
	}
	x := PairedRatio(a, b)
	if math.Abs(x.Value-2) > 0.01 || x.Pairs != 8 || x.Shaky() {
		t.Errorf("ratio %+v, want 2 from 8 pairs, not shaky", x)
	}
	// A disturbed sample of a, 10× slower, is left out.
	a.Samples[3] *= 10
	a.Disturbed = []int{3}
	if y := PairedRatio(a, b); y.Pairs != 7 || math.Abs(y.Value-2) > 0.01 {
		t.Errorf("with a disturbed sample: %+v", y)
	}
	if s := x.Inverse(); math.Abs(s.Value-0.5) > 0.01 || s.Low > s.Value || s.High < s.Value {
		t.Errorf("inverse %+v", s)
	}
	// Two-level cells whose levels hit both halves of each pair: the ratio
	// is as good as ever, and not marked.
	a.Unstable, b.Unstable = "two levels", "two levels"
	for i := range a.Samples {
		if a.SampleRounds[i]%3 == 0 {
			a.Samples[i] *= 1.2
		}
		if b.SampleRounds[i]%3 == 0 {
			b.Samples[i] *= 1.2
		}
	}
	if z := PairedRatio(a, b); z.Shaky() || strings.HasSuffix(z.String(), Mark) || math.Abs(z.Value-2) > 0.02 {
		t.Errorf("two-level cells paired: %q (%+v), want 2.00× unmarked", z.String(), z)
	}
	// A level that hits one half of some pairs only: a wide interval, marked.
	for i := range a.Samples {
		if a.SampleRounds[i]%2 == 0 {
			a.Samples[i] *= 1.3
		}
	}
	if z := PairedRatio(a, b); !z.Shaky() || !strings.HasSuffix(z.String(), Mark) {
		t.Errorf("pairs split by a level: %q (%+v), want the mark", z.String(), z)
	}
	// Too few pairs: no ratio.
	c := &Cell{Status: StatusOK, Median: 1, Samples: []float64{1, 1}, SampleRounds: []int{0, 1}}
	if v := PairedRatio(a, c); !math.IsNaN(v.Value) || v.String() != "" {
		t.Errorf("2 pairs: %+v", v)
	}
}

// An unstable cell is marked in the table, named with its reason under it,
// and report.md opens with a warning block.
func TestUnstableMarked(t *testing.T) {
	r := &Run{Warnings: []string{"the machine is busy"}}
	r.Cells = []Cell{{Kernel: "avx2-i8", Workload: "64x256", Shape: "64x256", Threads: 1, Status: StatusOK, Median: 1e-5,
		Samples: []float64{1e-5}, Unstable: "two levels 20% apart (3 of 10 samples in the slow one)"}}
	rows := r.Rows()
	if !strings.HasSuffix(rows[0][3], Mark) {
		t.Errorf("median column %q lacks the mark", rows[0][3])
	}
	notes := strings.Join(r.ResultsTable().Notes, "\n")
	if !strings.Contains(notes, "avx2-i8 on 64x256, 1 threads: two levels 20% apart") {
		t.Errorf("notes %q", notes)
	}
	var b strings.Builder
	if err := r.WriteMarkdown(&b, nil); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	if !strings.Contains(md, "> **Warning") || !strings.Contains(md, "> - the machine is busy") || !strings.Contains(md, "1 of 1 cells stayed unstable") ||
		!strings.Contains(md, "> - † unstable: avx2-i8 on 64x256") {
		t.Errorf("report.md has no warning block naming the cell:\n%s", md[:min(len(md), 600)])
	}
	// Many unstable cells (a host that flips between speeds): the block
	// counts them, and a section at the end names each.
	for i := range 20 {
		c := r.Cells[0]
		c.Workload = fmt.Sprintf("%dx256", 100+i)
		c.Shape = c.Workload
		r.Cells = append(r.Cells, c)
	}
	b.Reset()
	if err := r.WriteMarkdown(&b, nil); err != nil {
		t.Fatal(err)
	}
	md = b.String()
	head, tail, _ := strings.Cut(md, "## Unstable cells")
	if !strings.Contains(head, "21 of 21 cells stayed unstable") || strings.Contains(head, "> - † unstable") || strings.Count(tail, "- † unstable: avx2-i8") != 21 {
		t.Errorf("21 unstable cells: the warning block should count them and the end list all 21:\n%s", md)
	}
	if notes := r.ResultsTable().Notes; len(notes) != 1 || !strings.Contains(notes[0], "21 cells are unstable") {
		t.Errorf("the terminal table's notes should count 21 unstable cells in one line: %q", notes)
	}
}

// Two runs whose host ran 10% slower in the second agree through their
// ratios to the peer though every median moved.
func TestRatioAgreement(t *testing.T) {
	mk := func(slow float64, kernelFactor float64) *Run {
		r := &Run{}
		for _, k := range []struct {
			id string
			f  float64
		}{{"ggml-tq2_0-zen4", 1}, {"avx2-i8", 0.7 * kernelFactor}, {"go-i8", 5}} {
			c := Cell{Kernel: k.id, Workload: "w", Shape: "w", Threads: 1, Status: StatusOK}
			for i := range 10 {
				c.Samples = append(c.Samples, slow*k.f*(1+0.002*float64(i%3)))
				c.SampleRounds = append(c.SampleRounds, i)
			}
			c.Median = slow * k.f
			r.Cells = append(r.Cells, c)
		}
		return r
	}
	if g := RatioAgreement(mk(1, 1), mk(1.1, 1), "ggml-tq2_0-zen4", 0.05); g.Agree != 2 || g.Both != 2 || g.Worst > 1e-9 {
		t.Errorf("host 10%% slower: %+v, want 2 of 2 agreeing exactly", g)
	}
	g := RatioAgreement(mk(1, 1), mk(1, 1.2), "ggml-tq2_0-zen4", 0.05)
	if g.Agree != 1 || g.Both != 2 || math.Abs(g.Worst-0.2) > 1e-6 || g.WorstCell != "avx2-i8 w 1 thr" {
		t.Errorf("avx2-i8 20%% slower: %+v, want 1 of 2 agreeing and the worst 20%% at avx2-i8", g)
	}
}

// quietCell builds a cell of rounds samples, each of 20 slices, on a host
// that is noisy in the share noisy of each round's slices and slows this
// cell by slowdown then; its quiet time per GEMV is base.
func quietCell(base, slowdown, noisy float64, rounds int) *Cell {
	c := &Cell{Status: StatusOK, Median: base}
	for r := range rounds {
		var ss []float64
		sum := 0.0
		for k := range 20 {
			v := base * (1 + 0.002*float64((k*7+r)%5)) // a little jitter
			if float64((k*13+r*3)%20) < noisy*20 {
				v *= slowdown
			}
			ss = append(ss, v)
			sum += v
		}
		c.Samples = append(c.Samples, sum/20)
		c.SampleRounds = append(c.SampleRounds, r)
		c.SliceSeconds = append(c.SliceSeconds, ss)
	}
	return c
}

// Ratios compare quiet times: a neighbour that slows a memory-bound peer
// by 40% and a compute-bound kernel by 5%, for 30% of one run and 70% of
// the next, moves the ratio of the paired samples by ~20% but not the ratio
// of the quiet times. The interval is there with 6 rounds or more, the
// ratio's inverse is exact, and disturbed samples are left out.
func TestQuietRatio(t *testing.T) {
	var got []Ratio
	for _, noisy := range []float64{0.3, 0.7} {
		a := quietCell(3e-3, 1.05, noisy, 10) // compute-bound: 3 ms
		b := quietCell(1e-3, 1.40, noisy, 10) // memory-bound peer: 1 ms
		x := PairedRatio(a, b)
		if x.Pairs != 10 || x.Shaky() || x.Low > x.Value || x.High < x.Value {
			t.Errorf("noisy %.0f%%: %v [%v, %v] from %d pairs, want 10 pairs and an interval within ±5%%", 100*noisy, x.Value, x.Low, x.High, x.Pairs)
		}
		if y := PairedRatio(b, a); math.Abs(y.Value*x.Value-1) > 1e-12 || math.Abs(y.Low*x.High-1) > 1e-12 {
			t.Errorf("inverse %+v of %+v", y, x)
		}
		if q := a.QuietTime(); math.Abs(q/3e-3-1) > 0.005 {
			t.Errorf("quiet time %v, want 3 ms", q)
		}
		// A disturbed sample, 10× slower in every slice, is left out.
		for i := range a.SliceSeconds[4] {
			a.SliceSeconds[4][i] *= 10
		}
		a.Disturbed = []int{4}
		if z := PairedRatio(a, b); z.Pairs != 9 || math.Abs(z.Value/x.Value-1) > 0.005 {
			t.Errorf("with a disturbed sample: %+v, want 9 pairs, %v", z, x.Value)
		}
		got = append(got, x)
		// Whole samples, paired (a receipt without slice times), move
		// with the noise: the test's host would show the difference.
		a.SliceSeconds, b.SliceSeconds, a.Disturbed = nil, nil, nil
		got = append(got, PairedRatio(a, b))
	}
	if q0, q1 := got[0].Value, got[2].Value; math.Abs(q0/q1-1) > 0.01 || math.Abs(q0/3-1) > 0.01 {
		t.Errorf("quiet ratios %v and %v, want both 3", q0, q1)
	}
	if s0, s1 := got[1].Value, got[3].Value; math.Abs(s0/s1-1) < 0.1 {
		t.Errorf("paired samples' ratios %v and %v: the noise does not move them", s0, s1)
	}
	// Fewer than 6 rounds: a value but no interval, so marked.
	if x := PairedRatio(quietCell(3e-3, 1, 0, 5), quietCell(1e-3, 1, 0, 5)); math.Abs(x.Value-3) > 0.01 || !x.Shaky() {
		t.Errorf("5 rounds: %+v, want 3 without an interval", x)
	}
}

func TestOrdinal(t *testing.T) {
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 10: "10th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 22: "22nd", 102: "102nd", 111: "111th"} {
		if got := ordinal(n); got != want {
			t.Errorf("ordinal(%d) = %q, want %q", n, got, want)
		}
	}
}

// The CSV of the cells carries each timed cell's quiet time, what its
// ratios compare.
func TestCellsTableQuiet(t *testing.T) {
	r := &Run{Cells: []Cell{*quietCell(3e-3, 1.2, 0.5, 6), {Kernel: "k", Status: StatusUnavailable, Threads: 1}}}
	r.Cells[0].Quiet = r.Cells[0].QuietTime()
	tab := r.CellsTable()
	col := slices.Index(tab.Header, "quiet_s")
	if col < 0 || tab.Rows[0][col] != fmt.Sprint(r.Cells[0].Quiet) || tab.Rows[1][col] != "" {
		t.Errorf("quiet_s column %d: %q, %q; want %v and empty", col, tab.Rows[0][col], tab.Rows[1][col], r.Cells[0].Quiet)
	}
}
