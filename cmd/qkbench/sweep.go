package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/qkbench/qkbench/bench"
	"github.com/qkbench/qkbench/internal/rundir"
	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/machine"
	"github.com/qkbench/qkbench/reports"
	"github.com/qkbench/qkbench/workloads"
)

func init() {
	verbs["sweep"] = verb{summary: "measure kernels × shapes × threads; write results.txt, receipt.json, report.md and plots", run: runSweep}
}

const sweepUsage = `Usage: qkbench sweep [--preset P | --shapes LIST | --gguf FILE] [--kernels LIST] [--threads LIST] [flags]

Checks every kernel on every workload against the references, then times
each cell (kernel × workload × thread count) in rounds: a round takes one
sample of every cell of a workload, each in 2 ms slices (--slice)
interleaved with the other cells' slices in a random order, so that a
change of the machine's speed hits them all alike. Ratios between
kernels (against the peers, the Go baselines, 1 thread) compare quiet
times: the 2nd percentile of each cell's slice times, the speed it reaches
when the host leaves it alone. A kernel that disagrees is reported failed
and not timed; one that cannot run here is listed under the table with the
reason. The run goes to a folder of its own (--out): results.txt (Go
benchmark format, for benchstat and qkbench compare), receipt.json (the
machine, the code that ran, every sample, slice and agreement metric),
report.md and charts. Ctrl-C keeps every finished workload and marks the
run partial; a second Ctrl-C ends it at once.

Examples:
  qkbench sweep
  qkbench sweep --shapes 2048x4096 --kernels avx2-i8,go-i8 --threads 1,2 --count 20
  qkbench sweep --preset bitnet-2b --mode cold --format md
  qkbench sweep --kernels avx2lut-i8 --activations extreme   # its worst case: every q = ±127
  qkbench sweep --gguf model.gguf --out /tmp/model-run

Exit status: 0 every cell agreed; 1 a kernel disagreed or failed, a kernel
that --kernels names (or QKBENCH_REQUIRE lists) could not run, the run was
interrupted, or anything else failed; 2 a bad flag or argument.
`

// defaultRounds is --rounds' default: on a host whose speed flips, two
// back-to-back sweeps agreed on 78-93% of the ratios of paired samples to a
// ggml peer within ±5% with 5 passes (each preparing the kernels anew),
// 74-75% with 1 (docs/measurements.md; ratios now compare quiet times).
const defaultRounds = 5

// sweepFlags are the flags of sweep.
type sweepFlags struct {
	spec                   runSpec
	out, cpuprofile, label string
	count, rounds          int
	resample               int
	minTime, slice         time.Duration
	noProbe, quiet         bool
	format                 *formatFlag
}

// runSpec is what sweep and check share: the cells the flags choose and
// the workloads (generated, or a GGUF model's own matrices).
type runSpec struct {
	verb        string
	cells       cellFlags
	set         map[string]bool
	gguf        string
	allTensors  bool
	loadPlugins func() ([]kernels.Kernel, error)
	plugged     []kernels.Kernel // the --plugin libraries' kernels
}

// register adds the flags that choose cells and workloads.
func (sp *runSpec) register(fs *flag.FlagSet, d cellFlags) {
	sp.cells.register(fs, d)
	fs.StringVar(&sp.gguf, "gguf", "", "use the weight matrices of this GGUF `file` (real weights, generated x) as the workloads")
	fs.BoolVar(&sp.allTensors, "all-tensors", false, "with --gguf: every weight tensor, not each distinct shape once")
	sp.loadPlugins = pluginFlag(fs)
}

// resolve checks the flags after parsing.
func (sp *runSpec) resolve(fs *flag.FlagSet) error {
	sp.set = setFlags(fs)
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q; %s takes only flags", fs.Arg(0), sp.verb)}
	}
	var err error
	if sp.plugged, err = sp.loadPlugins(); err != nil {
		return err
	}
	if err := ggufExclusive(fs); err != nil {
		return err
	}
	if _, _, _, err := sp.cells.resolve(sp.set); err != nil {
		return err
	}
	if _, _, err := sp.cells.selectKernels(); err != nil {
		return err
	}
	if err := kernels.CheckDisable(); err != nil {
		return usageError{err}
	}
	for _, id := range kernels.Required() {
		if _, err := kernels.Lookup(id); err != nil {
			return fmt.Errorf("QKBENCH_REQUIRE names %q, which is not registered in this build", id)
		}
	}
	return nil
}

// build makes the Sweep (kernels, workloads, thread counts) and the Run
// that records it: configuration, machine and kernels.
func (sp *runSpec) build(stderr io.Writer) (*bench.Sweep, *reports.Run, error) {
	_, threads, cb, err := sp.cells.resolve(sp.set)
	if err != nil {
		return nil, nil, err
	}
	ks, infos, err := sp.cells.selectKernels()
	if err != nil {
		return nil, nil, err
	}
	run := &reports.Run{Schema: reports.Schema, Verb: sp.verb, Started: time.Now(), Kernels: infos, Required: kernels.Required()}
	sw, err := sp.workloads(cb, run, stderr)
	if err != nil {
		return nil, nil, err
	}
	run.Config = reports.Config{Preset: run.Config.Preset, Model: run.Config.Model, Layers: run.Config.Layers,
		Codebook: codebookOf(run.Workloads), Mode: sp.cells.mode, Threads: threads, Seed: sp.cells.seed, GGUF: sp.gguf}
	if sp.gguf == "" {
		run.Config.Activations = sp.cells.act.Tag()
	}
	run.Machine = *machine.Describe()
	s := &bench.Sweep{Kernels: ks, Workloads: sw, Threads: threads, Cold: sp.cells.mode == "cold", L3: run.Machine.L3}
	return s, run, nil
}

// workloads makes the run's workloads (each built when the sweep gets to
// it) and records them in run.
func (sp *runSpec) workloads(cb kernels.Codebook, run *reports.Run, stderr io.Writer) ([]bench.SweepWorkload, error) {
	if sp.gguf != "" {
		return ggufWorkloads(sp.verb, sp.gguf, sp.allTensors, sp.cells.seed, run, stderr)
	}
	p, _, _, err := sp.cells.resolve(sp.set)
	if err != nil {
		return nil, err
	}
	run.Config.Preset, run.Config.Model, run.Config.Layers = p.Name, p.Model, p.Layers
	var out []bench.SweepWorkload
	for _, s := range p.Shapes {
		// Generated when the sweep gets to it: one workload in memory at a time.
		spec := workloads.SpecFor(s, cb, sp.cells.seed)
		spec.Activations = sp.cells.act
		info := reports.WorkloadInfo{Name: s.String(), Shape: s.String(), Rows: s.Rows, Cols: s.Cols, Codebook: cb.Name(),
			Scale: spec.EffectiveScale(), Source: spec.Source(), Roles: s.Roles, PerLayer: s.PerLayer}
		run.Workloads = append(run.Workloads, info)
		out = append(out, bench.SweepWorkload{Load: func() (*workloads.Workload, error) { return workloads.Generate(spec) }, Info: info})
	}
	return out, nil
}

// verdict records in run what fails it (reports.Run.CellFailures, and a
// QKBENCH_REQUIRE kernel that --kernels left out and that cannot run here);
// errExit1 when there is any.
func verdict(run *reports.Run) error {
	run.Failures = run.CellFailures()
	for _, id := range run.Required {
		if run.Kernel(id).Backend != "" {
			continue // in the run: its cells speak for it
		}
		if k, err := kernels.Lookup(id); err == nil {
			if err := kernels.Usable(k); err != nil {
				run.Failures = append(run.Failures, fmt.Sprintf("%s, required by QKBENCH_REQUIRE, cannot run: %v", id, err))
			}
		}
	}
	if len(run.Failures) > 0 {
		return errExit1
	}
	return nil
}

func runSweep(args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlags("sweep", stderr)
	f := sweepFlags{spec: runSpec{verb: "sweep"}}
	d := defaultCells
	d.threads = "1,max"
	f.spec.register(fs, d)
	fs.IntVar(&f.count, "count", 10, "samples per cell")
	fs.IntVar(&f.rounds, "rounds", -1, "split the samples into this many passes over all workloads, each preparing the kernels anew, so that intervals include slow drift and where W landed in memory (default: 5, at most --count)")
	fs.IntVar(&f.resample, "resample", -1, "extra rounds at most, per workload, for cells whose samples are unstable (default: --count; 0: none)")
	fs.DurationVar(&f.minTime, "min-time", 50*time.Millisecond, "minimum `duration` of one sample")
	fs.DurationVar(&f.slice, "slice", 2*time.Millisecond, "take each sample in slices of this `duration`, interleaved with the other cells' slices, so that it spreads over its whole round (0, or half of --min-time or more: each sample whole)")
	fs.StringVar(&f.out, "out", "", "output `folder` (default: reports/runs/<time>-<host> in a qkbench checkout, which git ignores; qkbench-runs/<time>-<host> elsewhere)")
	fs.StringVar(&f.label, "label", "", "a `name` for this run where reports compare runs (a CI runner's kind, say); default: the host name")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile per cell into this `folder`")
	fs.BoolVar(&f.noProbe, "no-probe", false, "skip the machine probe (no roofline fractions)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress on stderr")
	f.format = addFormatFlag(fs)
	setUsage(fs, sweepUsage)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := f.spec.resolve(fs); err != nil {
		return err
	}
	if f.count < 1 || f.count > 1000 {
		return usageError{fmt.Errorf("--count %d: want 1..1000", f.count)}
	}
	if f.minTime <= 0 || f.minTime > time.Minute {
		return usageError{fmt.Errorf("--min-time %v: want a duration in (0, 1m]", f.minTime)}
	}
	if f.slice < 0 {
		return usageError{fmt.Errorf("--slice %v: want a duration of 0 or more", f.slice)}
	}
	if f.rounds == -1 {
		f.rounds = min(defaultRounds, f.count)
	}
	if f.rounds < 1 || f.rounds > f.count {
		return usageError{fmt.Errorf("--rounds %d: want 1..--count (%d)", f.rounds, f.count)}
	}
	if f.resample == -1 {
		f.resample = f.count
	}
	if f.resample < 0 || f.resample > 1000 {
		return usageError{fmt.Errorf("--resample %d: want 0..1000", f.resample)}
	}
	var prof *cellProfiler
	if f.cpuprofile != "" {
		if prof, err = newCellProfiler(f.cpuprofile); err != nil {
			return err
		}
	}
	// The output folder first: a bad --out is found before any workload is
	// built or measured.
	rd, err := runFolder(f.out)
	if err != nil {
		return err
	}
	defer rd.Close()
	dir := rd.Path
	s, run, err := f.spec.build(stderr)
	if err != nil {
		rd.Discard()
		return err
	}
	s.Count, s.MinTime, s.Passes, s.Resample, s.OrderSeed = f.count, f.minTime, f.rounds, f.resample, f.spec.cells.seed
	s.SliceTime = f.slice
	if f.slice == 0 {
		s.SliceTime = -1
	}
	if prof != nil {
		s.Profile = prof.sample
	}
	run.Config.Count, run.Config.MinTime = f.count, f.minTime.String()
	if st := s.Sliced(); st > 0 {
		run.Config.Slice = st.String()
	}
	run.Config.Rounds, run.Config.Resample = f.rounds, f.resample
	if !f.noProbe {
		s.Machine, run.Machine.Probe = machineProbe(stderr)
	}
	run.Command = strings.TrimSpace("qkbench sweep " + strings.Join(args, " "))
	run.Name = f.label
	if prof != nil {
		defer func() {
			if werr := prof.write(stderr); werr != nil && (err == nil || errors.Is(err, errExit1)) {
				if err == nil {
					fmt.Fprintf(stderr, "qkbench sweep: %v\n", werr)
				}
				err = errors.Join(err, werr)
			}
		}()
	}
	fmt.Fprintf(stderr, "qkbench sweep: %v; writing %s\n", s, dir)
	for _, w := range machineWarnings() {
		fmt.Fprintf(stderr, "qkbench sweep: warning: %s\n", w)
		run.Warnings = append(run.Warnings, w)
	}
	meter := bench.StartCPUMeter()
	cpu0 := bench.ProcessCPU()
	done := showProgress(s, "sweep", f.quiet, stderr)
	w := &throttledWriter{write: func(r *reports.Run) error { return writeRun(dir, r, false) }, every: hasPlugin(s.Kernels)}
	s.Finished = func(r *reports.Run) error {
		r.Finished = time.Now()
		return w.maybe(r)
	}
	interrupted, err := runInterruptibly(s, run)
	done()
	if err != nil {
		return err
	}
	if share, ok := meter.Other(bench.ProcessCPU() - cpu0); ok && share > 0.1 {
		w := fmt.Sprintf("other processes used %.0f%% of the machine's CPU time during the run", 100*share)
		fmt.Fprintf(stderr, "qkbench sweep: warning: %s\n", w)
		run.Warnings = append(run.Warnings, w)
	}
	verr := verdict(run)
	if err := writeRun(dir, run, true); err != nil {
		return err
	}
	if err := printRun(stdout, run, run.ResultsTable(), f.format.get()); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "qkbench sweep: wrote %s: results.txt (benchstat), receipt.json, report.md and charts\n", dir)
	if interrupted {
		fmt.Fprintf(stderr, "qkbench sweep: interrupted; %s holds the %d finished cells and says the run is partial\n", dir, len(run.Cells))
		return errExit1
	}
	for _, f := range run.Failures {
		fmt.Fprintf(stderr, "qkbench sweep: FAIL %s\n", f)
	}
	return verr
}

// machineWarnings looks at the machine before a run: other processes busy
// on its CPUs, a CPU frequency governor that scales the clock.
func machineWarnings() []string {
	var out []string
	if w := bench.BusyWarning(context.Background(), 300*time.Millisecond); w != "" {
		out = append(out, w)
	}
	if g := bench.Governor(); g != "" && g != "performance" {
		out = append(out, fmt.Sprintf("the CPU frequency governor is %q: the clock follows the load, and timings with it", g))
	}
	return out
}

// runInterruptibly runs the sweep until it ends or the first Ctrl-C (or
// SIGTERM) stops it within about a second, keeping what it finished; a
// second signal ends the process at once (every finished workload is
// already on disk). It reports whether the run was interrupted, and
// records that and the end time in run.
func runInterruptibly(s *bench.Sweep, run *reports.Run) (interrupted bool, err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	run.Partial = true
	err = s.Run(ctx, run)
	stop() // a second Ctrl-C now ends the process, even while the last files are written
	interrupted = errors.Is(err, bench.ErrInterrupted)
	if err != nil && !interrupted {
		return false, err
	}
	run.Partial = interrupted
	run.Finished = time.Now()
	return interrupted, nil
}

// printRun prints a sweep's or a check's result on stdout in the format
// asked for: t as a table (fitted to the terminal, or to 120 columns) or as
// Markdown, every cell as CSV, or the receipt as JSON.
func printRun(stdout io.Writer, run *reports.Run, t *reports.Table, f reports.Format) error {
	switch f {
	case reports.FormatJSON:
		b, err := reports.MarshalJSON(run)
		if err != nil {
			return err
		}
		_, err = stdout.Write(b)
		return err
	case reports.FormatCSV:
		return run.CellsTable().CSV(stdout)
	}
	return t.Write(stdout, f, terminalWidth(stdout))
}

// throttledWriter writes the run after a workload only when the last write
// is older than 1 s and ten times what that write took: every file is
// rewritten whole, so writing after each of 1600 small workloads made a
// sweep quadratic. Writing costs at most a tenth of the run, and a killed
// run loses at most the last second or so of work (an interrupted one
// loses nothing: the final write follows).
//
// With a plugin kernel in the sweep it writes after every workload: a fault
// in a plugin's C code kills the process at once, and must not take the
// finished workloads with it.
type throttledWriter struct {
	write    func(*reports.Run) error
	every    bool // write after every workload
	last     time.Time
	lastTook time.Duration
	writes   int // for tests
}

func (t *throttledWriter) maybe(r *reports.Run) error {
	if !t.every && !t.last.IsZero() && time.Since(t.last) < max(time.Second, 10*t.lastTook) {
		return nil
	}
	t0 := time.Now()
	err := t.write(r)
	t.last, t.lastTook = time.Now(), time.Since(t0)
	t.writes++
	return err
}

// hasPlugin reports whether a kernel of ks was loaded from a plugin.
func hasPlugin(ks []kernels.Kernel) bool {
	for _, k := range ks {
		if k.Info().Library != nil {
			return true
		}
	}
	return false
}

// runFolder takes the folder a sweep writes: the one --out names (refused
// when it holds another run or another sweep writes there), or a new one
// under outputRoot.
func runFolder(out string) (*rundir.Dir, error) {
	if out != "" {
		d, err := rundir.Use(out)
		if err != nil {
			return nil, usageError{fmt.Errorf("--out: %w", err)}
		}
		return d, nil
	}
	host, _ := os.Hostname()
	return rundir.New(filepath.Join(outputRoot(), time.Now().Format("20060102-150405")+"-"+host))
}

// outputRoot is where runs and reports go without --out: the checkout's
// reports/runs, which git ignores (a sweep in a clean checkout leaves it
// clean, and the next run's receipt says so), when the working directory
// is inside a qkbench checkout; else qkbench-runs in the working directory.
func outputRoot() string {
	if root := machine.CheckoutRoot(); root != "" {
		return filepath.Join(root, "reports", "runs")
	}
	return "qkbench-runs"
}

// writeRun writes results.txt, report.md (and, when final, the plots) and
// receipt.json into dir, each atomically. The receipt goes last: it is the
// record of the run (qkbench report DIR renders the others from it again),
// and results.txt says partial: true until the run's last write.
func writeRun(dir string, run *reports.Run, final bool) error {
	var res bytes.Buffer
	if err := run.WriteBenchfmt(&res); err != nil {
		return err
	}
	if err := reports.WriteFileAtomic(filepath.Join(dir, "results.txt"), res.Bytes()); err != nil {
		return err
	}
	var plots []reports.Plot
	if final {
		var err error
		if plots, err = run.Plots(); err != nil {
			return err
		}
		if plots, err = reports.SavePlots(dir, plots); err != nil {
			fmt.Fprintf(os.Stderr, "qkbench sweep: %v\n", err) // the results stand without the chart
		}
	}
	var md bytes.Buffer
	if err := run.WriteMarkdown(&md, plots); err != nil {
		return err
	}
	if err := reports.WriteFileAtomic(filepath.Join(dir, "report.md"), md.Bytes()); err != nil {
		return err
	}
	return reports.WriteJSON(filepath.Join(dir, "receipt.json"), run)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
