package reports

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/perf/benchfmt"
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
	Unit   string
	Header []string
	Rows   [][]string
}

// Compare reads Go benchmark result files and, for each unit, builds a
// benchstat-style table: the median ± 95% interval of each column, and for
// every column after the first the change against the first with its
// p-value (Mann-Whitney U), or "~" when the difference is not significant.
func Compare(files []string, opt CompareOptions) ([]Comparison, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("reports: compare needs at least one results file")
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
		return nil, fmt.Errorf("reports: filter %q: %w", opt.Filter, err)
	}
	var pp benchproc.ProjectionParser
	colBy, err := pp.Parse(opt.Col, filter)
	if err != nil {
		return nil, fmt.Errorf("reports: column projection %q: %w", opt.Col, err)
	}
	rowBy, err := pp.Parse(opt.Row, filter)
	if err != nil {
		return nil, fmt.Errorf("reports: row projection %q: %w", opt.Row, err)
	}
	type cellKey struct{ row, col benchproc.Key }
	values := map[string]map[cellKey][]float64{}
	var rows, cols []benchproc.Key
	seenRow, seenCol := map[benchproc.Key]bool{}, map[benchproc.Key]bool{}
	rd := benchfmt.Files{Paths: files, AllowLabels: true}
	for rd.Scan() {
		res, ok := rd.Result().(*benchfmt.Result)
		if !ok {
			continue
		}
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
	if err := rd.Err(); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("reports: no benchmark results in %s", strings.Join(files, ", "))
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
					row = append(row, fmt.Sprintf("%s ± %s", benchunit.Scale(sum.Center, cls), sum.PctRangeString()))
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
	return out, nil
}

// WriteComparisons prints each comparison as a terminal table.
func WriteComparisons(w io.Writer, cs []Comparison) error {
	for i, c := range cs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s:\n", c.Unit)
		if err := WriteTable(w, c.Header, c.Rows); err != nil {
			return err
		}
	}
	return nil
}
