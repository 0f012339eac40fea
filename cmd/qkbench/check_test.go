package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/reports"
)

func TestCheckPasses(t *testing.T) {
	code, out, stderr := runCmd(t, "check", "--shapes", "2048x4096,67x3200,3x1")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	for _, want := range []string{"ref-i8", "ref-f32", "2048x4096", "67x3200", "3x1", "PASS",
		"not run: test-broken-i8", "unavailable: switched off"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Every kernel that can run has one passing row per shape.
	if n, want := strings.Count(out, "│ pass "), 3*runnable(kernels.Ternary); n != want {
		t.Errorf("%d passing rows, want %d (%d kernels × 3 shapes):\n%s", n, want, runnable(kernels.Ternary), out)
	}
	if w := widest(out); w > 120 {
		t.Errorf("output is %d columns wide, want at most 120:\n%s", w, out)
	}
}

// widest returns the width of the longest line of s, in runes.
func widest(s string) int {
	w := 0
	for _, l := range strings.Split(s, "\n") {
		w = max(w, len([]rune(l)))
	}
	return w
}

// runnable counts the registered kernels that can run here on codebook cb.
func runnable(cb kernels.Codebook) int {
	n := 0
	for _, k := range kernels.List() {
		if kernels.Usable(k) == nil && k.Supports(cb) == nil {
			n++
		}
	}
	return n
}

func TestCheckThreads(t *testing.T) {
	if code, out, stderr := runCmd(t, "check", "--shapes", "67x300,100x257", "--threads", "3", "--kernels", "ref-i8,ref-f32"); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
}

func TestCheckBrokenKernelFails(t *testing.T) {
	withBroken(t, brokenWrongRow)
	code, out, stderr := runCmd(t, "check", "--shapes", "67x3200,3x1")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{"FAIL test-broken-i8 on 67x3200, 1 thread(s): 1 of 67 rows differ from ref-i8", "FAIL: 2 failure(s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "FAIL test-broken-i8 on 67x3200 (1 threads): failed:") {
		t.Errorf("stderr lacks the failure:\n%s", stderr)
	}
	// The other kernels still pass, and leaving the broken one out passes.
	if n, want := strings.Count(out, "│ pass "), 2*(runnable(kernels.Ternary)-1); n != want {
		t.Errorf("%d passing rows, want %d:\n%s", n, want, out)
	}
	if code, out, _ := runCmd(t, "check", "--shapes", "67x3200", "--kernels", "ref-i8,test-qk256-f32", "--codebook", "qk256"); code != 0 {
		t.Errorf("without the broken kernel: exit %d\n%s", code, out)
	}
}

func TestCheckUnavailable(t *testing.T) {
	// Named on the command line: a kernel that cannot run is a failure.
	code, out, stderr := runCmd(t, "check", "--shapes", "3x1", "--kernels", "ref-i8,test-broken-i8")
	if code != 1 || !strings.Contains(stderr, "FAIL test-broken-i8 on 3x1 (1 threads): unavailable: switched off") {
		t.Errorf("explicit unavailable kernel: exit %d, want 1:\n%s%s", code, out, stderr)
	}
	// "all" names nothing explicitly.
	if code, out, _ := runCmd(t, "check", "--shapes", "3x1", "--kernels", "all"); code != 0 {
		t.Errorf("--kernels all: exit %d, want 0:\n%s", code, out)
	}
	t.Setenv("QKBENCH_REQUIRE", "test-broken-i8")
	if code, out, stderr := runCmd(t, "check", "--shapes", "3x1"); code != 1 || !strings.Contains(stderr, "FAIL test-broken-i8 on 3x1 (1 threads): unavailable") {
		t.Errorf("required unavailable kernel: exit %d, want 1:\n%s%s", code, out, stderr)
	}
	t.Setenv("QKBENCH_REQUIRE", "no-such-kernel")
	if code, out, stderr := runCmd(t, "check", "--shapes", "3x1"); code != 1 || !strings.Contains(stderr, `QKBENCH_REQUIRE names "no-such-kernel"`) {
		t.Errorf("required unknown kernel: exit %d, want 1:\n%s%s", code, out, stderr)
	}
	t.Setenv("QKBENCH_REQUIRE", "")
	t.Setenv("QKBENCH_DISABLE", "ref-f32")
	if code, out, stderr := runCmd(t, "check", "--shapes", "3x1", "--kernels", "ref-f32"); code != 1 || !strings.Contains(stderr, "disabled by QKBENCH_DISABLE") {
		t.Errorf("disabled, explicit kernel: exit %d, want 1:\n%s%s", code, out, stderr)
	}
}

func TestCheckUnsupportedCodebook(t *testing.T) {
	code, out, _ := runCmd(t, "check", "--shapes", "5x300", "--codebook", "ternary")
	if code != 0 || !strings.Contains(out, "not run: test-qk256-f32: unsupported: test kernel takes only qk256, not ternary") {
		t.Errorf("exit %d, want 0 and an unsupported row:\n%s", code, out)
	}
	if code, out, _ := runCmd(t, "check", "--shapes", "5x300", "--codebook", "ternary", "--kernels", "test-qk256-f32"); code != 1 {
		t.Errorf("explicit unsupported kernel: exit %d, want 1:\n%s", code, out)
	}
	if code, out, _ := runCmd(t, "check", "--shapes", "5x300", "--codebook", "-1,0,1,2", "--kernels", "ref-i8,ref-f32"); code != 0 {
		t.Errorf("custom codebook: exit %d, want 0:\n%s", code, out)
	}
}

func TestCheckBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--kernels", "nope"}, `--kernels: kernels: unknown kernel "nope"`},
		{[]string{"--shapes", "3x"}, `--shapes: workloads: shape "3x"`},
		{[]string{"--shapes", "0x4"}, "--shapes"},
		{[]string{"--preset", "nope"}, `--preset: workloads: unknown preset "nope"`},
		{[]string{"--preset", "seed", "--shapes", "1x1"}, "--preset and --shapes: give one of them"},
		{[]string{"--codebook", "binary"}, `--codebook: kernels: codebook "binary"`},
		{[]string{"--codebook", "3,0,0,0"}, "--codebook"},
		{[]string{"--threads", "0"}, `--threads: thread count "0" in "0": want an integer in 1..1024`},
		{[]string{"--mode", "cold"}, "flag provided but not defined: -mode"},
		{[]string{"--format", "xml"}, `format "xml": want table, md, csv or json`},
		{[]string{"--seed", "-1"}, "-seed"},
		{[]string{"--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--receipt", "/nonexistent-dir/r.json"}, "--receipt /nonexistent-dir/r.json: directory /nonexistent-dir does not exist"},
	} {
		code, _, stderr := runCmd(t, append([]string{"check"}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("check %v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestCheckReceipt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "receipt.json")
	os.WriteFile(path, []byte("old"), 0o644) // replaced atomically
	code, out, stderr := runCmd(t, "check", "--shapes", "67x300,3x1", "--seed", "9", "--receipt", path)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	r, err := reports.ReadRun(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Verb != "check" || len(r.Failures) != 0 || r.Config.Seed != 9 || r.Config.Codebook != "ternary" || r.Machine.CPU == "" || r.Machine.Commit == "" || len(r.Machine.Features) == 0 && r.Machine.CPU != "unknown" {
		t.Errorf("receipt header: %+v", r)
	}
	if len(r.Workloads) != 2 || r.Workloads[0].Name != "67x300" || r.Workloads[0].Rows != 67 || !strings.Contains(r.Workloads[0].Source, "seed=9") {
		t.Errorf("workloads: %+v", r.Workloads)
	}
	for _, k := range r.Kernels {
		if k.Code == "" || k.ISA == "" || k.Backend == "" {
			t.Errorf("kernel %s: %+v", k.ID, k)
		}
	}
	if k := r.Kernel("test-broken-i8"); k.Available || k.Reason == "" {
		t.Errorf("test-broken-i8: %+v", k)
	}
	for _, w := range []string{"67x300", "3x1"} {
		c := r.Find("ref-i8", w, 1)
		if c == nil || c.Status != reports.StatusOK || c.Agreement == nil || c.Agreement.Reference != "ref-i8" || c.Agreement.ExactMatch != 1 || c.Agreement.Cosine < 0.99 || len(c.Samples) != 0 {
			t.Errorf("ref-i8 on %s: %+v", w, c)
		}
		if c := r.Find("test-broken-i8", w, 1); c == nil || c.Status != reports.StatusUnavailable {
			t.Errorf("test-broken-i8 on %s: %+v", w, c)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %d files, want only the receipt (no temp files left)", len(ents))
	}
}

func TestCheckReceiptOfFailure(t *testing.T) {
	withBroken(t, brokenNaN)
	path := filepath.Join(t.TempDir(), "r.json")
	code, out, _ := runCmd(t, "check", "--shapes", "16x256", "--kernels", "test-broken-i8,ref-i8", "--receipt", path)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	r, err := reports.ReadRun(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Failures) != 1 || !strings.Contains(r.Failures[0], "test-broken-i8 on 16x256") {
		t.Fatalf("receipt failures %q", r.Failures)
	}
	c := r.Find("test-broken-i8", "16x256", 1)
	if c == nil || c.Status != reports.StatusFailed || c.Agreement == nil || c.Agreement.Pass {
		t.Fatalf("broken kernel cell: %+v", c)
	}
	// NaN output: max |Δ| is infinite, which the receipt keeps ("Infinity").
	if !math.IsInf(c.Agreement.MaxAbs, 1) || c.Agreement.ExactMatch != 0 {
		t.Errorf("max_abs_err %v exact %v, want +Inf and 0", c.Agreement.MaxAbs, c.Agreement.ExactMatch)
	}
}

func TestFormats(t *testing.T) {
	args := []string{"check", "--shapes", "3x1,8x300", "--kernels", "ref-i8,ref-f32,test-broken-i8", "--quiet", "--format"}
	code, out, _ := runCmd(t, append(args, "csv")...)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 1 || err != nil || len(recs) != 1+3*2 || strings.Join(recs[0], ",") != strings.Join(reports.CSVHeader, ",") {
		t.Errorf("check --format csv: exit %d, %v:\n%s", code, err, out)
	}
	code, out, _ = runCmd(t, append(args, "json")...)
	var r reports.Run
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Verb != "check" || len(r.Cells) != 6 || len(r.Failures) != 2 {
		t.Errorf("check --format json: exit %d, %v, %d cells, failures %q", code, err, len(r.Cells), r.Failures)
	}
	code, out, _ = runCmd(t, append(args, "md")...)
	if !strings.Contains(out, "| kernel | workload |") || !strings.Contains(out, "- not run: test-broken-i8") {
		t.Errorf("check --format md: exit %d:\n%s", code, out)
	}
	dir := t.TempDir()
	code, out, stderr := runCmd(t, "sweep", "--shapes", "8x256", "--kernels", "ref-i8,ref-f32", "--threads", "1", "--count", "6", "--min-time", "1ms", "--no-probe", "--quiet", "--out", dir, "--format", "json")
	if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil || r.Verb != "sweep" || len(r.Cells) != 2 {
		t.Errorf("sweep --format json: exit %d, %v\n%s", code, err, stderr)
	}
	res := filepath.Join(dir, "results.txt")
	code, out, _ = runCmd(t, "compare", "--col", "/kernel", "--row", "/shape", "--format", "csv", res)
	if recs, err := csv.NewReader(strings.NewReader(out)).ReadAll(); code != 0 || err != nil || len(recs) < 3 || recs[0][0] != "unit" || recs[1][0] != "sec/op" {
		t.Errorf("compare --format csv: exit %d, %v:\n%s", code, err, out)
	}
	code, out, _ = runCmd(t, "compare", "--format", "json", res)
	var cs []reports.Comparison
	if err := json.Unmarshal([]byte(out), &cs); code != 0 || err != nil || len(cs) == 0 || cs[0].Unit != "sec/op" {
		t.Errorf("compare --format json: exit %d, %v:\n%s", code, err, out)
	}
}
