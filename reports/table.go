package reports

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
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

// AgreementText summarises a cell's agreement in a few characters.
func AgreementText(c *Cell) string {
	a := c.Agreement
	if a == nil {
		return "-"
	}
	s := fmt.Sprintf("cos %.6f", a.Cosine)
	if a.Reference == "ref-i8" {
		s = fmt.Sprintf("exact %.0f%%", 100*a.ExactMatch)
	} else if a.MaxRel > 0 {
		s += fmt.Sprintf(" rel %.1e", a.MaxRel)
	}
	if !a.Pass {
		s = "FAIL " + s
	}
	return s
}

// Header is the column list of the results table.
var Header = []string{"kernel", "shape", "threads", "median", "95% CI", "GB/s", "GMAC/s", "roofline", "agreement"}

// Rows returns the results table rows, one per cell, in run order; cells
// that were not timed say why.
func (r *Run) Rows() [][]string {
	var rows [][]string
	for i := range r.Cells {
		c := &r.Cells[i]
		name := c.Workload
		if name != c.Shape {
			name += " (" + c.Shape + ")"
		}
		row := []string{c.Kernel, name, fmt.Sprint(c.Threads)}
		if !c.Timed() {
			why := c.Status
			if c.Reason != "" {
				why += ": " + c.Reason
			}
			row = append(row, "-", "-", "-", "-", "-", truncate(why, 60))
			rows = append(rows, row)
			continue
		}
		roof := "-"
		if c.Roofline > 0 {
			roof = fmt.Sprintf("%.0f%%", 100*c.Roofline)
		}
		row = append(row, Duration(c.Median), Interval(c), fmt.Sprintf("%.1f", c.GBps), fmt.Sprintf("%.1f", c.GMACps), roof, AgreementText(c))
		rows = append(rows, row)
	}
	return rows
}

func truncate(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// WriteTable renders header and rows as a terminal table (tablewriter).
func WriteTable(w io.Writer, header []string, rows [][]string) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleLight)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	t.Header(anySlice(header)...)
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}

// WriteMarkdownTable renders header and rows as a GitHub Markdown table.
func WriteMarkdownTable(w io.Writer, header []string, rows [][]string) error {
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
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

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
