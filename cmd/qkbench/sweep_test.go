package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/perf/benchfmt"

	"github.com/qkbench/qkbench/internal/rundir"
	"github.com/qkbench/qkbench/machine"
	"github.com/qkbench/qkbench/reports"
)

func TestSweepWritesEverything(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := runCmd(t, "sweep", "--shapes", "8x256,5x300", "--kernels", "ref-i8,go-i8", "--threads", "1,2",
		"--count", "6", "--min-time", "1ms", "--no-probe", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	for _, f := range []string{"results.txt", "receipt.json", "report.md", "gmacps.png", "gmacps.svg", "speedup.png", "threads.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	run, err := reports.ReadRun(filepath.Join(dir, "receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	if run.Partial || len(run.Cells) != 2*2*2 || run.Command == "" || run.Machine.CPU == "" {
		t.Errorf("receipt: partial %v, %d cells, command %q, cpu %q", run.Partial, len(run.Cells), run.Command, run.Machine.CPU)
	}
	if c := run.Config; c.Rounds != 5 || c.Slice != "" { // 1 ms samples are not sliced
		t.Errorf("config: %d rounds (want the default 5), slice %q (want none)", c.Rounds, c.Slice)
	}
	f, err := os.Open(filepath.Join(dir, "results.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	rd := benchfmt.NewReader(f, "results.txt")
	for rd.Scan() {
		res, ok := rd.Result().(*benchfmt.Result)
		if !ok {
			t.Errorf("results.txt: %v", rd.Result())
			continue
		}
		if res.GetConfig("cpu") == "" || !strings.HasPrefix(string(res.Name.Full()), "GEMV/kernel=") {
			t.Errorf("result %q lacks its configuration", res.Name.Full())
		}
		n++
	}
	want := 0
	for i := range run.Cells {
		want += len(run.Cells[i].CleanSamples())
		if s := len(run.Cells[i].Samples); s < 6 {
			t.Errorf("%s: %d samples, want at least 6", run.Cells[i].Kernel, s)
		}
	}
	if n != want {
		t.Errorf("results.txt has %d results, want %d (every sample the receipt does not mark disturbed)", n, want)
	}
	if w := widest(out); w > 120 {
		t.Errorf("sweep's table is %d columns wide:\n%s", w, out)
	}
	for _, args := range [][]string{{"compare", filepath.Join(dir, "results.txt"), filepath.Join(dir, "results.txt")}, {"compare", "--col", "/kernel", "--row", "/shape", filepath.Join(dir, "results.txt")}} {
		if code, out, stderr := runCmd(t, args...); code != 0 || !strings.Contains(out, "vs base") || widest(out) > 120 {
			t.Errorf("%v: exit %d, %d columns\n%s\n%s", args, code, widest(out), out, stderr)
		}
	}
	rep := t.TempDir()
	if code, out, stderr := runCmd(t, "report", "--out", rep, dir, dir, dir); code != 0 || !strings.Contains(out, "1.00×") || widest(out) > 120 {
		t.Errorf("report: exit %d, %d columns\n%s\n%s", code, widest(out), out, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(rep, "report.md")); err != nil || !strings.Contains(string(b), "#2 vs #1") {
		t.Errorf("merged report.md: %v", err)
	}
}

func TestSweepBrokenKernelFails(t *testing.T) {
	withBroken(t, brokenWrongRow)
	dir := t.TempDir()
	code, out, stderr := runCmd(t, "sweep", "--shapes", "8x256", "--kernels", "ref-i8,test-broken-i8", "--threads", "1", "--count", "2", "--min-time", "1ms", "--no-probe", "--out", dir)
	if code != 1 || !strings.Contains(stderr, "test-broken-i8 on 8x256 (1 threads): failed") {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, stderr)
	}
	run, err := reports.ReadRun(filepath.Join(dir, "receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range run.Cells {
		if c.Kernel == "test-broken-i8" && (c.Status != reports.StatusFailed || len(c.Samples) > 0) {
			t.Errorf("broken kernel cell: %+v", c)
		}
	}
}

func TestSweepBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--mode", "warm"}, {"--threads", "0"}, {"--kernels", "nope-i8"}, {"--count", "0"}, {"--shapes", "0x5"},
		{"--codebook", "3,3,3,3"}, {"--preset", "seed", "--shapes", "1x1"}, {"--min-time", "-1s"}, {"extra"},
		{"--slice", "-1ms"}, {"--count", "3", "--rounds", "4"}, {"--activations", "laplace"},
	} {
		code, _, stderr := runCmd(t, append([]string{"sweep", "--out", t.TempDir()}, args...)...)
		if code != 2 || stderr == "" {
			t.Errorf("sweep %v: exit %d, want 2 with a message; stderr %q", args, code, stderr)
		}
	}
	for _, args := range [][]string{{"compare"}, {"compare", "/nonexistent.txt"}, {"report"}, {"profile"}, {"profile", "--kernel", "nope"}} {
		if code, _, _ := runCmd(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestSweepActivations: --activations reaches the workloads (the receipt
// names them) and check, profile and gate take it too (the gate's own
// test: TestGateActivations).
func TestSweepActivations(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := runCmd(t, "sweep", "--shapes", "8x256", "--kernels", "ref-i8", "--threads", "1",
		"--count", "2", "--min-time", "1ms", "--no-probe", "--activations", "extreme", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	run, err := reports.ReadRun(filepath.Join(dir, "receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Workloads) != 1 || !strings.Contains(run.Workloads[0].Source, "activations=extreme") || run.Config.Activations != "extreme" {
		t.Errorf("workloads %+v, config %+v: want activations=extreme in both", run.Workloads, run.Config)
	}
	// results.txt names them for benchstat (so that a gaussian file lands in
	// another table), report.md says so.
	for f, want := range map[string]string{"results.txt": "\nactivations: extreme\n", "report.md": "extreme activations"} {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s: %v, want it to contain %q", f, err, want)
		}
	}
	gdir := t.TempDir()
	if code, out, stderr := runCmd(t, "sweep", "--shapes", "8x256", "--kernels", "ref-i8", "--threads", "1",
		"--count", "2", "--min-time", "1ms", "--no-probe", "--out", gdir); code != 0 {
		t.Fatalf("gaussian sweep: exit %d\n%s\n%s", code, out, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(gdir, "results.txt")); err != nil || strings.Contains(string(b), "activations") {
		t.Errorf("gaussian results.txt names activations (files from before the key would not compare with it): %v", err)
	}
	if code, out, stderr := runCmd(t, "check", "--shapes", "8x256", "--kernels", "ref-i8", "--activations", "outliers", "--receipt", filepath.Join(t.TempDir(), "r.json")); code != 0 {
		t.Errorf("check --activations outliers: exit %d\n%s\n%s", code, out, stderr)
	}
	p := filepath.Join(t.TempDir(), "cpu.pprof")
	if code, out, stderr := runCmd(t, "profile", "--kernel", "ref-i8", "--shape", "8x256", "--seconds", "0.1", "--activations", "extreme", "--out", p); code != 0 {
		t.Errorf("profile --activations extreme: exit %d\n%s\n%s", code, out, stderr)
	}
	if code, _, stderr := runCmd(t, "gate", "--base", "HEAD", "--activations", "laplace"); code != 2 || !strings.Contains(stderr, "laplace") {
		t.Errorf("gate --activations laplace: exit %d, want 2 naming it; stderr %q", code, stderr)
	}
}

func TestProfile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cpu.pprof")
	code, out, stderr := runCmd(t, "profile", "--kernel", "ref-i8", "--shape", "64x1024", "--seconds", "0.3", "--out", p)
	if code != 0 || !strings.Contains(out, "GEMVs in") || !strings.Contains(out, "flat %") || widest(out) > 120 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if st, err := os.Stat(p); err != nil || st.Size() == 0 {
		t.Errorf("cpu.pprof: %v", err)
	}
}

// A second sweep into a folder that holds a run, or that another sweep is
// writing, used to exit 0 and mix the two runs' files.
func TestSweepRefusesTakenFolder(t *testing.T) {
	dir := t.TempDir()
	args := []string{"sweep", "--shapes", "8x256", "--kernels", "ref-i8", "--threads", "1", "--count", "1", "--min-time", "1ms", "--no-probe", "--quiet", "--out", dir}
	if code, _, e := runCmd(t, args...); code != 0 {
		t.Fatalf("first sweep: exit %d: %s", code, e)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "results.txt"))
	if !strings.Contains(string(b), "partial: false") {
		t.Errorf("a finished run's results.txt lacks partial: false:\n%s", b)
	}
	if code, _, e := runCmd(t, args...); code != 2 || !strings.Contains(e, "holds another run") {
		t.Errorf("sweep into a finished run's folder: exit %d: %s", code, e)
	}
	busy := t.TempDir()
	d, err := rundir.Use(busy)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	args[len(args)-1] = busy
	if code, _, e := runCmd(t, args...); code != 2 || !strings.Contains(e, "another qkbench run is writing there") {
		t.Errorf("sweep into a folder another run holds: exit %d: %s", code, e)
	}
}

// Every workload used to be built before the first was measured, so memory
// grew with the number of workloads (4 × 65536² ran out where one fits).
// Eight 2 MB workloads: the heap at each Prepare holds about one.
func TestSweepHoldsOneWorkload(t *testing.T) {
	var peak uint64
	onPrepare = func() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	}
	defer func() { onPrepare = nil }()
	var shapes []string
	for i := 0; i < 8; i++ {
		shapes = append(shapes, fmt.Sprintf("%dx4096", 2048+i))
	}
	code, _, e := runCmd(t, "sweep", "--shapes", strings.Join(shapes, ","), "--kernels", "test-qk256-f32", "--codebook", "qk256", "--threads", "1",
		"--count", "1", "--min-time", "1ms", "--no-probe", "--quiet", "--out", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	t.Logf("heap peak at Prepare: %d MB", peak>>20)
	if peak == 0 || peak > 10<<20 {
		t.Errorf("heap at Prepare peaked at %d MB, want under 10 MB (one 2 MB workload and its references, not eight)", peak>>20)
	}
}

// The run's files were rewritten whole after every workload, so 1600 small
// workloads took 10× as long as 400. Writes after a workload now wait at
// least 1 s and ten times what the last write took.
func TestThrottledWriter(t *testing.T) {
	var w throttledWriter
	w.write = func(*reports.Run) error { time.Sleep(20 * time.Millisecond); return nil }
	t0 := time.Now()
	for time.Since(t0) < 500*time.Millisecond {
		if err := w.maybe(nil); err != nil {
			t.Fatal(err)
		}
	}
	if w.writes != 1 {
		t.Errorf("%d writes in 0.5 s, want 1", w.writes)
	}
	w.last = time.Now().Add(-2 * time.Second)
	w.lastTook = 300 * time.Millisecond // a slow write: wait 3 s
	w.maybe(nil)
	if w.writes != 1 {
		t.Errorf("wrote 2 s after a 300 ms write")
	}
	w.last = time.Now().Add(-3100 * time.Millisecond)
	w.maybe(nil)
	if w.writes != 2 {
		t.Errorf("did not write 3.1 s after a 300 ms write")
	}
}

// qkbench report wrote reports/compare-<time>/ into the source tree (two
// were committed) and the next sweep said dirty: true. Without --out, runs
// and reports go under the checkout's reports/runs (ignored by git), or
// under qkbench-runs in a working directory outside any checkout.
func TestDefaultOutputFolders(t *testing.T) {
	root := machine.ModuleRoot()
	if root == "" {
		t.Skip("not in a qkbench checkout")
	}
	in := outputRoot()
	if want := filepath.Join(machine.CheckoutRoot(), "reports", "runs"); in != want || machine.CheckoutRoot() != root {
		t.Errorf("inside the checkout: outputRoot() = %q, want %q", in, want)
	}
	if err := exec.Command("git", "-C", root, "check-ignore", "-q", filepath.Join(in, "20260101-000000-host", "receipt.json")).Run(); err != nil {
		t.Errorf("git does not ignore %s: %v", in, err)
	}
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	tmp := t.TempDir()
	if err := os.Chdir(tmp); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCmd(t, "sweep", "--shapes", "8x256", "--kernels", "ref-i8", "--threads", "1", "--count", "1", "--min-time", "1ms", "--no-probe", "--quiet")
	if code != 0 {
		t.Fatalf("sweep: exit %d\n%s%s", code, out, stderr)
	}
	runs, _ := filepath.Glob(filepath.Join(tmp, "qkbench-runs", "*", "receipt.json"))
	if len(runs) != 1 {
		t.Fatalf("outside a checkout the run went elsewhere: %v\n%s", runs, stderr)
	}
	if code, out, stderr := runCmd(t, "report", filepath.Dir(runs[0]), filepath.Dir(runs[0])); code != 0 {
		t.Fatalf("report: exit %d\n%s%s", code, out, stderr)
	}
	if m, _ := filepath.Glob(filepath.Join(tmp, "qkbench-runs", "compare-*", "report.md")); len(m) != 1 {
		t.Errorf("report without --out: %v", m)
	}
}

// Piped or in CI, a sweep printed one line and then nothing for minutes:
// without a terminal it now says how far it got every so often, not at
// every step.
func TestProgressLines(t *testing.T) {
	var b strings.Builder
	p := &progressLines{w: &b, verb: "sweep", start: time.Now(), every: 30 * time.Millisecond}
	t0 := time.Now()
	for i := 1; time.Since(t0) < 200*time.Millisecond; i++ {
		p.update(i, 1000000, "avx2-i8")
		time.Sleep(time.Millisecond)
	}
	p.finish()
	n := strings.Count(b.String(), "\n")
	if n < 3 || n > 9 {
		t.Errorf("%d lines in 0.2 s at one per 30 ms, want 3..9:\n%s", n, b.String())
	}
	if !strings.Contains(b.String(), "qkbench sweep: 0% (") || !strings.Contains(b.String(), "left; at avx2-i8") {
		t.Errorf("progress lines:\n%s", b.String())
	}
}
