package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchproc"
	"golang.org/x/perf/benchunit"
)

// CompareOptions says how to slice results into a table, as benchstat's
// -row and -col do.
type CompareOptions struct {
	Row    string // projection for rows; default ".fullname"
	Col    string // projection for columns; default ".file"
	Filter string // benchproc filter; default "*"
	Units  []string
	Alpha  float64 // significance level; default 0.05
}

// Comparison is the table Compare computed, ready to print.
type Comparison struct {
	Unit   string     `json:"unit"`
	Header []string   `json:"header"`
	Rows   [][]string `json:"rows"`
}

// ErrBadOption is wrapped by Compare's errors about a malformed row,
// column or filter expression.
var ErrBadOption = errors.New("bad option")

// Compare reads Go benchmark result files with ReadResults and, for each
// unit, builds a benchstat-style table: the median ± 95% interval of each
// column, and for every column after the first the change against the first
// with its p-value (Mann-Whitney U), or "~" when the difference is not
// significant. The warnings are ReadResults' (values dropped).
func Compare(files []string, opt CompareOptions) (cs []Comparison, warnings []string, err error) {
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("reports: compare needs at least one results file")
	}
	if opt.Row == "" {
		opt.Row = ".fullname"
	}
	if opt.Col == "" {
		opt.Col = ".file"
	}
	if opt.Filter == "" {
		opt.Filter = "*"
	}
	if len(opt.Units) == 0 {
		opt.Units = []string{"sec/op", "GMAC/s"}
	}
	if opt.Alpha == 0 {
		opt.Alpha = 0.05
	}
	filter, err := benchproc.NewFilter(opt.Filter)
	if err != nil {
		return nil, nil, fmt.Errorf("reports: filter %q: %w: %w", opt.Filter, ErrBadOption, err)
	}
	var pp benchproc.ProjectionParser
	colBy, err := pp.Parse(opt.Col, filter)
	if err != nil {
		return nil, nil, fmt.Errorf("reports: column projection %q: %w: %w", opt.Col, ErrBadOption, err)
	}
	rowBy, err := pp.Parse(opt.Row, filter)
	if err != nil {
		return nil, nil, fmt.Errorf("reports: row projection %q: %w: %w", opt.Row, ErrBadOption, err)
	}
	results, warnings, err := ReadResults(files)
	if err != nil {
		return nil, nil, err
	}
	type cellKey struct{ row, col benchproc.Key }
	values := map[string]map[cellKey][]float64{}
	var rows, cols []benchproc.Key
	seenRow, seenCol := map[benchproc.Key]bool{}, map[benchproc.Key]bool{}
	for _, res := range results {
		if m, _ := filter.Apply(res); !m {
			continue
		}
		rk, ck := rowBy.Project(res), colBy.Project(res)
		if !seenRow[rk] {
			seenRow[rk] = true
			rows = append(rows, rk)
		}
		if !seenCol[ck] {
			seenCol[ck] = true
			cols = append(cols, ck)
		}
		for _, v := range res.Values {
			if values[v.Unit] == nil {
				values[v.Unit] = map[cellKey][]float64{}
			}
			values[v.Unit][cellKey{rk, ck}] = append(values[v.Unit][cellKey{rk, ck}], v.Value)
		}
	}
	if len(rows) == 0 {
		return nil, warnings, fmt.Errorf("reports: no benchmark results in %s", strings.Join(files, ", "))
	}
	benchproc.SortKeys(rows)
	benchproc.SortKeys(cols)
	thr := benchmath.DefaultThresholds
	thr.CompareAlpha = opt.Alpha
	var out []Comparison
	for _, unit := range opt.Units {
		vals := values[unit]
		if vals == nil {
			continue
		}
		cls := benchunit.ClassOf(unit)
		cmp := Comparison{Unit: unit, Header: []string{opt.Row}}
		for i, c := range cols {
			cmp.Header = append(cmp.Header, c.StringValues())
			if i > 0 {
				cmp.Header = append(cmp.Header, "vs base")
			}
		}
		for _, r := range rows {
			row := []string{r.StringValues()}
			var base *benchmath.Sample
			var baseSum benchmath.Summary
			any := false
			for i, c := range cols {
				v := vals[cellKey{r, c}]
				var s *benchmath.Sample
				var sum benchmath.Summary
				if len(v) == 0 {
					row = append(row, "-")
				} else {
					any = true
					s = benchmath.NewSample(append([]float64(nil), v...), &thr)
					sum = benchmath.AssumeNothing.Summary(s, 0.95)
					row = append(row, fmt.Sprintf("%s ± %s", scaled(sum.Center, cls), sum.PctRangeString()))
				}
				if i == 0 {
					base, baseSum = s, sum
					continue
				}
				if base == nil || s == nil {
					row = append(row, "-")
					continue
				}
				c := benchmath.AssumeNothing.Compare(base, s)
				row = append(row, fmt.Sprintf("%s (%s)", c.FormatDelta(baseSum.Center, sum.Center), c))
			}
			if any {
				cmp.Rows = append(cmp.Rows, row)
			}
		}
		out = append(out, cmp)
	}
	return out, warnings, nil
}

// scaled is benchunit.Scale, except that a value past its largest prefix
// (which Scale spells out in hundreds of digits) is written as 1.234e+300.
func scaled(v float64, cls benchunit.Class) string {
	if s := benchunit.Scale(v, cls); len(s) <= 12 {
		return s
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// WriteComparisons prints the comparisons in format f: one table per unit
// (fitted to width) or Markdown table, each after its unit; CSV, one table
// with the unit in the first column; or JSON.
func WriteComparisons(w io.Writer, cs []Comparison, f Format, width int) error {
	if f == FormatJSON {
		b, err := json.MarshalIndent(cs, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
	for i, c := range cs {
		t := &Table{Header: c.Header, Rows: c.Rows}
		if f == FormatCSV {
			t.Header = append([]string{"unit"}, c.Header...)
			t.Rows = nil
			for _, r := range c.Rows {
				t.Rows = append(t.Rows, append([]string{c.Unit}, r...))
			}
			if i > 0 {
				t.Header = nil
			}
		} else {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "%s:\n", c.Unit)
			if f == FormatMD {
				fmt.Fprintln(w)
			}
		}
		if err := t.Write(w, f, width); err != nil {
			return err
		}
	}
	return nil
}
