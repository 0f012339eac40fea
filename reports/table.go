package reports

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Duration formats seconds with a unit that keeps 3 significant digits.
func Duration(sec float64) string {
	switch {
	case sec <= 0 || math.IsNaN(sec):
		return "-"
	case sec < 1e-6:
		return fmt.Sprintf("%.3g ns", sec*1e9)
	case sec < 1e-3:
		return fmt.Sprintf("%.3g µs", sec*1e6)
	case sec < 1:
		return fmt.Sprintf("%.3g ms", sec*1e3)
	}
	return fmt.Sprintf("%.3g s", sec)
}

// Interval formats the 95% interval of a cell as ±percent of the median.
func Interval(c *Cell) string {
	if !c.Timed() || c.Low <= 0 {
		return "-"
	}
	v := math.Max(c.High/c.Median-1, 1-c.Low/c.Median)
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return "∞"
	}
	return fmt.Sprintf("±%.0f%%", 100*v)
}

// AgreementText summarises a cell's agreement in a few characters: the
// exact-match rate against ref-i8 for i8 kernels, the largest error
// relative to a row's L1 norm for f32 kernels (mode "f32"), the cosine for
// peers; "FAIL" before it when the kernel disagreed, "ERROR" when it
// failed to run.
func AgreementText(c *Cell, mode string) string {
	a := c.Agreement
	switch {
	case c.Status == StatusError:
		return "ERROR"
	case a == nil:
		return "-"
	}
	var s string
	switch {
	case a.Reference == "ref-i8":
		s = "exact " + percent(a.ExactMatch)
	case mode == "f32":
		s = "rel " + sci(a.MaxRel)
	default:
		s = "cos " + fixed(a.Cosine, 5)
	}
	if !a.Pass {
		s = "FAIL " + s
	}
	return s
}

func percent(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	if v == 1 {
		return "100%"
	}
	return fmt.Sprintf("%.1f%%", math.Floor(1000*v)/10) // never rounds up to 100%
}

func sci(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("%.1e", v)
}

func fixed(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// Header is the column list of the results table.
var Header = []string{"kernel", "workload", "threads", "median", "95% CI", "GB/s", "GMAC/s", "roofline", "agreement"}

// ran reports whether a cell got as far as running (timed, failed or erred),
// as opposed to a kernel that could not run here or with its codebook.
func (c *Cell) ran() bool { return c.Status != StatusUnavailable && c.Status != StatusUnsupported }

// workloadText names a cell's workload: the shape, or a tensor's name and
// its shape.
func (c *Cell) workloadText() string {
	if c.Workload != c.Shape && c.Workload != "" {
		return c.Workload + " (" + c.Shape + ")"
	}
	return c.Shape
}

// Rows returns the results table rows: one per cell that ran, in run order.
// Cells that could not run, and why a cell failed, are in NotRunNotes and
// FailureNotes.
func (r *Run) Rows() [][]string {
	var rows [][]string
	for i := range r.Cells {
		c := &r.Cells[i]
		if !c.ran() {
			continue
		}
		row := []string{c.Kernel, c.workloadText(), fmt.Sprint(c.Threads)}
		if !c.Timed() {
			row = append(row, "-", "-", "-", "-", "-", AgreementText(c, r.Kernel(c.Kernel).Mode))
			rows = append(rows, row)
			continue
		}
		roof := "-"
		if c.Roofline > 0 {
			roof = fmt.Sprintf("%.0f%%", 100*c.Roofline)
		}
		med := Duration(c.Median)
		if c.Unstable != "" {
			med += Mark
		}
		row = append(row, med, Interval(c), fmt.Sprintf("%.1f", c.GBps), fmt.Sprintf("%.1f", c.GMACps), roof, AgreementText(c, r.Kernel(c.Kernel).Mode))
		rows = append(rows, row)
	}
	return rows
}

// ResultsTable is the sweep's terminal table: every cell that ran, with the
// kernels that could not run and every failure in full under it, and the
// unstable cells with why (counted instead when there are more than
// MaxListedWarnings: report.md names them all).
func (r *Run) ResultsTable() *Table {
	unstable := r.UnstableNotes()
	if n := len(unstable); n > MaxListedWarnings {
		unstable = []string{fmt.Sprintf("%s %d cells are unstable (report.md names each and why): the machine's speed changed under the run; compare ratios, not medians", Mark, n)}
	}
	return &Table{
		Header: Header, Rows: r.Rows(),
		Right: []bool{false, false, true, true, true, true, true, true, false},
		Wrap:  []bool{false, true, false, false, false, false, false, false, true},
		Notes: append(append(r.NotRunNotes(), r.FailureNotes()...), unstable...),
	}
}

// UnstableNotes names every unstable cell and why ("†" in the table).
func (r *Run) UnstableNotes() []string {
	var out []string
	for i := range r.Cells {
		c := &r.Cells[i]
		if c.Timed() && c.Unstable != "" {
			out = append(out, fmt.Sprintf("%s unstable: %s on %s, %d threads: %s", Mark, c.Kernel, c.workloadText(), c.Threads, c.Unstable))
		}
	}
	return out
}

// MaxListedWarnings is how many unstable cells report.md's warning block
// names one by one; more are counted there and listed at the end.
const MaxListedWarnings = 8

// WarningLines are what report.md puts in its warning block: the run's
// warnings (a busy machine) and the unstable cells, each named when there
// are at most MaxListedWarnings (else counted, and listed at the end of
// the report: a block of 150 lines would bury the results).
func (r *Run) WarningLines() []string {
	out := append([]string(nil), r.Warnings...)
	n, timed := 0, 0
	for i := range r.Cells {
		if c := &r.Cells[i]; c.Timed() {
			timed++
			if c.Unstable != "" {
				n++
			}
		}
	}
	if n > 0 {
		where := ""
		if n > MaxListedWarnings {
			where = " (each named, with why, under \"Unstable cells\" at the end)"
		}
		out = append(out, fmt.Sprintf("%d of %d cells stayed unstable after re-sampling%s: their medians are marked %s, as is every ratio whose own interval (from the pairs of samples taken in the same round) is wider than ±5%%", n, timed, where, Mark))
		if n <= MaxListedWarnings {
			out = append(out, r.UnstableNotes()...)
		}
	}
	return out
}

// CheckHeader is the column list of check's agreement table.
var CheckHeader = []string{"kernel", "workload", "threads", "cosine", "max |Δ|", "max |Δ|/L1", "NMSE", "exact", "result"}

// CheckTable is check's terminal table: the agreement metrics of every cell
// that ran, with the kernels that could not run and every failure in full
// under it.
func (r *Run) CheckTable() *Table {
	t := &Table{
		Header: CheckHeader,
		Right:  []bool{false, false, true, true, true, true, true, true, false},
		Wrap:   []bool{false, true, false, false, false, false, false, false, false},
		Notes:  append(r.NotRunNotes(), r.FailureNotes()...),
	}
	for i := range r.Cells {
		c := &r.Cells[i]
		if !c.ran() {
			continue
		}
		row := []string{c.Kernel, c.workloadText(), fmt.Sprint(c.Threads), "-", "-", "-", "-", "-", ""}
		if a := c.Agreement; a != nil {
			row[3], row[4], row[5], row[6], row[7] = fixed(a.Cosine, 6), gnum(a.MaxAbs), gnum(a.MaxRel), gnum(a.NMSE), fixed(a.ExactMatch, 4)
		}
		switch {
		case c.Status == StatusOK:
			row[8] = "pass"
		case c.Status == StatusError:
			row[8] = "ERROR"
		default:
			row[8] = "FAIL"
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func gnum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("%.3g", v)
}

// NotRunNotes lists, once per reason, the kernels that could not run (not
// on this machine or build, or not with the run's codebook), with the
// reason in full.
func (r *Run) NotRunNotes() []string {
	type group struct {
		why       string
		kernels   []string
		workloads map[string][]string // kernel → workloads, when not all
	}
	var groups []*group
	byWhy := map[string]*group{}
	perKernel := map[string]map[string]bool{} // kernel → whys
	for i := range r.Cells {
		c := &r.Cells[i]
		if c.ran() {
			continue
		}
		why := c.Status
		if c.Reason != "" {
			why += ": " + c.Reason
		}
		g := byWhy[why]
		if g == nil {
			g = &group{why: why, workloads: map[string][]string{}}
			byWhy[why] = g
			groups = append(groups, g)
		}
		if !slices.Contains(g.kernels, c.Kernel) {
			g.kernels = append(g.kernels, c.Kernel)
		}
		if !slices.Contains(g.workloads[c.Kernel], c.workloadText()) {
			g.workloads[c.Kernel] = append(g.workloads[c.Kernel], c.workloadText())
		}
		if perKernel[c.Kernel] == nil {
			perKernel[c.Kernel] = map[string]bool{}
		}
		perKernel[c.Kernel][why] = true
	}
	total := len(r.workloadsOfCells())
	var out []string
	for _, g := range groups {
		var names []string
		for _, k := range g.kernels {
			n := k
			if ws := g.workloads[k]; len(ws) < total || len(perKernel[k]) > 1 {
				n += " on " + strings.Join(ws, ", ")
			}
			names = append(names, n)
		}
		out = append(out, fmt.Sprintf("not run: %s: %s", strings.Join(names, ", "), g.why))
	}
	return out
}

// workloadsOfCells returns the distinct workloads of the cells.
func (r *Run) workloadsOfCells() []string {
	var out []string
	seen := map[string]bool{}
	for i := range r.Cells {
		if w := r.Cells[i].workloadText(); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// FailureNotes gives every failed or erred cell's reason in full.
func (r *Run) FailureNotes() []string {
	var out []string
	for i := range r.Cells {
		c := &r.Cells[i]
		if c.Status != StatusFailed && c.Status != StatusError {
			continue
		}
		word := "FAIL"
		if c.Status == StatusError {
			word = "ERROR"
		}
		out = append(out, fmt.Sprintf("%s %s on %s, %d thread(s): %s", word, c.Kernel, c.workloadText(), c.Threads, c.Reason))
	}
	return out
}

// CellFailures lists what fails a run (exit status 1), from its cells and
// kernels: a cell that disagreed or erred, and a kernel that the command
// line asked for (Requested) or QKBENCH_REQUIRE names (Required) that could
// not run here. A required kernel without the run's codebook is no failure:
// QKBENCH_REQUIRE says a kernel must be able to run on this machine.
func (r *Run) CellFailures() []string {
	var out []string
	for i := range r.Cells {
		c := &r.Cells[i]
		k := r.Kernel(c.Kernel)
		fails := false
		switch c.Status {
		case StatusFailed, StatusError:
			fails = true
		case StatusUnavailable:
			fails = k.Requested || k.Required
		case StatusUnsupported:
			fails = k.Requested
		}
		if fails {
			out = append(out, fmt.Sprintf("%s on %s (%d threads): %s: %s", c.Kernel, c.workloadText(), c.Threads, c.Status, c.Reason))
		}
	}
	return out
}

// CSVHeader is the column list of CellsCSV.
var CSVHeader = []string{"kernel", "workload", "shape", "rows", "cols", "threads", "mode", "status", "reason",
	"median_s", "ci_low_s", "ci_high_s", "samples", "gbps", "gmacps", "roofline_fraction",
	"reference", "cosine", "max_abs_err", "max_rel_err", "nmse", "exact_match_rate", "quiet_s"}

// CellsTable is every cell of the run, including those that did not run,
// with raw numbers (seconds, rates, fractions) for a spreadsheet: the CSV
// form of a sweep's or a check's output.
func (r *Run) CellsTable() *Table {
	t := &Table{Header: CSVHeader}
	num := func(v float64, ok bool) string {
		if !ok {
			return ""
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	for i := range r.Cells {
		c := &r.Cells[i]
		timed := c.Timed()
		row := []string{c.Kernel, c.Workload, c.Shape, fmt.Sprint(c.Rows), fmt.Sprint(c.Cols), fmt.Sprint(c.Threads), c.Mode, c.Status, c.Reason,
			num(c.Median, timed), num(c.Low, timed && c.Low > 0), num(c.High, timed && c.High > 0), fmt.Sprint(len(c.Samples)),
			num(c.GBps, timed), num(c.GMACps, timed), num(c.Roofline, timed && c.Roofline > 0)}
		if a := c.Agreement; a != nil {
			row = append(row, a.Reference, num(a.Cosine, true), num(a.MaxAbs, true), num(a.MaxRel, true), num(a.NMSE, true), num(a.ExactMatch, true))
		} else {
			row = append(row, "", "", "", "", "", "")
		}
		row = append(row, num(c.Quiet, timed && c.Quiet > 0)) // what ratios compare (QuietTime)
		t.Rows = append(t.Rows, row)
	}
	return t
}

// WriteTable renders header and rows as a terminal table of at most
// DefaultWidth columns (the widest columns wrapped when needed).
func WriteTable(w io.Writer, header []string, rows [][]string) error {
	return (&Table{Header: header, Rows: rows}).Text(w, DefaultWidth)
}

// WriteMarkdownTable renders header and rows as a GitHub Markdown table.
func WriteMarkdownTable(w io.Writer, header []string, rows [][]string) error {
	esc := func(s string) string {
		return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
	}
	var b strings.Builder
	b.WriteString("|")
	for _, h := range header {
		b.WriteString(" " + esc(h) + " |")
	}
	b.WriteString("\n|")
	for range header {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("|")
		for _, c := range r {
			b.WriteString(" " + esc(c) + " |")
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
