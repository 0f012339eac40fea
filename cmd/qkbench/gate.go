package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/qkbench/qkbench/bench"
	"github.com/qkbench/qkbench/gate"
	"github.com/qkbench/qkbench/kernels/cgo"
	"github.com/qkbench/qkbench/kernels/plugin"
	"github.com/qkbench/qkbench/reports"
)

func init() {
	verbs["gate"] = verb{summary: "regression gate: time two revisions paired and interleaved, fail on a confirmed slowdown", run: runGate}
}

const gateUsage = `Usage: qkbench gate --base REV [--head REV] [flags]
       qkbench gate --files BASE.txt HEAD.txt [flags]

Builds qkbench at two revisions of this git checkout (head: the working tree,
uncommitted changes included, unless --head is given), checks that each
build's kernels agree with the references, then times every cell (kernel ×
shape × threads) of both builds in pairs interleaved in time: each build
runs as a long-lived sample server and the gate asks them for short samples
in the order ABBA or BAAB, chosen at random per pair, so that a change of
the host's speed hits both halves of a pair alike. Each cell is judged on
its paired log-ratios head/base (Hodges–Lehmann estimate with the Wilcoxon
signed-rank interval), sampled by a plan fixed in advance and stopped once
its interval decides it:

  regressed     head/base above 1+threshold, interval above 1+margin, and
                significant after Holm's correction across the cells; then
                measured again with fresh processes: only a confirmed
                regression fails the gate
  improved      the same, the other way
  same          the interval lies within ±threshold
  inconclusive  anything else (fails only with --strict)

--files compares existing Go benchmark result files (sweep's results.txt,
go test -bench output) unpaired (Mann–Whitney U, Holm, threshold): weaker,
because separate runs on a shared machine differ by more than their noise.

Builds of commits are cached (in %s) by commit and build settings.

Examples:
  qkbench gate --base main
  qkbench gate --base HEAD~1 --head HEAD --kernels avx2-i8,avx512lut-i8 --threshold 15%%
  qkbench gate --base v1.0 --preset bitnet-2b --threads 1,2 --out /tmp/gate
  qkbench gate --base main --kernels avx2lut-i8 --activations extreme
  qkbench gate --files old/results.txt new/results.txt
  qkbench gate --base-bin qkbench --head-bin qkbench \
      --base-plugin old/libmine.so --head-plugin new/libmine.so --kernels mine-i8

Exit status: 0 pass; 1 a confirmed regression (or, with --strict, an
inconclusive cell); 2 a bad flag, a build that fails, a kernel that disagrees
with the references or cannot run in one build, or an interrupted gate.

Flags:
`

// gateFlags are the flags of gate (calibrate shares most of them).
type gateFlags struct {
	cells              cellFlags
	sampleTime         time.Duration
	strict, noConfirm  bool
	out                string
	quiet              bool
	orderSeed          uint64
	base, head         string
	baseBin, headBin   string
	files              bool
	plugins            [3]pluginPaths // base only, head only, both
	threshold, margin  float64
	minPairs, maxPairs int
	looks              int
	alpha              float64
	set                map[string]bool
}

// register adds the flags shared by gate and calibrate.
func (g *gateFlags) register(fs *flag.FlagSet) {
	g.cells.register(fs, cellFlags{kernels: "available", preset: "seed", threads: "1", codebook: "ternary", mode: "hot", activations: defaultCells.activations})
	d := gate.DefaultOptions
	fractionVar(fs, &g.threshold, "threshold", d.Threshold, 0, 1, "smallest head/base slowdown that fails a cell, e.g. 5%")
	fractionVar(fs, &g.margin, "margin", d.Margin, -1e-12, 1, "a regressed cell's interval must lie above 1+margin")
	fs.Float64Var(&g.alpha, "alpha", d.Alpha, "family-wise error rate of the significance tests across cells (Holm)")
	fs.IntVar(&g.minPairs, "min-pairs", d.MinPairs, "pairs before a cell is first judged")
	fs.IntVar(&g.maxPairs, "max-pairs", d.MaxPairs, "most pairs per cell")
	fs.IntVar(&g.looks, "looks", d.Looks, "judgements per cell between min-pairs and max-pairs (the plan)")
	fs.DurationVar(&g.sampleTime, "sample-time", 2*time.Millisecond, "length of one sample (a pair is four)")
	fs.BoolVar(&g.noConfirm, "no-confirm", false, "do not measure regressed cells again with fresh processes")
	fs.StringVar(&g.out, "out", "", "write base.txt, head.txt (benchfmt), verdict.json and summary.md into this folder")
	fs.BoolVar(&g.quiet, "quiet", false, "no progress lines")
	fs.Uint64Var(&g.orderSeed, "order-seed", 0, "seed of the random pair orders (default: random)")
	fs.Var(&g.plugins[2], "plugin", "load kernels from this shared library in both builds (repeatable)")
}

// options checks the decision flags.
func (g *gateFlags) options() (gate.Options, error) {
	o := gate.Options{Threshold: g.threshold, Margin: g.margin, Alpha: g.alpha, MinPairs: g.minPairs, MaxPairs: g.maxPairs, Looks: g.looks}
	if err := o.Validate(); err != nil {
		return o, usageError{err}
	}
	if g.sampleTime < 500*time.Microsecond || g.sampleTime > 10*time.Second {
		return o, usageError{fmt.Errorf("--sample-time %v: want 500µs..10s", g.sampleTime)}
	}
	return o, nil
}

func (g *gateFlags) rng() *rand.Rand {
	seed := g.orderSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	return rand.New(rand.NewPCG(seed, 0x9a7e))
}

func runGate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gate", stderr)
	var g gateFlags
	g.register(fs)
	fs.StringVar(&g.base, "base", "", "base revision (a commit, branch or tag of this checkout)")
	fs.StringVar(&g.head, "head", "", "head revision (default: the working tree, uncommitted changes included)")
	fs.BoolVar(&g.files, "files", false, "compare two benchmark result files (BASE.txt HEAD.txt) instead, unpaired")
	fs.BoolVar(&g.strict, "strict", false, "an inconclusive cell fails the gate too")
	fs.StringVar(&g.baseBin, "base-bin", "", "use this qkbench executable as the base build instead of building --base")
	fs.StringVar(&g.headBin, "head-bin", "", "use this qkbench executable as the head build")
	fs.Var(&g.plugins[0], "base-plugin", "load kernels from this library in the base build only (repeatable): to gate two builds of your plugin")
	fs.Var(&g.plugins[1], "head-plugin", "load kernels from this library in the head build only (repeatable)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), gateUsage, gate.DefaultCacheDir())
		printFlags(fs.Output(), fs)
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	g.set = setFlags(fs)
	o, err := g.options()
	if err != nil {
		return err
	}
	if g.files {
		if fs.NArg() != 2 {
			return usageError{fmt.Errorf("--files wants two result files, BASE.txt HEAD.txt; got %d arguments", fs.NArg())}
		}
		if g.base != "" || g.head != "" {
			return usageError{errors.New("--files compares files: --base and --head do not apply")}
		}
		return gateFiles(fs.Arg(0), fs.Arg(1), o, &g, args, stdout, stderr)
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q (revisions go in --base and --head)", fs.Arg(0))}
	}
	if g.base == "" && g.baseBin == "" {
		return usageError{errors.New("give --base REV (the revision to compare against), or --files BASE.txt HEAD.txt")}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tmp, err := os.MkdirTemp("", "qkbench-gate-")
	if err != nil {
		return exit2Error{err}
	}
	defer os.RemoveAll(tmp)
	builds, infos, err := g.buildBoth(ctx, tmp, stderr)
	if err != nil {
		if errors.As(err, new(usageError)) {
			return err
		}
		return exit2Error{err}
	}
	rep, sess, err := gateRun(ctx, &g, o, builds, infos, stderr)
	stop()
	if rep == nil {
		return err
	}
	rep.Command = "qkbench gate " + strings.Join(args, " ")
	if werr := writeGate(stdout, stderr, g.out, rep, sess); werr != nil && err == nil {
		err = exit2Error{werr}
	}
	if err != nil {
		return err
	}
	if !rep.Pass {
		return errExit1
	}
	return nil
}

// pluginEnv returns the QKBENCH_PLUGINS setting of one side's server: the
// absolute paths of its --plugin and --base-plugin/--head-plugin libraries.
func (g *gateFlags) pluginEnv(side gate.Side) (string, error) {
	var abs []string
	for _, p := range append(append([]string(nil), g.plugins[2]...), g.plugins[side]...) {
		a, err := filepath.Abs(p)
		if err == nil {
			_, err = os.Stat(a)
		}
		if err != nil {
			return "", usageError{fmt.Errorf("plugin: %w", err)}
		}
		abs = append(abs, a)
	}
	return strings.Join(abs, string(filepath.ListSeparator)), nil
}

// buildBoth builds (or takes, with --base-bin/--head-bin) the two sides.
func (g *gateFlags) buildBoth(ctx context.Context, tmp string, stderr io.Writer) ([2]gate.Build, [2]gate.BuildInfo, error) {
	var builds [2]gate.Build
	var infos [2]gate.BuildInfo
	env := serverEnv()
	var b *gate.Builder
	for side, rev := range [2]string{g.base, g.head} {
		label := gate.Side(side).String()
		plugins, err := g.pluginEnv(gate.Side(side))
		if err != nil {
			return builds, infos, err
		}
		env := append(withoutEnv(env, plugin.EnvVar), plugin.EnvVar+"="+plugins)
		bin := [2]string{g.baseBin, g.headBin}[side]
		dir := filepath.Join(tmp, label)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return builds, infos, err
		}
		if bin != "" {
			abs, err := filepath.Abs(bin)
			if err != nil {
				return builds, infos, err
			}
			builds[side] = gate.Build{Label: label, Rev: bin, ID: bin, Bin: abs, Dir: dir, Env: env}
			infos[side] = gate.BuildInfo{Rev: bin}
			continue
		}
		if b == nil {
			wd, _ := os.Getwd()
			root, err := gate.RepoRoot(wd)
			if err != nil {
				return builds, infos, err
			}
			b = &gate.Builder{Root: root, CacheDir: gate.DefaultCacheDir(), Log: stderr, MaxCached: 16}
		}
		if rev == "" {
			rev = gate.WorkingTree
		}
		t0 := time.Now()
		path, id, cached, err := b.Build(ctx, rev, tmp)
		if err != nil {
			return builds, infos, err
		}
		how := fmt.Sprintf("built in %.1f s", time.Since(t0).Seconds())
		if cached {
			how = "cached build"
		}
		fmt.Fprintf(stderr, "qkbench gate: %s %s (%s): %s\n", label, rev, shortID(id), how)
		builds[side] = gate.Build{Label: label, Rev: rev, ID: id, Bin: path, Dir: dir, Env: env}
		infos[side] = gate.BuildInfo{Rev: rev, Commit: id, Cached: cached}
	}
	return builds, infos, nil
}

func shortID(id string) string {
	if len(id) == 40 {
		return id[:12]
	}
	return id
}

// serverEnv is the sample servers' environment: the gate's own, with the
// ggml peers' folder made absolute (the servers run in other folders).
func serverEnv() []string {
	env := os.Environ()
	if os.Getenv("QKBENCH_GGML_DIR") == "" {
		if d, err := cgo.GGMLDir(); err == nil {
			if abs, err := filepath.Abs(d); err == nil {
				env = append(env, "QKBENCH_GGML_DIR="+abs)
			}
		}
	}
	return env
}

// gateRun asks both builds which kernels they have, chooses the cells,
// checks them, and judges them. The report is nil only when nothing could
// be measured at all (the error says why).
func gateRun(ctx context.Context, g *gateFlags, o gate.Options, builds [2]gate.Build, infos [2]gate.BuildInfo, stderr io.Writer) (*gate.Report, *gate.Session, error) {
	if _, _, _, err := g.cells.resolve(g.set); err != nil {
		return nil, nil, err
	}
	rep := &gate.Report{Schema: gate.ReportSchema, Started: time.Now(), Base: infos[0], Head: infos[1], Method: "paired",
		Options: gate.ReportOpts{Threshold: o.Threshold, Margin: o.Margin, Alpha: o.Alpha, MinPairs: o.MinPairs, MaxPairs: o.MaxPairs,
			Looks: o.Plan(), Level: o.Level(), SampleTime: g.sampleTime.String(), Confirm: !g.noConfirm, Strict: g.strict}}
	sess, groups, err := gateCells(ctx, g, builds, rep, stderr)
	if err != nil {
		return nil, nil, err
	}
	n := 0
	for _, grp := range groups {
		n += len(grp)
	}
	fmt.Fprintf(stderr, "qkbench gate: timing %d cells, %s samples, pairs per cell %v\n", n, g.sampleTime, o.Plan())
	warn := func(w string) {
		if w != "" {
			rep.Warnings = append(rep.Warnings, w)
			fmt.Fprintf(stderr, "qkbench gate: %s\n", w)
		}
	}
	warn(bench.BusyWarning(ctx, 300*time.Millisecond))
	progress := gateProgress(sess, o, g.quiet, stderr)
	meter := bench.StartCPUMeter()
	self := bench.ProcessCPU()
	j, err := gate.Judge(ctx, sess.Open, groups, o, !g.noConfirm, g.rng(), progress)
	rep.Finished = time.Now()
	rep.Cells = gate.CellReports(sess, j)
	if share, ok := meter.Other(sess.OwnCPU() + bench.ProcessCPU() - self); ok && share > 0.1 {
		warn(fmt.Sprintf("other processes used %.0f%% of the machine's CPU time while the gate sampled: pairing keeps the verdicts fair, but the intervals are wider", 100*share))
	}
	warn(busyWarning(rep.Cells))
	rep.Partial = j.Interrupted
	rep.Pass = true
	for _, c := range rep.Cells {
		if gate.Fails(c.Verdict, g.strict) {
			rep.Pass = false
		}
	}
	switch {
	case err != nil && ctx.Err() != nil:
		rep.Pass, rep.Status = false, 2
		return rep, sess, exit2Error{errors.New("interrupted; the verdicts of unfinished cells are inconclusive")}
	case err != nil:
		rep.Pass, rep.Status = false, 2
		return rep, sess, exit2Error{err}
	case !rep.Pass:
		rep.Status = 1
	}
	return rep, sess, nil
}

// gateCells asks both builds which kernels they have, chooses the cells
// (kernels × shapes × threads of the flags) and has both builds check them;
// it records skipped cells and test-hook warnings in rep. The groups hold
// the cells to time, one group per shape.
func gateCells(ctx context.Context, g *gateFlags, builds [2]gate.Build, rep *gate.Report, stderr io.Writer) (*gate.Session, [][]int, error) {
	preset, threads, cb, err := g.cells.resolve(g.set)
	if err != nil {
		return nil, nil, err
	}
	var hello [2][]gate.ServerKernel
	for side, b := range builds {
		s, err := gate.StartServer(ctx, b.Label+" ("+b.Rev+")", b.Bin, b.Dir, b.Env)
		if err != nil {
			return nil, nil, exit2Error{err}
		}
		hello[side] = s.Hello.Kernels
		if side == 0 {
			rep.Base.Go = s.Hello.Go
		} else {
			rep.Head.Go = s.Hello.Go
		}
		s.Close()
	}
	ids, skipped, err := chooseKernels(g.cells.kernels, hello)
	if err != nil {
		return nil, nil, exit2Error{err}
	}
	for _, s := range skipped {
		rep.Skipped = append(rep.Skipped, s)
	}
	if len(ids) == 0 {
		return nil, nil, exit2Error{errors.New("no kernel can run in both builds")}
	}
	sess := &gate.Session{Builds: builds, SampleTime: g.sampleTime}
	var groups [][]int
	for _, sh := range preset.Shapes {
		var grp []int
		for _, id := range ids {
			for _, th := range threads {
				grp = append(grp, len(sess.Cells))
				sess.Cells = append(sess.Cells, gate.CellSpec{Kernel: id, Shape: sh.String(), Rows: sh.Rows, Cols: sh.Cols, Threads: th,
					Codebook: cb.Name(), Mode: g.cells.mode, Seed: g.cells.seed, Activations: string(g.cells.act)})
			}
		}
		groups = append(groups, grp)
	}
	fmt.Fprintf(stderr, "qkbench gate: checking %d cells in both builds\n", len(sess.Cells))
	if err := sess.Check(ctx, groups); err != nil {
		return nil, nil, exit2Error{err}
	}
	var bad []string
	named := g.cells.kernels != "all" && g.cells.kernels != "available"
	for gi, grp := range groups {
		groups[gi] = slices.DeleteFunc(grp, func(c int) bool {
			spec := sess.Cells[c]
			for side := range 2 {
				st := sess.Setup[side][c]
				switch {
				case st.Status == "ok":
					continue
				case st.Status == "unsupported" && !named:
					rep.Skipped = append(rep.Skipped, gate.Skipped{Kernel: spec.Kernel, Shape: spec.Shape, Threads: spec.Threads,
						Reason: fmt.Sprintf("%s build: %s", gate.Side(side), st.Reason)})
				default:
					bad = append(bad, fmt.Sprintf("%s build: %s on %s (%d threads): %s: %s", gate.Side(side), spec.Kernel, spec.Shape, spec.Threads, st.Status, st.Reason))
				}
				return true
			}
			return false
		})
	}
	if len(bad) > 0 {
		return nil, nil, exit2Error{fmt.Errorf("cannot gate: %d cells failed their checks:\n  %s", len(bad), strings.Join(bad, "\n  "))}
	}
	for c := range sess.Cells {
		if f := sess.Setup[gate.Head][c].Slowdown + sess.Setup[gate.Base][c].Slowdown; f > 0 {
			w := fmt.Sprintf("TEST HOOK ON: %s's %s is slowed by %.3g%% on purpose (%s)", map[bool]string{true: "head", false: "base"}[sess.Setup[gate.Head][c].Slowdown > 0],
				sess.Cells[c].Kernel, 100*f, gate.EnvSlowdown)
			if !slices.Contains(rep.Warnings, w) {
				rep.Warnings = append(rep.Warnings, w)
				fmt.Fprintf(stderr, "qkbench gate: %s\n", w)
			}
		}
	}
	return sess, groups, nil
}

// busyWarning says how busy the machine was, when it was: how many tries
// of pairs were thrown away because another process had the core during a
// sample.
func busyWarning(cells []gate.CellReport) string {
	pairs, retakes, disturbed := 0, 0, 0
	for _, c := range cells {
		pairs += c.Pairs
		retakes += c.Retakes
		disturbed += c.Disturbed
	}
	if pairs == 0 || retakes < pairs/10 && disturbed == 0 {
		return ""
	}
	w := fmt.Sprintf("the machine was busy: %d tries of pairs were thrown away (%.0f%% of the %d kept) because another process had the core during a sample",
		retakes, 100*float64(retakes)/float64(pairs), pairs)
	if disturbed > 0 {
		w += fmt.Sprintf("; %d pairs stayed disturbed after %d tries and were kept", disturbed, gate.MaxRetakes+1)
	}
	return w
}

// chooseKernels picks the kernels to gate from what each build has: for
// "available", those available in both; for "all", every kernel either
// knows (the others are skipped with the reason); a named kernel must be
// available in both.
func chooseKernels(list string, hello [2][]gate.ServerKernel) ([]string, []gate.Skipped, error) {
	find := func(side int, id string) *gate.ServerKernel {
		for i := range hello[side] {
			if hello[side][i].ID == id {
				return &hello[side][i]
			}
		}
		return nil
	}
	why := func(id string) string {
		for side := range 2 {
			k := find(side, id)
			if k == nil {
				return fmt.Sprintf("not in the %s build", gate.Side(side))
			}
			if !k.Available {
				return fmt.Sprintf("unavailable in the %s build: %s", gate.Side(side), k.Reason)
			}
		}
		return ""
	}
	var ids []string
	var skipped []gate.Skipped
	switch strings.TrimSpace(list) {
	case "available", "all", "":
		seen := map[string]bool{}
		for _, side := range []int{1, 0} {
			for _, k := range hello[side] {
				if seen[k.ID] {
					continue
				}
				seen[k.ID] = true
				if w := why(k.ID); w != "" {
					if list == "all" || find(0, k.ID) == nil || find(1, k.ID) == nil {
						skipped = append(skipped, gate.Skipped{Kernel: k.ID, Reason: w})
					}
					continue
				}
				ids = append(ids, k.ID)
			}
		}
		return ids, skipped, nil
	}
	var bad []string
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		if id == "" || slices.Contains(ids, id) {
			continue
		}
		if w := why(id); w != "" {
			bad = append(bad, id+": "+w)
			continue
		}
		ids = append(ids, id)
	}
	if len(bad) > 0 {
		return nil, nil, fmt.Errorf("--kernels: %s", strings.Join(bad, "; "))
	}
	if len(ids) == 0 {
		return nil, nil, fmt.Errorf("--kernels %q names no kernel", list)
	}
	return ids, nil, nil
}

// gateProgress prints a line when a cell is decided or reaches its cap.
func gateProgress(sess *gate.Session, o gate.Options, quiet bool, w io.Writer) gate.Progress {
	if quiet {
		return nil
	}
	plan := o.Plan()
	return func(t *gate.Track, active int) {
		if !t.Verdict.Decided() && len(t.Pairs) < plan[len(plan)-1] {
			return
		}
		c := sess.Cells[t.Cell]
		fmt.Fprintf(w, "  %-16s %-10s %2d thr  %s after %d pairs: %s  (%d cells sampling)\n", c.Kernel, c.Shape, c.Threads, t.Verdict, len(t.Pairs),
			gate.Interval(t.Estimate.Ratio, t.Estimate.Low, t.Estimate.High), active)
	}
}

// writeGate prints the table and writes the output folder.
func writeGate(stdout, stderr io.Writer, out string, rep *gate.Report, sess *gate.Session) error {
	fmt.Fprintln(stdout)
	if err := reports.WriteTable(stdout, gate.TableHeader, rep.TableRows()); err != nil {
		return err
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(stdout, "not compared: %s %s: %s\n", s.Kernel, s.Shape, s.Reason)
	}
	fmt.Fprintf(stdout, "\nqkbench gate %s\n", rep.Headline())
	if out == "" {
		return nil
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var md bytes.Buffer
	if err := rep.WriteSummary(&md); err != nil {
		return err
	}
	if err := reports.WriteFileAtomic(filepath.Join(out, "summary.md"), md.Bytes()); err != nil {
		return err
	}
	if err := reports.WriteJSON(filepath.Join(out, "verdict.json"), rep); err != nil {
		return err
	}
	if sess != nil {
		for side, name := range []string{"base.txt", "head.txt"} {
			info := [2]gate.BuildInfo{rep.Base, rep.Head}[side]
			cfg := map[string]string{"goos": runtime.GOOS, "goarch": runtime.GOARCH, "gate-side": gate.Side(side).String(), "rev": info.Rev}
			if info.Commit != "" {
				cfg["commit"] = info.Commit
			}
			var b bytes.Buffer
			if err := gate.WriteBenchfmt(&b, sess, gate.Side(side), cfg); err != nil {
				return err
			}
			if err := reports.WriteFileAtomic(filepath.Join(out, name), b.Bytes()); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(stderr, "qkbench gate: wrote %s (verdict.json, summary.md, base.txt, head.txt)\n", out)
	return nil
}

// gateFiles is --files: an unpaired comparison of two result files.
func gateFiles(basePath, headPath string, o gate.Options, g *gateFlags, args []string, stdout, stderr io.Writer) error {
	rep, warnings, err := gate.CompareFiles(basePath, headPath, o, g.strict)
	if err != nil {
		return exit2Error{err}
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "qkbench gate: %s\n", w)
	}
	rep.Command = "qkbench gate " + strings.Join(args, " ")
	if err := writeGate(stdout, stderr, g.out, rep, nil); err != nil {
		return exit2Error{err}
	}
	if !rep.Pass {
		return errExit1
	}
	return nil
}
