package reports

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// ReadResults reads Go benchmark result files (sweep's results.txt, go test
// -bench output; each path may be given as label=path, which sets .file)
// and returns their results with every value a finite positive number.
//
// A NaN, infinite, zero or negative value cannot be a time, a rate or a
// size, and one such sample makes benchmath's Mann-Whitney test run out of
// memory: it is dropped, with a warning naming the file, line, benchmark and
// unit; a result left with no value is dropped with it. A malformed line is
// skipped with a warning too. A file that cannot be read or is not a regular
// file is an error.
// The results are copies the caller may keep.
func ReadResults(paths []string) (results []*benchfmt.Result, warnings []string, err error) {
	if len(paths) == 0 {
		return nil, nil, errors.New("reports: no results file given")
	}
	for _, p := range paths {
		path := p
		if _, after, ok := strings.Cut(p, "="); ok {
			path = after
		}
		st, err := os.Stat(path)
		if err != nil {
			return nil, nil, fmt.Errorf("reports: results file: %w", err)
		}
		if !st.Mode().IsRegular() {
			return nil, nil, fmt.Errorf("reports: results file %s is not a regular file", path)
		}
	}
	rd := benchfmt.Files{Paths: paths, AllowLabels: true}
	for rd.Scan() {
		switch rec := rd.Result().(type) {
		case *benchfmt.SyntaxError:
			warnings = append(warnings, rec.Error()+" (line skipped)")
		case *benchfmt.Result:
			kept := rec.Values[:0:0]
			for _, v := range rec.Values {
				if v.Value > 0 && !math.IsInf(v.Value, 0) {
					kept = append(kept, v)
					continue
				}
				val, unit := v.Value, v.Unit
				if v.OrigUnit != "" {
					val, unit = v.OrigValue, v.OrigUnit // as the file spells it
				}
				file, line := rec.Pos()
				warnings = append(warnings, fmt.Sprintf("%s:%d: Benchmark%s: dropped the value %v %s (want a finite number above 0)",
					file, line, rec.Name.Full(), val, unit))
			}
			if len(kept) == 0 {
				continue
			}
			r := rec.Clone()
			r.Values = kept
			results = append(results, r)
		}
	}
	if err := rd.Err(); err != nil {
		return nil, nil, fmt.Errorf("reports: %w", err)
	}
	return results, warnings, nil
}
