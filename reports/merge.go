package reports

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot/vg/draw"

	"github.com/qkbench/qkbench/machine"
)

// Label names a run in a multi-machine report: its --label (or else its
// host), CPU and short commit.
func (r *Run) Label() string {
	if r.Name != "" {
		return r.Name + " · " + r.Machine.CPU + " · " + machine.ShortCommit(r.Machine.Commit, r.Machine.Dirty)
	}
	return r.Machine.Label()
}

type mergeKey struct {
	kernel, workload string
	threads          int
}

// mergedKeys lists every timed kernel × workload × threads of the runs, in
// first-seen order.
func mergedKeys(runs []*Run) []mergeKey {
	seen := map[mergeKey]bool{}
	var keys []mergeKey
	for _, r := range runs {
		for i := range r.Cells {
			c := &r.Cells[i]
			k := mergeKey{c.Kernel, c.Workload, c.Threads}
			if c.Timed() && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// MergedRows is the hardware comparison table: one row per kernel × workload
// × threads, one column per run (machine: #1, #2, ... as RunList names
// them) with its median and GMAC/s, and each later run's speed relative to
// the first.
func MergedRows(runs []*Run) (header []string, rows [][]string) {
	header = []string{"kernel", "workload", "threads"}
	for i := range runs {
		header = append(header, fmt.Sprintf("#%d", i+1))
		if i > 0 {
			header = append(header, fmt.Sprintf("#%d vs #1", i+1))
		}
	}
	for _, k := range mergedKeys(runs) {
		row := []string{k.kernel, k.workload, fmt.Sprint(k.threads)}
		var first *Cell
		for i, r := range runs {
			c := r.Find(k.kernel, k.workload, k.threads)
			if c == nil || !c.Timed() {
				row = append(row, "-")
				if i > 0 {
					row = append(row, "-")
				}
				continue
			}
			row = append(row, fmt.Sprintf("%s %s (%.1f GMAC/s)", Duration(c.Median), Interval(c), c.GMACps))
			if i == 0 {
				first = c
			} else if first != nil {
				row = append(row, fmt.Sprintf("%.2f×", first.Median/c.Median))
			} else {
				row = append(row, "-")
			}
		}
		rows = append(rows, row)
	}
	return header, rows
}

// MergedPlot is GMAC/s per kernel (on the x axis) with one marker and 95%
// interval per run (machine), each run labelled by CPU, host and commit, on
// one workload at the smallest thread count.
func MergedPlot(runs []*Run) (*Plot, error) {
	keys := mergedKeys(runs)
	if len(keys) == 0 {
		return nil, nil
	}
	w, th := keys[0].workload, math.MaxInt
	for _, k := range keys {
		if k.workload == w {
			th = min(th, k.threads)
		}
	}
	var ks []string
	for _, k := range keys {
		if k.workload == w && k.threads == th {
			ks = append(ks, k.kernel)
		}
	}
	var labels []string
	for i, r := range runs {
		labels = append(labels, fmt.Sprintf("#%d %s", i+1, r.Label()))
	}
	p := newPlot(fmt.Sprintf("GMAC/s on %s, %d thread(s), by machine; bars: 95%% intervals", w, th), "kernel", "GMAC/s")
	err := dotPlot(p, labels, ks, func(label, k string) point {
		i := slices.Index(labels, label)
		if c := runs[i].Find(k, w, th); c != nil && c.Timed() {
			return gmacPoint(c)
		}
		return point{}
	})
	p.X.Tick.Label.Rotation = math.Pi / 6
	p.X.Tick.Label.XAlign = draw.XRight
	return &Plot{Name: "machines", Title: "GMAC/s by machine", P: p}, err
}

// Overlap counts the cells timed in both runs and how many of them have
// overlapping 95% intervals: the repeatability check of two back-to-back
// runs on one machine (cells without an interval count as not overlapping).
func Overlap(a, b *Run) (overlapping, both int) {
	for i := range a.Cells {
		ca := &a.Cells[i]
		cb := b.Find(ca.Kernel, ca.Workload, ca.Threads)
		if !ca.Timed() || cb == nil || !cb.Timed() {
			continue
		}
		both++
		if ca.Low > 0 && cb.Low > 0 && ca.Low <= cb.High && cb.Low <= ca.High {
			overlapping++
		}
	}
	return overlapping, both
}

// Agreement is how two runs of one machine compare through their ratios
// to a peer kernel (RatioAgreement).
type Agreement struct {
	Agree, Both int // cells whose ratios agree within the tolerance, of those in both runs
	Marked      int // cells that disagree and that either run marked shaky
	// Worst is the largest relative difference |ra/rb - 1| of a ratio
	// neither run marked, and WorstCell names its cell.
	Worst     float64
	WorstCell string
}

// RatioAgreement compares two runs of one machine through their ratios to
// a peer kernel: for every cell timed in both runs (the peer's own cells
// left out) it takes the ratio peer/kernel (PairedRatio) in each run and counts
// how many agree within tol (0.05: ±5%), and how many of the disagreeing
// ones either run marked. Ratios cancel the host's speed, which drifts
// between runs; it is the repeatability that matters when comparing
// kernels.
func RatioAgreement(a, b *Run, peer string, tol float64) Agreement {
	var g Agreement
	for i := range a.Cells {
		ca := &a.Cells[i]
		if ca.Kernel == peer {
			continue
		}
		cb := b.Find(ca.Kernel, ca.Workload, ca.Threads)
		pa, pb := a.Find(peer, ca.Workload, ca.Threads), b.Find(peer, ca.Workload, ca.Threads)
		if cb == nil || pa == nil || pb == nil {
			continue
		}
		ra, rb := PairedRatio(pa, ca), PairedRatio(pb, cb)
		if math.IsNaN(ra.Value) || math.IsNaN(rb.Value) {
			continue
		}
		g.Both++
		d := math.Abs(ra.Value/rb.Value - 1)
		shaky := ra.Shaky() || rb.Shaky()
		if d <= tol {
			g.Agree++
		} else if shaky {
			g.Marked++
		}
		if !shaky && d > g.Worst {
			g.Worst, g.WorstCell = d, fmt.Sprintf("%s %s %d thr", ca.Kernel, ca.Workload, ca.Threads)
		}
	}
	return g
}

// RunList names the runs of a merged report: "#1 label (folder)".
func RunList(runs []*Run, dirs []string) []string {
	var out []string
	for i, r := range runs {
		part := ""
		if r.Partial {
			part = ", partial"
		}
		out = append(out, fmt.Sprintf("#%d %s (%s%s)", i+1, r.Label(), dirs[i], part))
	}
	return out
}

// WriteMergedMarkdown writes the hardware comparison report of several runs.
func WriteMergedMarkdown(w io.Writer, runs []*Run, dirs []string, plots []Plot) error {
	var b strings.Builder
	b.WriteString("# qkbench: runs compared across machines\n\n")
	var mr [][]string
	for i, r := range runs {
		m := r.Machine
		part := ""
		if r.Partial {
			part = " (partial)"
		}
		mr = append(mr, []string{fmt.Sprintf("#%d", i+1), dirs[i] + part, r.Name, m.CPU, fmt.Sprintf("%d/%d", m.Threads, m.Cores), m.OS + "/" + m.Arch, m.GoVersion, machine.ShortCommit(m.Commit, m.Dirty), r.Config.Mode, r.Started.Format("2006-01-02 15:04")})
	}
	if err := WriteMarkdownTable(&b, []string{"#", "run", "label", "CPU", "CPUs (usable/cores)", "OS/arch", "Go", "commit", "mode", "started"}, mr); err != nil {
		return err
	}
	for i := 1; i < len(runs); i++ {
		o, n := Overlap(runs[0], runs[i])
		if n > 0 {
			fmt.Fprintf(&b, "\nRuns #1 and #%d: %d of %d cells timed in both have overlapping 95%% intervals (%.0f%%).\n", i+1, o, n, 100*float64(o)/float64(n))
		}
	}
	b.WriteString("\nMedians per GEMV with ±95% interval and GMAC/s; \"#n vs #1\" is run #1's median over run #n's (above 1: #n is faster).\n\n")
	h, rows := MergedRows(runs)
	if err := WriteMarkdownTable(&b, h, rows); err != nil {
		return err
	}
	for _, p := range plots {
		fmt.Fprintf(&b, "\n![%s](%s.png)\n", p.Title, p.Name)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
