package main

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/perf/benchfmt"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/kerneltest/broken"
	"github.com/qkbench/qkbench/reports"
)

// The conformance suite's broken kernels, registered in this test binary
// but unavailable unless a test switches them on (then they are every
// kernel the sweep sees besides the references).
var brokenOn atomic.Bool

var brokenIDs []string

type switchedKernel struct{ *broken.Kernel }

func (k switchedKernel) Available() error {
	if !brokenOn.Load() {
		return errors.New("switched off outside TestBrokenKernelsThroughSweep")
	}
	return nil
}

func init() {
	for _, f := range broken.Flaws() {
		if !broken.InProcess(f) || f == broken.BadInfo { // BadInfo's id cannot be registered
			continue
		}
		for _, m := range []kernels.Mode{kernels.I8, kernels.F32} {
			k := broken.New(f, m)
			kernels.Register(switchedKernel{k})
			brokenIDs = append(brokenIDs, k.I.ID)
		}
	}
}

// A kernel that wrote NaN rows (or skipped rows, which stay NaN) made
// `sweep` exit with "json: unsupported value: +Inf" and write neither
// receipt nor table. Every broken kernel of the conformance suite that can
// run in a process now goes through a whole sweep and a check: each is
// reported (failed with its metrics, or an error), the sound ones are timed,
// and every output file reads back.
func TestBrokenKernelsThroughSweep(t *testing.T) {
	brokenOn.Store(true)
	defer brokenOn.Store(false)
	dir := t.TempDir()
	list := "ref-i8,ref-f32," + strings.Join(brokenIDs, ",")
	// 130 rows: DeepRows leaves rows 96..127 out; 300 columns: a tail for PadCounts.
	code, out, stderr := runCmd(t, "sweep", "--shapes", "130x300,8x256", "--kernels", list, "--threads", "1,2",
		"--count", "2", "--min-time", "1ms", "--no-probe", "--quiet", "--out", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (broken kernels fail the run)\n%s\n%s", code, out, stderr)
	}
	if w := widest(out); w > 120 {
		t.Errorf("table is %d columns wide, want at most 120:\n%s", w, out)
	}
	run, err := reports.ReadRun(filepath.Join(dir, "receipt.json"))
	if err != nil {
		t.Fatalf("receipt.json: %v", err)
	}
	if run.Partial || len(run.Cells) != (2+len(brokenIDs))*2*2 {
		t.Fatalf("receipt: partial %v, %d cells, want %d", run.Partial, len(run.Cells), (2+len(brokenIDs))*2*2)
	}
	// On 130x300 these flaws show (on 8x256 only LastRow and Panics must).
	mustFail := map[broken.Flaw]bool{broken.LastRow: true, broken.DeepRows: true, broken.PadCounts: true, broken.Panics: true}
	for _, f := range broken.Flaws() {
		for _, m := range []kernels.Mode{kernels.I8, kernels.F32} {
			id := broken.New(f, m).I.ID
			if !strings.Contains(list, id) {
				continue
			}
			for _, w := range []string{"130x300", "8x256"} {
				for _, th := range []int{1, 2} {
					c := run.Find(id, w, th)
					switch {
					case c == nil:
						t.Errorf("%s on %s, %d threads: no cell", id, w, th)
					case f == broken.HardWired:
						if c.Status != reports.StatusUnsupported {
							t.Errorf("%s: status %s, want unsupported", id, c.Status)
						}
					case c.Status == reports.StatusOK:
						if mustFail[f] && (w == "130x300" || f == broken.LastRow || f == broken.Panics) || len(c.Samples) != 2 || c.Agreement == nil || !c.Agreement.Pass {
							t.Errorf("%s on %s, %d threads: ok with %d samples, agreement %+v", id, w, th, len(c.Samples), c.Agreement)
						}
					case c.Status == reports.StatusFailed:
						if f == broken.Sound || c.Agreement == nil || c.Agreement.Pass || c.Reason == "" || len(c.Samples) != 0 {
							t.Errorf("%s on %s, %d threads: failed cell %+v", id, w, th, c)
						}
					case c.Status == reports.StatusError:
						if f != broken.Panics || !strings.Contains(c.Reason, "panicked") {
							t.Errorf("%s on %s, %d threads: error %q", id, w, th, c.Reason)
						}
					default:
						t.Errorf("%s on %s, %d threads: status %q", id, w, th, c.Status)
					}
				}
			}
		}
	}
	// The rows the kernel never wrote stay NaN: max |Δ| is +Inf, kept as such.
	if c := run.Find("broken-lastrow-i8", "130x300", 1); c == nil || c.Agreement == nil || !math.IsInf(c.Agreement.MaxAbs, 1) {
		t.Errorf("broken-lastrow-i8: %+v", c)
	}
	if len(run.Failures) == 0 || !strings.Contains(stderr, "FAIL broken-lastrow-i8 on 130x300 (1 threads): failed") {
		t.Errorf("failures %q; stderr:\n%s", run.Failures, stderr)
	}
	// results.txt: every sample of every timed cell, nothing else.
	f, err := os.Open(filepath.Join(dir, "results.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	timed, clean, n := 0, 0, 0
	for i := range run.Cells {
		if run.Cells[i].Timed() {
			timed++
			clean += len(run.Cells[i].CleanSamples())
		}
	}
	rd := benchfmt.NewReader(f, "results.txt")
	for rd.Scan() {
		switch r := rd.Result().(type) {
		case *benchfmt.Result:
			n++
		case *benchfmt.SyntaxError:
			t.Errorf("results.txt: %v", r)
		}
	}
	if n != clean || timed == 0 {
		t.Errorf("results.txt holds %d results, want %d (the samples of %d timed cells that were not disturbed)", n, clean, timed)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil || !strings.Contains(string(md), "FAIL broken-lastrow-i8 on 130x300") {
		t.Errorf("report.md lacks the failure: %v", err)
	}
	for _, p := range []string{"gmacps.png", "gmacps.svg", "threads.png"} {
		if st, err := os.Stat(filepath.Join(dir, p)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
	// The receipt renders again, and check goes through the same kernels.
	if code, out, stderr := runCmd(t, "report", "--out", t.TempDir(), dir); code != 0 {
		t.Errorf("report of the run: exit %d\n%s%s", code, out, stderr)
	}
	rc := filepath.Join(t.TempDir(), "check.json")
	code, out, stderr = runCmd(t, "check", "--shapes", "130x300", "--kernels", list, "--threads", "1,2", "--receipt", rc, "--quiet")
	if code != 1 || !strings.Contains(out, "FAIL broken-lastrow-i8 on 130x300, 1 thread(s)") {
		t.Errorf("check: exit %d, want 1\n%s%s", code, out, stderr)
	}
	if r, err := reports.ReadRun(rc); err != nil || r.Verb != "check" || len(r.Failures) == 0 {
		t.Errorf("check receipt: %v", err)
	}
}
