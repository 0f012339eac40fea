package reports

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/qkbench/qkbench/machine"
)

// WriteMarkdown writes report.md for one run: what ran where, the results,
// speedups, the per-token roll-up, agreement and the charts in plots.
func (r *Run) WriteMarkdown(w io.Writer, plots []Plot) error {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "# qkbench sweep on %s\n\n", m.CPU)
	if r.Partial {
		b.WriteString("> **Partial run**: it was interrupted; only the cells below were finished.\n\n")
	}
	if warn := r.WarningLines(); len(warn) > 0 {
		b.WriteString("> **Warning: some figures cannot be trusted as they are.**\n>\n")
		for _, w := range warn {
			fmt.Fprintf(&b, "> - %s\n", w)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Reproduce with:\n\n```\n%s\n```\n\n", r.Command)
	b.WriteString("## Machine\n\n")
	rows := [][]string{
		{"CPU", m.CPUText()},
		{"CPUs", m.CoresText()},
		{"caches", m.CachesText()},
		{"OS / arch", m.OS + "/" + m.Arch},
		{"Go", m.GoVersion},
		{"C compiler", m.CC},
		{"commit", machine.ShortCommit(m.Commit, m.Dirty)},
		{"host", m.Host},
	}
	if m.Hypervisor != "" {
		rows = append(rows, []string{"hypervisor", m.Hypervisor})
	}
	if m.Version != "" {
		rows = append(rows, []string{"qkbench", m.Version})
	}
	if len(m.Features) > 0 {
		rows = append(rows, []string{"features", strings.Join(m.Features, " ")})
	}
	if pr := m.Probe; pr != nil {
		var bw []string
		for _, p := range pr.ReadGBps {
			bw = append(bw, fmt.Sprintf("%s: %.0f GB/s", machine.Bytes(p.Bytes), p.GBps))
		}
		rows = append(rows, []string{"read bandwidth (1 thread)", strings.Join(bw, ", ")})
		var peaks []string
		for n, v := range pr.Int8GMACps {
			peaks = append(peaks, fmt.Sprintf("%s %.0f GMAC/s", n, v))
		}
		sort.Strings(peaks)
		rows = append(rows, []string{"int8 peaks (1 thread)", strings.Join(peaks, ", ")})
		if pr.F32GFMAps > 0 {
			rows = append(rows, []string{"f32 FMA peak", fmt.Sprintf("%.1f GFMA/s", pr.F32GFMAps)})
		}
		if pr.ClockGHz > 0 {
			rows = append(rows, []string{"clock estimate", fmt.Sprintf("%.2f GHz", pr.ClockGHz)})
		}
	}
	if err := WriteMarkdownTable(&b, []string{"", ""}, rows); err != nil {
		return err
	}
	c := r.Config
	sliced := ""
	if c.Slice != "" {
		sliced = fmt.Sprintf(" (in %s slices, interleaved with the other cells' slices of its round)", c.Slice)
	}
	act := ""
	if c.Activations != "" {
		act = fmt.Sprintf(", %s activations (not the default gaussian)", c.Activations)
	}
	fmt.Fprintf(&b, "\nSweep: preset %q, codebook %s, mode %s%s, threads %v, %d samples per cell of at least %s each%s, seed %d; started %s, took %s.\n",
		c.Preset, c.Codebook, c.Mode, act, c.Threads, c.Count, c.MinTime, sliced, c.Seed, r.Started.Format("2006-01-02 15:04:05 MST"), r.Finished.Sub(r.Started).Round(1e9))
	b.WriteString("Times are medians per GEMV with the 95% confidence interval of the median (golang.org/x/perf/benchmath); the x quantization of i8 kernels is inside the time, preparing W is not.\n\n")

	if ws := r.workloadNames(); len(ws) > 0 {
		b.WriteString("## Summary\n\nMedian time per GEMV (GMAC/s).\n")
		for _, th := range r.ThreadCounts() {
			fmt.Fprintf(&b, "\n%d thread(s):\n\n", th)
			if err := WriteMarkdownTable(&b, append([]string{"kernel"}, ws...), r.Pivot(th, func(c *Cell) string {
				return fmt.Sprintf("%s (%.1f)", Duration(c.Median), c.GMACps)
			})); err != nil {
				return err
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("## Results\n\n")
	if err := r.ResultsTable().Markdown(&b); err != nil {
		return err
	}
	if ws := r.workloadNames(); len(ws) > 0 {
		th := r.minThreads()
		fmt.Fprintf(&b, "\n### Speedup over portable Go, %d thread(s)\n\n(go-i8's or go-f32's time over the kernel's, %s)\n\n", th, r.ratioMethod())
		if err := WriteMarkdownTable(&b, append([]string{"kernel"}, ws...), r.Pivot(th, func(c *Cell) string {
			return r.SpeedupRatio(c.Kernel, c.Workload, th).String()
		})); err != nil {
			return err
		}
		for _, peer := range []string{"ggml-tq2_0-zen4", "ggml-tq2_0-haswell"} {
			if r.Find(peer, ws[0], th) == nil || !r.Find(peer, ws[0], th).Timed() {
				continue
			}
			fmt.Fprintf(&b, "\n### Speed against llama.cpp's %s, %d thread(s)\n\n(the peer's time over the kernel's, %s: above 1 means faster than the peer)\n\n", peer, th, r.ratioMethod())
			if err := WriteMarkdownTable(&b, append([]string{"kernel"}, ws...), r.Pivot(th, func(c *Cell) string {
				if p := r.Find(peer, c.Workload, th); p != nil && p.Timed() {
					return PairedRatio(p, c).String()
				}
				return ""
			})); err != nil {
				return err
			}
		}
	}
	if ru := r.Rollup(); len(ru) > 0 {
		fmt.Fprintf(&b, "\n### %s: GEMV time per decoded token\n\n", c.Model)
		fmt.Fprintf(&b, "Σ over one layer's matrices (median × count per layer) × %d layers; attention, norms and the LM head are not included, so the tokens/s figure is an upper bound.\n\n", c.Layers)
		var rr [][]string
		for _, t := range ru {
			rr = append(rr, []string{t.Kernel, fmt.Sprint(t.Threads), Duration(t.Seconds), fmt.Sprintf("%.1f", t.TokensPerSecond())})
		}
		if err := WriteMarkdownTable(&b, []string{"kernel", "threads", "GEMV time per token", "tokens/s bound"}, rr); err != nil {
			return err
		}
	}
	b.WriteString("\n## Kernels\n\n")
	var kr [][]string
	for _, k := range r.Kernels {
		st := "available"
		if !k.Available {
			st = "unavailable: " + k.Reason
		}
		code := k.Code
		if k.Library != "" {
			code += " (plugin " + k.Library + ", sha256 " + k.LibrarySHA256 + ")"
		}
		kr = append(kr, []string{k.ID, k.Mode, k.Backend, k.ISA, st, code})
	}
	if err := WriteMarkdownTable(&b, []string{"kernel", "mode", "backend", "ISA", "status", "what computes"}, kr); err != nil {
		return err
	}
	b.WriteString("\n## Workloads\n\n")
	var wr [][]string
	for _, w := range r.Workloads {
		wr = append(wr, []string{w.Name, w.Shape, w.Codebook, strings.Join(w.Roles, ","), w.Source})
	}
	if err := WriteMarkdownTable(&b, []string{"workload", "shape", "codebook", "roles", "source"}, wr); err != nil {
		return err
	}
	if len(plots) > 0 {
		b.WriteString("\n## Charts\n\n")
		for _, p := range plots {
			fmt.Fprintf(&b, "### %s\n\n![%s](%s.png)\n\n([SVG](%s.svg))\n\n", p.Title, p.Title, p.Name, p.Name)
		}
	}
	if notes := r.UnstableNotes(); len(notes) > MaxListedWarnings {
		b.WriteString("\n## Unstable cells\n\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Pivot returns one row per timed kernel and one column per workload (in
// run order) at th threads; cell formats a timed cell ("" for none, shown as
// "-"). Kernels whose every cell is empty are left out.
func (r *Run) Pivot(th int, cell func(c *Cell) string) [][]string {
	var rows [][]string
	for _, k := range r.timedKernels() {
		row, any := []string{k}, false
		for _, w := range r.workloadNames() {
			v := ""
			if c := r.Find(k, w, th); c != nil && c.Timed() {
				v = cell(c)
			}
			if v == "" {
				v = "-"
			} else {
				any = true
			}
			row = append(row, v)
		}
		if any {
			rows = append(rows, row)
		}
	}
	return rows
}

// ratioMethod says how the run's ratios were estimated (PairedRatio).
func (r *Run) ratioMethod() string {
	for i := range r.Cells {
		if len(r.Cells[i].SliceSeconds) > 0 {
			return fmt.Sprintf("their quiet times: the %s percentile of each one's slice times over the rounds both took", ordinal(int(math.Round(100*QuietQuantile))))
		}
	}
	return "paired round by round"
}

// ordinal writes n as 1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st, ...
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprint(n) + suffix
}
