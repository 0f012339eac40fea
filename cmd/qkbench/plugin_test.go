package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels/plugin/plugintest"
	"github.com/qkbench/qkbench/reports"
)

// TestPluginFlag: --plugin loads a library on every verb that selects
// kernels; a missing file is a usage error, a broken library an error
// naming it and its kernel.
func TestPluginFlag(t *testing.T) {
	lib := plugintest.Example(t)
	code, out, stderr := runCmd(t, "list", "--plugin", lib)
	if code != 0 || !strings.Contains(out, "example-c-i8") || !strings.Contains(out, "library: "+lib+" (sha256") {
		t.Errorf("list --plugin: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = runCmd(t, "list", "--plugin", lib, "--json")
	var l struct{ Kernels []ListEntry }
	if err := json.Unmarshal([]byte(out), &l); code != 0 || err != nil {
		t.Fatalf("list --json: exit %d, %v\n%s", code, err, stderr)
	}
	found := false
	for _, e := range l.Kernels {
		if e.ID == "example-c-i8" {
			found = e.Backend == "plugin" && e.Library == lib && len(e.LibrarySHA) == 64 && e.Available
		}
	}
	if !found {
		t.Errorf("list --json has no available example-c-i8 of backend plugin from %s", lib)
	}
	missing := filepath.Join(t.TempDir(), "none.so")
	for _, verb := range []string{"list", "check", "sweep", "profile", "conformance"} {
		args := []string{verb, "--plugin", missing}
		if verb == "profile" {
			args = append(args, "--kernel", "ref-i8")
		}
		if code, _, stderr := runCmd(t, args...); code != 2 || !strings.Contains(stderr, missing) {
			t.Errorf("%s --plugin %s: exit %d, stderr %q; want 2 and the path", verb, missing, code, stderr)
		}
	}
	abi := plugintest.Flawed(t, "abi")
	if code, _, stderr := runCmd(t, "sweep", "--plugin", abi, "--no-probe"); code != 1 ||
		!strings.Contains(stderr, "plugin "+abi+": kernel flaw-abi-i8: abi_version is 99") {
		t.Errorf("sweep --plugin (wrong ABI): exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := runCmd(t, "list", "--plugin", ""); code != 2 || !strings.Contains(stderr, "empty library path") {
		t.Errorf("list --plugin '': exit %d, stderr %q", code, stderr)
	}
}

// TestCheckPlugin: check --plugin runs the agreement check and, in a child
// process, the conformance suite, and records the library in the receipt.
func TestCheckPlugin(t *testing.T) {
	lib := plugintest.Example(t)
	rcPath := filepath.Join(t.TempDir(), "receipt.json")
	code, out, stderr := runCmd(t, "check", "--plugin", lib, "--kernels", "example-c-i8,ref-i8", "--shapes", "8x256,3x300", "--receipt", rcPath)
	if code != 0 || !strings.Contains(out, "conformance suite: example-c-i8 ("+lib+"): pass") {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	rc, err := reports.ReadRun(rcPath)
	if err != nil {
		t.Fatal(err)
	}
	k := rc.Kernel("example-c-i8")
	if k.Backend != "plugin" || k.Library != lib || len(k.LibrarySHA256) != 64 || k.Conformance == nil || !k.Conformance.Pass {
		t.Errorf("receipt kernel %+v (conformance %+v)", k, k.Conformance)
	}
	if c := rc.Find("example-c-i8", "3x300", 1); c == nil || c.Status != reports.StatusOK {
		t.Errorf("example-c-i8 on 3x300: %+v", c)
	}
	if rc.Kernel("ref-i8").Conformance != nil {
		t.Error("a built-in kernel got a conformance run")
	}
}

// TestCheckPluginCrash: a plugin kernel that crashes fails the check with
// the signal and the case, and this process lives on to say so.
func TestCheckPluginCrash(t *testing.T) {
	lib := plugintest.Flawed(t, "crash")
	code, out, stderr := runCmd(t, "check", "--plugin", lib, "--kernels", "flaw-crash-i8,ref-i8", "--shapes", "8x256")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{"flaw-crash-i8: conformance suite: the child process running the suite crashed: SIGSEGV (segmentation violation), in case shapes/cb=qk256 [3x1]",
		"not run: it crashed in the conformance suite"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestSweepPluginCrash: a plugin that crashes on the third workload of a
// sweep takes the process down, but the files written after the first two
// stay (a sweep with plugins writes after every workload, however soon
// after the last write), and say that the run is partial.
func TestSweepPluginCrash(t *testing.T) {
	lib := plugintest.Flawed(t, "crash")
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "sweep", "--plugin", lib, "--kernels", "flaw-crash-i8,ref-i8", "--shapes", "8x256,16x256,3x256",
		"--threads", "1", "--count", "2", "--min-time", "1ms", "--no-probe", "--quiet", "--out", dir)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "SIGSEGV") {
		t.Fatalf("the sweep did not crash (%v):\n%s", err, out)
	}
	run, err := reports.ReadRun(filepath.Join(dir, "receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !run.Partial || len(run.Cells) != 4 {
		t.Fatalf("after the crash: partial %v, %d cells (want the 4 of the first two workloads)", run.Partial, len(run.Cells))
	}
	for _, c := range run.Cells {
		if c.Status != reports.StatusOK || c.Shape == "3x256" {
			t.Errorf("cell %s %s: %s %s", c.Kernel, c.Shape, c.Status, c.Reason)
		}
	}
	k := run.Kernel("flaw-crash-i8")
	if k.Backend != "plugin" || k.Library != lib || len(k.LibrarySHA256) != 64 {
		t.Errorf("receipt kernel %+v, want backend plugin and the library", k)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "results.txt")); err != nil || !strings.Contains(string(b), "kernel=flaw-crash-i8/shape=8x256") {
		t.Errorf("results.txt (%v):\n%s", err, b)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "report.md")); err != nil || !strings.Contains(string(b), "(plugin "+lib+", sha256 "+k.LibrarySHA256+")") {
		t.Errorf("report.md does not name the plugin's library (%v):\n%s", err, b)
	}
}

// TestConformanceVerb runs the suite in process on a plugin (its kernels by
// default) and on a built-in kernel, and refuses an unknown part.
func TestConformanceVerb(t *testing.T) {
	lib := plugintest.Example(t)
	if code, out, stderr := runCmd(t, "conformance", "--plugin", lib, "--short"); code != 0 || !strings.HasPrefix(out, "PASS example-c-i8") {
		t.Errorf("conformance --plugin: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr := runCmd(t, "conformance", "--kernels", "ref-i8", "--parts", "shapes,errors", "--short", "--json")
	var r SuiteResult
	if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil || !r.Pass || r.Kernel != "ref-i8" {
		t.Errorf("conformance --json: exit %d, %v, %+v\n%s", code, err, r, stderr)
	}
	if code, _, stderr := runCmd(t, "conformance", "--parts", "nope"); code != 2 || !strings.Contains(stderr, `unknown part "nope"`) {
		t.Errorf("--parts nope: exit %d, %q", code, stderr)
	}
	withBroken(t, brokenWrongRow)
	if code, out, _ := runCmd(t, "conformance", "--kernels", "test-broken-i8", "--parts", "shapes", "--short"); code != 1 || !strings.Contains(out, "FAIL test-broken-i8") {
		t.Errorf("broken kernel: exit %d\n%s", code, out)
	}
}
