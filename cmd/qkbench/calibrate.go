package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/qkbench/qkbench/gate"
	"github.com/qkbench/qkbench/kernels/plugin"
	"github.com/qkbench/qkbench/reports"
)

func init() {
	verbs["calibrate"] = verb{summary: "measure the gate's false-alarm rate and power on this machine (A/A and slowed gates)", run: runCalibrate}
}

const calibrateUsage = `Usage: qkbench calibrate [--runs N] [--slowdown 5%] [--slow-kernel ID] [gate flags]

Runs the gate's measurement of this qkbench build against itself --runs
times (A/A: every regressed or improved verdict is a false alarm), then
--runs times against a copy of itself whose --slow-kernel is slowed by
--slowdown through the sample server's test hook (QKBENCH_GATE_SLOWDOWN),
each gate with fresh processes. It prints the false alarms per cell and in
all, the spread of the A/A pair ratios, how often the slowdown was caught
(and any other cell blamed), and, from the A/A pairs resampled, the A/A
alarm rate and the smallest slowdown caught 95% of the time for a range of
thresholds, with the smallest threshold that keeps A/A alarms at or below
1%. It takes --runs × 2 gates: minutes.

Examples:
  qkbench calibrate --runs 10
  qkbench calibrate --runs 40 --kernels avx512lut-i8,avx512vnni-i8,avx2-i8,go-i8 --threads 1,2 --out /tmp/cal

Exit status: 0 done; 1 an A/A gate raised a false alarm or the slowed cell
was missed in more than 5% of the slowed gates; 2 a bad flag, a kernel
that disagrees or cannot run, or an interruption.

Flags:
`

func runCalibrate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("calibrate", stderr)
	var g gateFlags
	g.register(fs)
	runs := fs.Int("runs", 20, "A/A gates, and as many slowed gates")
	var slowdown float64
	fractionVar(fs, &slowdown, "slowdown", 0.05, 0, 10, "slowdown injected in the slowed gates (0 skips them), e.g. 5%")
	slowKernel := fs.String("slow-kernel", "", "the kernel slowed (default: the first cell's)")
	from := fs.String("from", "", "analyse the gates of an earlier calibration.json again (with this run's decision flags) instead of running gates")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), calibrateUsage)
		printFlags(fs.Output(), fs)
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	g.set = setFlags(fs)
	o, err := g.options()
	if err != nil {
		return err
	}
	if *runs < 1 || *runs > 10000 {
		return usageError{fmt.Errorf("--runs %d: want 1..10000", *runs)}
	}
	if *from != "" {
		return reanalyse(*from, o, &g, stdout)
	}
	exe, err := os.Executable()
	if err != nil {
		return exit2Error{err}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tmp, err := os.MkdirTemp("", "qkbench-calibrate-")
	if err != nil {
		return exit2Error{err}
	}
	defer os.RemoveAll(tmp)
	var builds [2]gate.Build
	for side := range builds {
		label := gate.Side(side).String()
		dir := filepath.Join(tmp, label)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return exit2Error{err}
		}
		plugins, err := g.pluginEnv(gate.Side(side))
		if err != nil {
			return err
		}
		env := withoutEnv(withoutEnv(serverEnv(), gate.EnvSlowdown), plugin.EnvVar)
		env = append(env, gate.EnvSlowdown+"=", plugin.EnvVar+"="+plugins)
		builds[side] = gate.Build{Label: label, Rev: "this build", ID: exe, Bin: exe, Dir: dir, Env: env}
	}
	rep := &gate.Report{}
	sess, groups, err := gateCells(ctx, &g, builds, rep, stderr)
	if err != nil {
		return err
	}
	cal := &gate.Calibration{Cells: sess.Cells, Options: o, Slowdown: slowdown, SlowCell: -1}
	for c, spec := range sess.Cells {
		if cal.SlowCell < 0 && (*slowKernel == "" || spec.Kernel == *slowKernel) && inGroups(groups, c) {
			cal.SlowCell = c
		}
	}
	if cal.SlowCell < 0 {
		return usageError{fmt.Errorf("--slow-kernel %q is not among the cells", *slowKernel)}
	}
	rng := g.rng()
	fmt.Fprintf(stderr, "qkbench calibrate: %d A/A gates, then %d with %s slowed by %.3g%%, of %d cells each\n",
		*runs, *runs, sess.Cells[cal.SlowCell].Kernel, 100*slowdown, len(sess.Cells))
	t0 := time.Now()
	phase := func(name string, into *[]gate.CalRun) error {
		for i := range *runs {
			j, err := gate.Judge(ctx, sess.Open, groups, o, !g.noConfirm, rng, nil)
			if err != nil {
				return err
			}
			r := gate.RunOf(j, len(sess.Cells))
			*into = append(*into, r)
			counts := map[gate.Verdict]int{}
			for _, c := range j.Tracks {
				counts[r.Verdicts[c.Cell]]++
			}
			var parts []string
			for _, v := range []gate.Verdict{gate.Regressed, gate.Improved, gate.Same, gate.Inconclusive} {
				if counts[v] > 0 {
					parts = append(parts, fmt.Sprintf("%d %s", counts[v], v))
				}
			}
			if !g.quiet {
				fmt.Fprintf(stderr, "  %s gate %d/%d: %s (%.0f s so far)\n", name, i+1, *runs, strings.Join(parts, ", "), time.Since(t0).Seconds())
			}
		}
		return nil
	}
	// save writes the gates so far (no summary yet): before the analysis,
	// which resamples for a while, and when a phase ends in an error or an
	// interruption, so that finished gates are never lost (--from FILE
	// analyses them again).
	save := func() {
		if g.out == "" || len(cal.AA) == 0 {
			return
		}
		if err := os.MkdirAll(g.out, 0o755); err == nil {
			err = reports.WriteJSON(filepath.Join(g.out, "calibration.json"), cal)
			if err == nil {
				fmt.Fprintf(stderr, "qkbench calibrate: wrote %s (%d A/A and %d slowed gates; --from analyses them)\n",
					filepath.Join(g.out, "calibration.json"), len(cal.AA), len(cal.Slowed))
				return
			}
		}
		fmt.Fprintf(stderr, "qkbench calibrate: could not save the gates in %s\n", g.out)
	}
	if err := phase("A/A", &cal.AA); err != nil {
		save()
		return exit2Error{err}
	}
	if slowdown > 0 {
		spec := sess.Cells[cal.SlowCell]
		sess.Builds[gate.Head].Env = append(withoutEnv(sess.Builds[gate.Head].Env, gate.EnvSlowdown), fmt.Sprintf("%s=%s=%g", gate.EnvSlowdown, spec.Kernel, slowdown))
		if err := phase("slowed", &cal.Slowed); err != nil {
			save()
			return exit2Error{err}
		}
	}
	stop()
	save()
	sum := cal.Analyse(rand.New(rand.NewPCG(rng.Uint64(), 1)))
	fmt.Fprintln(stdout)
	sum.Write(stdout, cal)
	if g.out != "" {
		if err := reports.WriteJSON(filepath.Join(g.out, "calibration.json"), struct {
			*gate.Calibration
			Summary gate.CalSummary `json:"summary"`
		}{cal, sum}); err != nil {
			return exit2Error{err}
		}
		var b bytes.Buffer
		sum.Write(&b, cal)
		if err := reports.WriteFileAtomic(filepath.Join(g.out, "calibration.txt"), b.Bytes()); err != nil {
			return exit2Error{err}
		}
		fmt.Fprintf(stderr, "qkbench calibrate: wrote %s (calibration.json, calibration.txt)\n", g.out)
	}
	if sum.Alarms > 0 || sum.SlowedGates > 0 && float64(sum.Caught) < 0.95*float64(sum.SlowedGates) {
		return errExit1
	}
	return nil
}

func inGroups(groups [][]int, c int) bool {
	for _, g := range groups {
		for _, x := range g {
			if x == c {
				return true
			}
		}
	}
	return false
}

// withoutEnv drops the variable name from env.
func withoutEnv(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// reanalyse prints the summary of an earlier calibration's gates, judged by
// the decision rule o (the resampled figures replay it on the recorded
// pairs; the recorded verdicts are the ones the gates gave then).
func reanalyse(path string, o gate.Options, g *gateFlags, stdout io.Writer) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return usageError{err}
	}
	var cal gate.Calibration
	if err := json.Unmarshal(b, &cal); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(cal.AA) == 0 || len(cal.Cells) == 0 {
		return fmt.Errorf("%s holds no A/A gates", path)
	}
	recorded := cal.Options
	cal.Options = o
	sum := cal.Analyse(g.rng())
	fmt.Fprintf(stdout, "%s: %d A/A and %d slowed gates recorded at threshold %.3g%%; resampled at threshold %.3g%%\n\n",
		path, len(cal.AA), len(cal.Slowed), 100*recorded.Threshold, 100*o.Threshold)
	sum.Write(stdout, &cal)
	return nil
}
