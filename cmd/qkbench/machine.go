package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/qkbench/qkbench/bench/probe"
	"github.com/qkbench/qkbench/machine"
	"github.com/qkbench/qkbench/reports"
)

func init() {
	verbs["machine"] = verb{summary: "measure (or show the cached) read bandwidth, int8/f32 peaks and clock", run: runMachine}
}

const machineUsage = `Usage: qkbench machine [--refresh] [--json] [--quick] [-v]

Measures what bounds a GEMV on this machine, each with a small assembly
loop: read bandwidth at working sets from L1 to DRAM (1 thread and all),
the int8 multiply-accumulate and f32 FMA peaks of each instruction the CPU
has, and the clock. A sweep divides each cell's time by the floor these
give (its roofline fraction). Measuring takes about 15 s; the figures are
kept per machine in the user's cache folder and shown from there until
--refresh.

Examples:
  qkbench machine
  qkbench machine --refresh -v
  qkbench machine --json

Exit status: 0 done; 1 the probe failed; 2 a bad flag or argument.
`

func runMachine(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("machine", stderr)
	refresh := fs.Bool("refresh", false, "measure again even if this machine's figures are cached")
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	quick := fs.Bool("quick", false, "measure briefly (a few ms per figure): for tests, not for results")
	verbose := fs.Bool("v", false, "print each figure on stderr as it is measured")
	setUsage(fs, machineUsage)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q (machine takes only flags)", fs.Arg(0))}
	}
	opts := probe.CacheOptions{Options: probe.Options{Quick: *quick}, Refresh: *refresh}
	if *verbose {
		opts.Progress = stderr
	}
	m, path, measured, err := probe.Cached(opts)
	if err != nil && m == nil {
		return err
	}
	if err != nil {
		fmt.Fprintf(stderr, "qkbench machine: warning: figures not cached: %v\n", err)
	}
	if *asJSON {
		out := struct {
			CacheFile string        `json:"cache_file"`
			Measured  bool          `json:"measured_now"`
			Machine   *probe.Result `json:"machine"`
		}{path, measured, m}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	printMachine(stdout, m, path, measured)
	return nil
}

func printMachine(w io.Writer, m *probe.Result, path string, measured bool) {
	// Each field on lines of at most 120 columns, continued under its text.
	field := func(label, format string, args ...any) {
		for i, l := range reports.WrapText(fmt.Sprintf(format, args...), reports.DefaultWidth-10) {
			if i == 0 {
				fmt.Fprintf(w, "%-10s%s\n", label+":", l)
			} else {
				fmt.Fprintf(w, "%10s%s\n", "", l)
			}
		}
	}
	field("cpu", "%s (%s/%s, %d CPUs; L1d %s, L2 %s, L3 %s)", m.CPU, m.GOOS, m.GOARCH, m.Cores,
		machine.Bytes(m.Caches.L1D), machine.Bytes(m.Caches.L2), machine.Bytes(m.Caches.L3))
	how := "cached"
	if measured {
		how = "measured now"
	}
	quick := ""
	if m.Quick {
		quick = ", QUICK (not for results)"
	}
	field("figures", "%s, %s in %.1f s%s; %s", how, m.MeasuredAt.Format("2006-01-02 15:04:05Z07:00"), m.Seconds, quick, m.Statistic)
	if path != "" {
		field("cache", "%s (qkbench machine --refresh measures again)", path)
	}
	if m.Unavailable != "" {
		field("assembly", "unavailable: %s", m.Unavailable)
	}
	if m.ClockGHz > 0 {
		field("clock", "~%.2f GHz (dependent integer adds)", m.ClockGHz)
	}
	field("roofline", "best int8 %.1f GMAC/s, best f32 %.1f GFMA/s, read %.1f GB/s at 4 MiB, %s",
		m.BestInt8()/1e9, m.BestF32()/1e9, m.ReadBandwidth(4<<20)/1e9, dram(m))
	fmt.Fprintln(w)

	fmt.Fprintf(w, "%-32s %7s %9s %9s  %-6s  %s\n", "figure", "threads", "best", "median", "unit", "isa")
	for _, f := range m.Figures {
		if !f.Ok() {
			fmt.Fprintf(w, "%-32s %7d %9s %9s  %-6s  %-14s unavailable: %s\n", f.Name, f.Threads, "-", "-", f.Unit, f.ISA, f.Unavailable)
			continue
		}
		fmt.Fprintf(w, "%-32s %7d %9.2f %9.2f  %-6s  %s\n", f.Name, f.Threads, f.Best, f.Median, f.Unit, f.ISA)
	}
}

// dram describes the largest (DRAM) read figure.
func dram(m *probe.Result) string {
	if len(m.Read) == 0 {
		return "no DRAM figure"
	}
	p := m.Read[len(m.Read)-1]
	return fmt.Sprintf("%.1f GB/s from DRAM (%s working set)", p.BytesPerSec/1e9, machine.Bytes(p.WorkingSet))
}
