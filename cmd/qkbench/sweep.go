package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/qkbench/qkbench/bench"
	"github.com/qkbench/qkbench/bench/probe"
	"github.com/qkbench/qkbench/internal/rundir"
	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/reports"
	"github.com/qkbench/qkbench/workloads"
)

func init() {
	verbs["sweep"] = verb{summary: "measure kernels × shapes × threads; write results.txt, receipt.json, report.md and plots", run: runSweep}
}

// sweepFlags are the flags of sweep (profile shares most of them).
type sweepFlags struct {
	preset, shapes, kernels, threads, mode, codebook, gguf, out, cpuprofile string
	count                                                                   int
	minTime                                                                 time.Duration
	seed                                                                    uint64
	allTensors, noProbe, quiet                                              bool
}

func runSweep(args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlags("sweep", stderr)
	var f sweepFlags
	fs.StringVar(&f.preset, "preset", "", "workload preset: "+strings.Join(workloads.PresetNames(), ", ")+" (default \"default\")")
	fs.StringVar(&f.shapes, "shapes", "", "comma list of ROWSxCOLS shapes (instead of --preset)")
	fs.StringVar(&f.kernels, "kernels", "all", "comma list of kernel ids, \"all\" or \"available\"")
	fs.StringVar(&f.threads, "threads", "", "comma list of thread counts, or \"all\" for 1..NumCPU (default 1 and NumCPU)")
	fs.IntVar(&f.count, "count", 10, "samples per cell")
	fs.DurationVar(&f.minTime, "min-time", 50*time.Millisecond, "minimum duration of one sample")
	fs.StringVar(&f.mode, "mode", "hot", "hot (same W every GEMV) or cold (rotate copies larger than the last-level cache)")
	fs.StringVar(&f.codebook, "codebook", "qk256", "codebook: qk256, ternary or four values in [-2, 2]")
	fs.Uint64Var(&f.seed, "seed", workloads.DefaultSeed, "workload generator seed")
	fs.StringVar(&f.gguf, "gguf", "", "use this GGUF model's weight matrices as the workloads")
	fs.BoolVar(&f.allTensors, "all-tensors", false, "with --gguf: every tensor, not each distinct shape once")
	fs.StringVar(&f.out, "out", "", "output folder (default reports/runs/<time>-<host>)")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile per cell into this folder")
	fs.BoolVar(&f.noProbe, "no-probe", false, "skip the machine probe (no roofline fractions)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	loadPlugins := pluginFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if _, err := loadPlugins(); err != nil {
		return err
	}
	if err := ggufExclusive(fs); err != nil {
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
	// The output folder first: a bad --out is found before any workload is
	// built or measured.
	rd, err := runFolder(f.out)
	if err != nil {
		return err
	}
	defer rd.Close()
	dir := rd.Path
	s, run, err := f.build(stderr)
	if err != nil {
		rd.Discard()
		return err
	}
	run.Command = "qkbench sweep " + strings.Join(args, " ")
	if f.cpuprofile != "" {
		prof, err := newCellProfiler(f.cpuprofile)
		if err != nil {
			return err
		}
		s.Profile = prof.sample
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

	var bar *progressbar.ProgressBar
	if !f.quiet && isTerminal(stderr) {
		bar = progressbar.NewOptions(s.Steps(), progressbar.OptionSetWriter(stderr), progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionClearOnFinish(),
			progressbar.OptionSetDescription("sweep"))
		s.Progress = func(done, total int, what string) {
			bar.Describe(fmt.Sprintf("%-18s", truncate(what, 18)))
			bar.Set(done)
		}
	}
	w := &throttledWriter{write: func(r *reports.Run) error { return writeRun(dir, r, false) }, every: hasPlugin(s.Kernels)}
	s.Finished = func(r *reports.Run) error {
		r.Finished = time.Now()
		return w.maybe(r)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal the sweep stops within about a second and
		// writes what it finished; a second signal ends the process at once
		// (every finished workload is already on disk).
		<-ctx.Done()
		stop()
	}()
	run.Partial = true
	err = s.Run(ctx, run)
	stop() // a second Ctrl-C now ends the process, even while the last files are written
	if bar != nil {
		bar.Finish()
	}
	interrupted := errors.Is(err, bench.ErrInterrupted)
	if err != nil && !interrupted {
		return err
	}
	run.Partial = interrupted
	run.Finished = time.Now()
	if err := writeRun(dir, run, true); err != nil {
		return err
	}
	if err := reports.WriteTable(stdout, reports.Header, run.Rows()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nWrote %s: results.txt (benchstat), receipt.json, report.md and plots.\n", dir)
	if interrupted {
		fmt.Fprintf(stderr, "qkbench sweep: interrupted; %s holds the %d finished cells and says the run is partial\n", dir, len(run.Cells))
		return errExit1
	}
	return sweepVerdict(run, f.kernels, stderr)
}

// sweepVerdict returns errExit1 when a kernel disagreed or errored, or when a
// kernel the user named (or QKBENCH_REQUIRE lists) could not run, including
// a required kernel that --kernels available left out.
func sweepVerdict(run *reports.Run, list string, stderr io.Writer) error {
	bad := 0
	if err := kernels.CheckRequired(); err != nil {
		bad++
		fmt.Fprintf(stderr, "qkbench sweep: %v\n", err)
	}
	named := map[string]bool{}
	if list != "all" && list != "available" {
		for _, id := range strings.Split(list, ",") {
			named[strings.TrimSpace(id)] = true
		}
	}
	for _, id := range kernels.Required() {
		named[id] = true
	}
	for _, c := range run.Cells {
		switch {
		case c.Status == reports.StatusFailed || c.Status == reports.StatusError:
		case c.Status != reports.StatusOK && named[c.Kernel]:
		default:
			continue
		}
		bad++
		fmt.Fprintf(stderr, "qkbench sweep: %s on %s (%d threads): %s: %s\n", c.Kernel, c.Workload, c.Threads, c.Status, c.Reason)
	}
	if bad > 0 {
		return errExit1
	}
	return nil
}

// build resolves the flags into a Sweep and an empty Run.
func (f *sweepFlags) build(stderr io.Writer) (*bench.Sweep, *reports.Run, error) {
	ks, err := kernels.Select(f.kernels)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("--kernels: %w", err)}
	}
	cb, err := kernels.ParseCodebook(f.codebook)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("--codebook: %w", err)}
	}
	threads, err := parseThreadList(f.threads)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("--threads: %w", err)}
	}
	if f.count < 1 || f.count > 1000 {
		return nil, nil, usageError{fmt.Errorf("--count %d: want 1..1000", f.count)}
	}
	if f.minTime <= 0 || f.minTime > time.Minute {
		return nil, nil, usageError{fmt.Errorf("--min-time %v: want a duration in (0, 1m]", f.minTime)}
	}
	if f.mode != "hot" && f.mode != "cold" {
		return nil, nil, usageError{fmt.Errorf("--mode %q: want hot or cold", f.mode)}
	}
	if f.preset != "" && f.shapes != "" {
		return nil, nil, usageError{errors.New("--preset and --shapes: give one of them")}
	}
	run := &reports.Run{Schema: reports.Schema, Started: time.Now()}
	sw, err := f.workloads(cb, run, stderr)
	if err != nil {
		return nil, nil, err
	}
	run.Config = reports.Config{Preset: run.Config.Preset, Model: run.Config.Model, Layers: run.Config.Layers,
		Codebook: codebookOf(run.Workloads), Mode: f.mode, Threads: threads, Count: f.count, MinTime: f.minTime.String(), Seed: f.seed, GGUF: f.gguf}
	run.Machine = describeMachine()
	var pm *probe.Machine
	if !f.noProbe {
		pm, run.Machine.Probe = machineProbe(stderr)
	}
	for _, k := range ks {
		i := k.Info()
		ki := reports.KernelInfo{ID: i.ID, Backend: i.Backend, ISA: i.ISA, Mode: i.Mode.String(), Code: i.Code, Available: true}
		if i.Library != nil {
			ki.Library, ki.LibrarySHA256 = i.Library.Path, i.Library.SHA256
		}
		if err := kernels.Usable(k); err != nil {
			ki.Available, ki.Reason = false, err.Error()
		}
		run.Kernels = append(run.Kernels, ki)
	}
	s := &bench.Sweep{Kernels: ks, Workloads: sw, Threads: threads, Count: f.count, MinTime: f.minTime,
		Cold: f.mode == "cold", L3: run.Machine.L3, Machine: pm}
	return s, run, nil
}

// workloads generates the sweep's workloads and records them in run.
func (f *sweepFlags) workloads(cb kernels.Codebook, run *reports.Run, stderr io.Writer) ([]bench.SweepWorkload, error) {
	if f.gguf != "" {
		return ggufWorkloads(f.gguf, f.allTensors, f.seed, run, stderr)
	}
	p, err := workloads.Resolve(f.preset, f.shapes)
	if err != nil {
		return nil, usageError{err}
	}
	run.Config.Preset, run.Config.Model, run.Config.Layers = p.Name, p.Model, p.Layers
	var out []bench.SweepWorkload
	for _, s := range p.Shapes {
		// Generated when the sweep gets to it: one workload in memory at a time.
		spec := workloads.SpecFor(s, cb, f.seed)
		info := reports.WorkloadInfo{Name: s.String(), Shape: s.String(), Rows: s.Rows, Cols: s.Cols, Codebook: cb.Name(),
			Scale: spec.EffectiveScale(), Source: spec.Source(), Roles: s.Roles, PerLayer: s.PerLayer}
		run.Workloads = append(run.Workloads, info)
		out = append(out, bench.SweepWorkload{Load: func() (*workloads.Workload, error) { return workloads.Generate(spec) }, Info: info})
	}
	return out, nil
}

// parseThreadList reads "1,2", "all" (1..NumCPU) or "" (1 and NumCPU).
func parseThreadList(s string) ([]int, error) {
	n := runtime.NumCPU()
	switch strings.TrimSpace(s) {
	case "":
		if n == 1 {
			return []int{1}, nil
		}
		return []int{1, n}, nil
	case "all":
		var out []int
		for i := 1; i <= n; i++ {
			out = append(out, i)
		}
		return out, nil
	}
	return bench.ParseThreads(s)
}

// describeMachine converts bench.Describe into the receipt's machine.
func describeMachine() reports.Machine {
	m := bench.Describe()
	host := m.Hostname
	dirty := m.Dirty != nil && *m.Dirty
	return reports.Machine{
		Host: host, CPU: m.CPU, Vendor: m.Vendor, Family: m.Family, Model: m.Model, Features: m.Features,
		Cores: m.PhysicalCores, Threads: m.LogicalCores, L1D: int64(m.L1D), L2: int64(m.L2), L3: int64(m.L3),
		OS: m.OS, Arch: m.Arch, GoVersion: m.GoVersion, CC: m.CC, Commit: m.Commit, Dirty: dirty,
	}
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
// under reports/runs.
func runFolder(out string) (*rundir.Dir, error) {
	if out != "" {
		d, err := rundir.Use(out)
		if err != nil {
			return nil, usageError{fmt.Errorf("--out: %w", err)}
		}
		return d, nil
	}
	host, _ := os.Hostname()
	return rundir.New(filepath.Join("reports", "runs", time.Now().Format("20060102-150405")+"-"+host))
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
