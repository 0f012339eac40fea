package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/qkbench/qkbench/reports"
)

func init() {
	verbs["compare"] = verb{summary: "benchstat-style tables (delta, p-value, ~) over results files", run: runCompare}
	verbs["report"] = verb{summary: "merge sweep runs from several machines into one report, machines as columns", run: runReport}
}

const compareUsage = `Usage: qkbench compare [--row P] [--col P] [--filter F] [--format table|md|csv|json] A.txt [B.txt ...]

Reads Go benchmark results (a sweep's results.txt, go test -bench output;
the two name cells alike) and prints, per unit, the median ± 95% interval of
each row and column, and each column's change against the first with its
Mann-Whitney p-value ("~" when not significant), as benchstat does. --row
and --col take benchstat's projections: /kernel, /shape, /threads, /mode,
.file, or a configuration key such as commit or cpu. A file may be given as
label=path. Compare kernels within one run; runs or commits as columns.

Examples:
  qkbench compare --col /kernel --row /shape --filter /threads:1 results.txt
  qkbench compare old/results.txt new/results.txt
  qkbench compare --col commit --units sec/op a/results.txt b/results.txt

Exit status: 0 compared; 1 no results could be read; 2 a bad flag or
argument.
`

const reportUsage = `Usage: qkbench report [--out DIR] RUN_DIR [RUN_DIR ...]

Merges sweep runs (folders holding receipt.json), typically from several
machines, into one report.md with a column per run, each run labelled by
its --label (or host), CPU and commit, the count of cells whose intervals
overlap, and a chart. Given one run, it renders that run's report.md,
results.txt and charts again from its receipt.

Examples:
  qkbench report runs/zen5 runs/graviton4 runs/apple-m2
  qkbench report --out /tmp/cmp reports/runs/20261206-101500-vm reports/runs/20261206-103000-vm

Exit status: 0 written; 1 a run cannot be read, or the runs measured
different modes or codebooks; 2 a bad flag or argument.
`

func runCompare(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compare", stderr)
	row := fs.String("row", ".fullname", "projection for rows (benchstat syntax, e.g. /shape)")
	col := fs.String("col", ".file", "projection for columns (e.g. /kernel, .file, commit)")
	filter := fs.String("filter", "*", "benchstat filter expression, e.g. /kernel:go-i8")
	units := fs.String("units", "sec/op,GMAC/s", "comma list of units to tabulate")
	alpha := fs.Float64("alpha", 0.05, "significance level")
	format := addFormatFlag(fs)
	setUsage(fs, compareUsage)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("give at least one results file")}
	}
	if !(*alpha > 0 && *alpha < 1) { // NaN fails both
		return usageError{fmt.Errorf("--alpha %g: want a value in (0, 1)", *alpha)}
	}
	for _, f := range fs.Args() {
		path := f
		if _, p, ok := strings.Cut(f, "="); ok {
			path = p
		}
		if _, err := os.Stat(path); err != nil {
			return usageError{fmt.Errorf("results file: %w", err)}
		}
	}
	cs, warnings, err := reports.Compare(fs.Args(), reports.CompareOptions{Row: *row, Col: *col, Filter: *filter, Units: strings.Split(*units, ","), Alpha: *alpha})
	for _, w := range warnings {
		fmt.Fprintf(stderr, "qkbench compare: %s\n", w)
	}
	if errors.Is(err, reports.ErrBadOption) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	if len(cs) == 0 {
		return fmt.Errorf("no results in the units %s", *units)
	}
	return reports.WriteComparisons(stdout, cs, format.get(), terminalWidth(stdout))
}

func runReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr)
	out := fs.String("out", "", "output `folder` (default: reports/runs/compare-<time> in a qkbench checkout, which git ignores; qkbench-runs/compare-<time> elsewhere)")
	setUsage(fs, reportUsage)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("give at least one run folder (holding receipt.json)")}
	}
	var runs []*reports.Run
	for _, d := range fs.Args() {
		r, err := reports.ReadRun(filepath.Join(d, "receipt.json"))
		if err != nil {
			return err
		}
		runs = append(runs, r)
	}
	for i, r := range runs[1:] {
		if r.Config.Mode != runs[0].Config.Mode || r.Config.Codebook != runs[0].Config.Codebook {
			return fmt.Errorf("%s ran mode %s, codebook %s, but %s ran mode %s, codebook %s: their cells are not comparable",
				fs.Arg(i+1), r.Config.Mode, r.Config.Codebook, fs.Arg(0), runs[0].Config.Mode, runs[0].Config.Codebook)
		}
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join(outputRoot(), "compare-"+time.Now().Format("20060102-150405"))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if len(runs) == 1 {
		// One run: render its own report again (after a change to the
		// report code, or into another folder).
		if err := writeRun(dir, runs[0], true); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Wrote %s/report.md and the plots of %s\n", dir, fs.Arg(0))
		return nil
	}
	var plots []reports.Plot
	p, err := reports.MergedPlot(runs)
	if err != nil {
		return err
	}
	if p != nil {
		if plots, err = reports.SavePlots(dir, []reports.Plot{*p}); err != nil {
			fmt.Fprintf(stderr, "qkbench report: %v\n", err)
		}
	}
	var md strings.Builder
	if err := reports.WriteMergedMarkdown(&md, runs, fs.Args(), plots); err != nil {
		return err
	}
	if err := reports.WriteFileAtomic(filepath.Join(dir, "report.md"), []byte(md.String())); err != nil {
		return err
	}
	for _, l := range reports.RunList(runs, fs.Args()) {
		fmt.Fprintln(stdout, l)
	}
	h, rows := reports.MergedRows(runs)
	if err := reports.WriteTable(stdout, h, rows); err != nil {
		return err
	}
	for i := 1; i < len(runs); i++ {
		if o, n := reports.Overlap(runs[0], runs[i]); n > 0 {
			fmt.Fprintf(stdout, "\nruns 1 and %d: %d of %d cells have overlapping 95%% intervals (%.0f%%)", i+1, o, n, 100*float64(o)/float64(n))
		}
		for _, peer := range []string{"ggml-tq2_0-zen4", "ggml-tq2_0-haswell"} {
			if g := reports.RatioAgreement(runs[0], runs[i], peer, 0.05); g.Both > 0 {
				fmt.Fprintf(stdout, "\nruns 1 and %d: the ratio to %s agrees within ±5%% in %d of %d cells (%.0f%%); %d of the others are marked %s",
					i+1, peer, g.Agree, g.Both, 100*float64(g.Agree)/float64(g.Both), g.Marked, reports.Mark)
				if g.WorstCell != "" {
					fmt.Fprintf(stdout, "; the largest difference of an unmarked ratio is %.1f%% (%s)", 100*g.Worst, g.WorstCell)
				}
			}
		}
	}
	fmt.Fprintf(stdout, "\nWrote %s/report.md\n", dir)
	return nil
}
