package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels"
)

func TestCheckPasses(t *testing.T) {
	code, out, stderr := runCmd(t, "check", "--shapes", "2048x4096,67x3200,3x1")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	for _, want := range []string{"ref-i8", "ref-f32", "2048x4096", "67x3200", "3x1", "PASS",
		"test-broken-i8", "unavailable: switched off"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Every kernel that can run has one passing row per shape.
	if n, want := strings.Count(out, "│ pass"), 3*runnable(); n != want {
		t.Errorf("%d passing rows, want %d (%d kernels × 3 shapes):\n%s", n, want, runnable(), out)
	}
}

// runnable counts the registered kernels that can run here on the qk256 codebook.
func runnable() int {
	n := 0
	for _, k := range kernels.List() {
		if kernels.Usable(k) == nil && k.Supports(kernels.QK256) == nil {
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
	code, out, _ := runCmd(t, "check", "--shapes", "67x3200,3x1")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{"FAIL test-broken-i8 on 67x3200: fail: test-broken-i8 disagrees", "rows differ from ref-i8", "FAIL: 2 failure(s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The other kernels still pass, and leaving the broken one out passes.
	if n, want := strings.Count(out, "│ pass"), 2*(runnable()-1); n != want {
		t.Errorf("%d passing rows, want %d:\n%s", n, want, out)
	}
	if code, out, _ := runCmd(t, "check", "--shapes", "67x3200", "--kernels", "ref-i8,test-qk256-f32"); code != 0 {
		t.Errorf("without the broken kernel: exit %d\n%s", code, out)
	}
}

func TestCheckUnavailable(t *testing.T) {
	// Named on the command line: a kernel that cannot run is a failure.
	code, out, _ := runCmd(t, "check", "--shapes", "3x1", "--kernels", "ref-i8,test-broken-i8")
	if code != 1 || !strings.Contains(out, "FAIL unavailable: switched off") {
		t.Errorf("explicit unavailable kernel: exit %d, want 1:\n%s", code, out)
	}
	// "all" names nothing explicitly.
	if code, out, _ := runCmd(t, "check", "--shapes", "3x1", "--kernels", "all"); code != 0 {
		t.Errorf("--kernels all: exit %d, want 0:\n%s", code, out)
	}
	t.Setenv("QKBENCH_REQUIRE", "test-broken-i8")
	if code, out, _ := runCmd(t, "check", "--shapes", "3x1"); code != 1 || !strings.Contains(out, "FAIL test-broken-i8 on 3x1: unavailable") {
		t.Errorf("required unavailable kernel: exit %d, want 1:\n%s", code, out)
	}
	t.Setenv("QKBENCH_REQUIRE", "no-such-kernel")
	if code, out, _ := runCmd(t, "check", "--shapes", "3x1"); code != 1 || !strings.Contains(out, `QKBENCH_REQUIRE names "no-such-kernel"`) {
		t.Errorf("required unknown kernel: exit %d, want 1:\n%s", code, out)
	}
	t.Setenv("QKBENCH_REQUIRE", "")
	t.Setenv("QKBENCH_DISABLE", "ref-f32")
	if code, out, _ := runCmd(t, "check", "--shapes", "3x1", "--kernels", "ref-f32"); code != 1 || !strings.Contains(out, "disabled by QKBENCH_DISABLE") {
		t.Errorf("disabled, explicit kernel: exit %d, want 1:\n%s", code, out)
	}
}

func TestCheckUnsupportedCodebook(t *testing.T) {
	code, out, _ := runCmd(t, "check", "--shapes", "5x300", "--codebook", "ternary")
	if code != 0 || !strings.Contains(out, "unsupported codebook: test kernel takes only qk256, not ternary") {
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
		{[]string{"--preset", "seed", "--shapes", "1x1"}, "--preset and --shapes both given"},
		{[]string{"--codebook", "binary"}, `--codebook: kernels: codebook "binary"`},
		{[]string{"--codebook", "3,0,0,0"}, "--codebook"},
		{[]string{"--threads", "0"}, "--threads 0: want 1..1024"},
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

// receipt mirrors the fields the tests read back.
type receipt struct {
	Schema  string `json:"schema"`
	Commit  string `json:"commit"`
	Machine struct {
		CPU      string   `json:"cpu"`
		Features []string `json:"features"`
		CC       string   `json:"cc"`
	} `json:"machine"`
	Codebook  string `json:"codebook"`
	Seed      uint64 `json:"seed"`
	Workloads []struct {
		Name, Codebook, Source string
		Rows, Cols             int
	} `json:"workloads"`
	Kernels []struct {
		ID, Backend, ISA, Mode, Code string
		Available                    bool
		Unavailable                  string
		Results                      []struct {
			Workload, Status, Reason string
			Failure                  bool
			Agreement                *struct {
				Reference  string   `json:"reference"`
				Cosine     *float64 `json:"cosine"`
				MaxAbs     *float64 `json:"max_abs_err"`
				ExactMatch *float64 `json:"exact_match_rate"`
				Pass       bool     `json:"pass"`
			}
		}
	} `json:"kernels"`
	Pass     bool     `json:"pass"`
	Failures []string `json:"failures"`
}

func readReceipt(t *testing.T, path string) *receipt {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r receipt
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("receipt is not JSON: %v\n%s", err, b)
	}
	return &r
}

func TestCheckReceipt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "receipt.json")
	os.WriteFile(path, []byte("old"), 0o644) // replaced atomically
	code, out, stderr := runCmd(t, "check", "--shapes", "67x300,3x1", "--seed", "9", "--receipt", path)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	r := readReceipt(t, path)
	if r.Schema != ReceiptSchema || !r.Pass || r.Seed != 9 || r.Codebook != "qk256" || r.Machine.CPU == "" || r.Commit == "" || len(r.Machine.Features) == 0 && r.Machine.CPU != "unknown" {
		t.Errorf("receipt header: %+v", r)
	}
	if len(r.Workloads) != 2 || r.Workloads[0].Name != "67x300" || r.Workloads[0].Rows != 67 || !strings.Contains(r.Workloads[0].Source, "seed=9") {
		t.Errorf("workloads: %+v", r.Workloads)
	}
	seen := map[string]bool{}
	for _, k := range r.Kernels {
		seen[k.ID] = true
		if k.Code == "" || k.ISA == "" || k.Backend == "" || len(k.Results) != 2 {
			t.Errorf("kernel %s: %+v", k.ID, k)
		}
		if k.ID == "ref-i8" {
			a := k.Results[0].Agreement
			if k.Results[0].Status != "pass" || a == nil || a.Reference != "ref-i8" || *a.ExactMatch != 1 || *a.Cosine < 0.99 {
				t.Errorf("ref-i8 result: %+v", k.Results[0])
			}
		}
		if k.ID == "test-broken-i8" && (k.Available || k.Results[0].Status != "unavailable" || k.Results[0].Failure) {
			t.Errorf("test-broken-i8: %+v", k)
		}
	}
	if !seen["ref-i8"] || !seen["ref-f32"] || !seen["test-broken-i8"] {
		t.Errorf("receipt kernels: %v", seen)
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
	r := readReceipt(t, path)
	if r.Pass || len(r.Failures) != 1 || !strings.Contains(r.Failures[0], "test-broken-i8 on 16x256") {
		t.Fatalf("receipt: pass %v failures %q", r.Pass, r.Failures)
	}
	res := r.Kernels[0].Results[0]
	if r.Kernels[0].ID != "test-broken-i8" || res.Status != "fail" || !res.Failure || res.Agreement == nil || res.Agreement.Pass {
		t.Fatalf("broken kernel result: %+v", res)
	}
	// NaN output: max |Δ| is infinite, which JSON writes as null.
	if res.Agreement.MaxAbs != nil || *res.Agreement.ExactMatch != 0 {
		t.Errorf("max_abs_err %v exact %v, want null and 0", res.Agreement.MaxAbs, *res.Agreement.ExactMatch)
	}
}
