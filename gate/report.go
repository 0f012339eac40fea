package gate

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"golang.org/x/perf/benchfmt"

	"github.com/qkbench/qkbench/internal/stats"
	"github.com/qkbench/qkbench/workloads"
)

// ReportSchema names the format of verdict.json.
const ReportSchema = "qkbench/gate/v1"

// Report is a gate's outcome: verdict.json.
type Report struct {
	Schema   string       `json:"schema"`
	Command  string       `json:"command"`
	Started  time.Time    `json:"started"`
	Finished time.Time    `json:"finished"`
	Base     BuildInfo    `json:"base"`
	Head     BuildInfo    `json:"head"`
	Method   string       `json:"method"` // "paired" or "unpaired"
	Options  ReportOpts   `json:"options"`
	Pass     bool         `json:"pass"`
	Status   int          `json:"exit_status"`
	Cells    []CellReport `json:"cells"`
	Skipped  []Skipped    `json:"skipped,omitempty"`
	Warnings []string     `json:"warnings,omitempty"`
	// Partial is true when the gate was interrupted before every cell was
	// decided.
	Partial bool `json:"partial,omitempty"`
}

// BuildInfo names one side of a gate.
type BuildInfo struct {
	Rev    string `json:"rev"`
	Commit string `json:"commit,omitempty"`
	Go     string `json:"go,omitempty"`
	Cached bool   `json:"cached,omitempty"`
	File   string `json:"file,omitempty"` // --files mode
}

// ReportOpts is the rule and plan the gate used.
type ReportOpts struct {
	Threshold  float64 `json:"threshold"`
	Margin     float64 `json:"margin"`
	Alpha      float64 `json:"alpha"`
	MinPairs   int     `json:"min_pairs,omitempty"`
	MaxPairs   int     `json:"max_pairs,omitempty"`
	Looks      []int   `json:"looks,omitempty"`
	Level      float64 `json:"interval_level,omitempty"`
	SampleTime string  `json:"sample_time,omitempty"`
	Confirm    bool    `json:"confirm"`
	Strict     bool    `json:"strict"`
}

// CellReport is one cell's line of verdict.json.
type CellReport struct {
	Kernel   string `json:"kernel"`
	Shape    string `json:"shape"`
	Threads  int    `json:"threads"`
	Mode     string `json:"mode,omitempty"`
	Codebook string `json:"codebook,omitempty"`
	// Activations names the x generator (gaussian unless asked).
	Activations string  `json:"activations,omitempty"`
	Name        string  `json:"name,omitempty"`    // benchmark name (--files mode)
	BaseNs      float64 `json:"base_ns"`           // median time per GEMV
	HeadNs      float64 `json:"head_ns"`           //
	Ratio       float64 `json:"ratio"`             // head/base estimate
	Low         float64 `json:"ci_low"`            // its interval
	High        float64 `json:"ci_high"`           //
	Pairs       int     `json:"pairs"`             // paired observations (0 in --files mode)
	Samples     [2]int  `json:"samples,omitempty"` // base and head samples (--files mode)
	P           float64 `json:"p_adjusted"`        // Holm-adjusted p-value
	Verdict     Verdict `json:"verdict"`
	// First is the verdict of the first measurement when a confirmation
	// followed; Confirm is the confirmation's estimate.
	First    Verdict   `json:"first_verdict,omitempty"`
	Confirm  *Estimate `json:"confirm,omitempty"`
	Slowdown float64   `json:"test_slowdown,omitempty"` // head slowed by the test hook
	Note     string    `json:"note,omitempty"`
	// PairRatios are the first measurement's head/base ratios, pair by
	// pair, in the order they were taken.
	PairRatios []float64 `json:"pair_ratios,omitempty"`
	// Retakes counts the tries of pairs thrown away because a sample was
	// disturbed (another process had the core); Disturbed counts the pairs
	// kept although disturbed (after MaxRetakes tries).
	Retakes   int `json:"retakes,omitempty"`
	Disturbed int `json:"disturbed_pairs,omitempty"`
}

// Skipped is a cell the gate could not compare.
type Skipped struct {
	Kernel  string `json:"kernel"`
	Shape   string `json:"shape,omitempty"`
	Threads int    `json:"threads,omitempty"`
	Reason  string `json:"reason"`
}

// Fails reports whether a verdict fails the gate.
func Fails(v Verdict, strict bool) bool {
	return v == Regressed || strict && v == Inconclusive
}

// CellReports turns a paired judgement into the report's cells (in the
// order of j.Tracks).
func CellReports(s *Session, j *Judgement) []CellReport {
	var out []CellReport
	for i, t := range j.Tracks {
		spec := s.Cells[t.Cell]
		cr := CellReport{Kernel: spec.Kernel, Shape: spec.Shape, Threads: spec.Threads, Mode: spec.Mode, Codebook: spec.Codebook, Activations: spec.Activations,
			Pairs: len(t.Pairs), Ratio: t.Estimate.Ratio, Low: t.Estimate.Low, High: t.Estimate.High, P: j.Adjusted[i], Verdict: j.Final[i]}
		var bs, hs []float64
		for _, p := range t.Pairs {
			bs, hs = append(bs, p.Base), append(hs, p.Head)
			cr.PairRatios = append(cr.PairRatios, math.Round(p.Head/p.Base*1e5)/1e5)
			cr.Retakes += p.Retakes
			if p.Disturbed {
				cr.Disturbed++
			}
		}
		cr.BaseNs, cr.HeadNs = stats.Median(bs)*1e9, stats.Median(hs)*1e9
		if c := j.Confirm[i]; c != nil {
			e := c.Estimate
			cr.First, cr.Confirm = j.First[i], &e
			if j.Final[i] == j.First[i] {
				cr.Note = fmt.Sprintf("confirmed with fresh processes: %s", ratioText(e))
			} else {
				cr.Note = fmt.Sprintf("not confirmed with fresh processes: %s", ratioText(e))
			}
		}
		if len(t.Pairs) == 0 {
			cr.Note = "not measured (interrupted)"
		}
		if s.Setup[Head] != nil {
			cr.Slowdown = s.Setup[Head][t.Cell].Slowdown
		}
		out = append(out, cr)
	}
	return out
}

func ratioText(e Estimate) string {
	return fmt.Sprintf("%.3f [%.3f, %.3f] from %d pairs", e.Ratio, e.Low, e.High, e.Pairs)
}

// TableHeader and TableRows are the terminal table of a report.
var TableHeader = []string{"kernel", "shape", "thr", "base", "head", "head/base [interval]", "n", "verdict"}

// TableRows returns one row per cell.
func (r *Report) TableRows() [][]string {
	var rows [][]string
	for _, c := range r.Cells {
		n := fmt.Sprint(c.Pairs)
		if r.Method == "unpaired" {
			n = fmt.Sprintf("%d/%d", c.Samples[0], c.Samples[1])
		}
		v := string(c.Verdict)
		if c.First != "" && c.Verdict != c.First {
			v += " (unconfirmed " + string(c.First) + ")"
		}
		if c.Slowdown > 0 {
			v += fmt.Sprintf(" [hook +%.0f%%]", 100*c.Slowdown)
		}
		rows = append(rows, []string{c.Kernel, c.Shape, fmt.Sprint(c.Threads), Duration(c.BaseNs), Duration(c.HeadNs), Interval(c.Ratio, c.Low, c.High), n, v})
	}
	return rows
}

// Duration formats nanoseconds for a table.
func Duration(ns float64) string {
	switch {
	case ns <= 0 || math.IsNaN(ns):
		return "-"
	case ns < 1e3:
		return fmt.Sprintf("%.0f ns", ns)
	case ns < 1e6:
		return fmt.Sprintf("%.3g µs", ns/1e3)
	case ns < 1e9:
		return fmt.Sprintf("%.3g ms", ns/1e6)
	}
	return fmt.Sprintf("%.3g s", ns/1e9)
}

// Interval formats a ratio with its interval: "1.012 [0.998, 1.025]".
func Interval(r, lo, hi float64) string {
	if r == 0 || math.IsNaN(r) {
		return "-"
	}
	f := func(v float64) string {
		if math.IsInf(v, 0) || v == 0 {
			return "?"
		}
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.3f [%s, %s]", r, f(lo), f(hi))
}

// activations is the cells' x generator when it is not gaussian ("" when
// it is, or in --files mode).
func (r *Report) activations() string {
	for _, c := range r.Cells {
		if a := workloads.Activations(c.Activations).Tag(); a != "" {
			return a
		}
	}
	return ""
}

// Verdicts counts the cells by verdict.
func (r *Report) Verdicts() map[Verdict]int {
	m := map[Verdict]int{}
	for _, c := range r.Cells {
		m[c.Verdict]++
	}
	return m
}

// Headline is the report's one-line outcome.
func (r *Report) Headline() string {
	m := r.Verdicts()
	state := "PASS"
	if !r.Pass {
		state = "FAIL"
	}
	if r.Partial {
		state = "INTERRUPTED"
	}
	return fmt.Sprintf("%s: %d cells, %d regressed, %d improved, %d same, %d inconclusive (threshold %.3g%%, %s)",
		state, len(r.Cells), m[Regressed], m[Improved], m[Same], m[Inconclusive], 100*r.Options.Threshold, r.Method)
}

// WriteSummary writes summary.md: a pull-request comment.
func (r *Report) WriteSummary(w io.Writer) error {
	fmt.Fprintf(w, "### qkbench gate: %s\n\n", r.Headline())
	if r.Method == "paired" {
		fmt.Fprintf(w, "Base `%s` (%s) against head `%s` (%s), timed in pairs interleaved on one machine (ABBA/BAAB, %s samples, %d–%d pairs per cell); "+
			"a cell regressed when head/base exceeds %.3g%%, its %.4g%% interval lies above %.3g%%, its signed-rank test survives Holm's correction across the cells at α = %g",
			r.Base.Rev, short(r.Base.Commit), r.Head.Rev, short(r.Head.Commit), r.Options.SampleTime, r.Options.MinPairs, r.Options.MaxPairs,
			100*(1+r.Options.Threshold), 100*r.Options.Level, 100*(1+r.Options.Margin), r.Options.Alpha)
		if r.Options.Confirm {
			fmt.Fprint(w, ", and a second measurement with fresh processes agrees")
		}
		fmt.Fprint(w, ".")
		if a := r.activations(); a != "" {
			fmt.Fprintf(w, " x: %s activations (`--activations %s`), not the default gaussian.", a, a)
		}
		fmt.Fprint(w, "\n\n")
	} else {
		fmt.Fprintf(w, "`%s` against `%s`, unpaired (Mann–Whitney U, Holm, threshold %.3g%%). Separate runs on a shared machine differ by more than their noise suggests: this comparison is weaker than the paired gate (`qkbench gate --base`).\n\n",
			r.Base.File, r.Head.File, 100*r.Options.Threshold)
	}
	fmt.Fprintln(w, "| kernel | shape | threads | base | head | head/base [interval] | n | verdict |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, row := range r.TableRows() {
		if row[len(row)-1] == string(Regressed) {
			row[len(row)-1] = "**regressed**"
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
	for _, c := range r.Cells {
		if c.Note != "" {
			fmt.Fprintf(w, "\n- %s %s %d threads: %s", c.Kernel, c.Shape, c.Threads, c.Note)
		}
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "\n- not compared: %s %s: %s", s.Kernel, s.Shape, s.Reason)
	}
	for _, s := range r.Warnings {
		fmt.Fprintf(w, "\n- warning: %s", s)
	}
	fmt.Fprintln(w)
	return nil
}

func short(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	if c == "" {
		return "?"
	}
	return c
}

// WriteBenchfmt writes one side's samples as Go benchmark results, so that
// `benchstat base.txt head.txt` reads the gate's own samples (all but the
// disturbed ones).
func WriteBenchfmt(w io.Writer, s *Session, side Side, config map[string]string) error {
	bw := benchfmt.NewWriter(w)
	res := &benchfmt.Result{}
	keys := make([]string, 0, len(config))
	for k := range config {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := strings.Join(strings.Fields(config[k]), " ")
		res.Config = append(res.Config, benchfmt.Config{Key: k, Value: []byte(v), File: true})
	}
	for _, smp := range s.Samples {
		if smp.Side != side || smp.Disturbed {
			continue
		}
		res.Name = benchfmt.Name(s.Cells[smp.Cell].Name())
		res.Iters = smp.Iters
		res.Values = []benchfmt.Value{{Value: smp.Seconds * 1e9, Unit: "ns/op"}}
		if err := bw.Write(res); err != nil {
			return err
		}
	}
	return nil
}
