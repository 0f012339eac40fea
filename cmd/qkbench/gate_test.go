package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/gate"
	"github.com/qkbench/qkbench/kernels/plugin/plugintest"
)

// gitRun runs git in dir and returns its trimmed output.
func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestGateEndToEnd builds qkbench at three revisions of a temporary git
// repository holding this source: rev1, rev2 = rev1 with go-i8 slowed by
// 40% through the gate's test hook (compiled in), rev3 = rev1's files again.
// The gate of rev1 against rev2 must fail on go-i8 alone; rev1 against rev3
// must pass, with the base build taken from the cache.
func TestGateEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds qkbench three times")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	src, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(src, ".git")); err != nil {
		t.Skip("not running in a git checkout of qkbench")
	}
	repo := t.TempDir()
	files := strings.Split(gitRun(t, src, "ls-files", "-co", "--exclude-standard"), "\n")
	for _, f := range files {
		if f == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			continue // deleted in the working tree
		}
		p := filepath.Join(repo, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitRun(t, repo, "init", "-q")
	gitRun(t, repo, "add", "-A")
	gitRun(t, repo, "commit", "-qm", "rev1")
	rev1 := gitRun(t, repo, "rev-parse", "HEAD")
	hook := filepath.Join(repo, "gate", "serve.go")
	orig, err := os.ReadFile(hook)
	if err != nil {
		t.Fatal(err)
	}
	slowed := bytes.Replace(orig, []byte(`var SlowdownHook = ""`), []byte(`var SlowdownHook = "go-i8=0.4"`), 1)
	if bytes.Equal(slowed, orig) {
		t.Fatal("gate/serve.go has no `var SlowdownHook = \"\"` line to change")
	}
	os.WriteFile(hook, slowed, 0o644)
	gitRun(t, repo, "commit", "-qam", "rev2: go-i8 40% slower")
	rev2 := gitRun(t, repo, "rev-parse", "HEAD")
	os.WriteFile(hook, orig, 0o644)
	gitRun(t, repo, "commit", "-qam", "rev3: rev1 again")
	rev3 := gitRun(t, repo, "rev-parse", "HEAD")

	t.Chdir(repo)
	t.Setenv(gate.EnvCache, t.TempDir())
	t.Setenv(gate.EnvSlowdown, "") // only the compiled-in hook
	os.Unsetenv(gate.EnvSlowdown)
	gateRun := func(head string) (int, *gate.Report, string) {
		out := t.TempDir()
		var stdout, stderr bytes.Buffer
		code := run([]string{"gate", "--base", rev1, "--head", head, "--kernels", "go-i8,go-f32", "--shapes", "128x1024",
			"--sample-time", "3ms", "--threshold", "10%", "--out", out}, &stdout, &stderr)
		t.Logf("gate %s..%s: exit %d\n%s%s", rev1[:7], head[:7], code, stderr.String(), stdout.String())
		b, err := os.ReadFile(filepath.Join(out, "verdict.json"))
		if err != nil {
			t.Fatalf("no verdict.json: %v", err)
		}
		var rep gate.Report
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"summary.md", "base.txt", "head.txt"} {
			if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
				t.Errorf("%s missing or empty: %v", f, err)
			}
		}
		return code, &rep, stderr.String()
	}

	code, rep, _ := gateRun(rev2)
	if code != 1 {
		t.Errorf("rev1 vs rev2 (go-i8 slowed): exit %d, want 1", code)
	}
	for _, c := range rep.Cells {
		want := gate.Same
		if c.Kernel == "go-i8" {
			want = gate.Regressed
		}
		if c.Verdict != want && !(c.Kernel != "go-i8" && c.Verdict == gate.Inconclusive) {
			t.Errorf("rev1 vs rev2: %s %s, want %s", c.Kernel, c.Verdict, want)
		}
	}
	if len(rep.Warnings) == 0 || !strings.Contains(rep.Warnings[0], "TEST HOOK") {
		t.Errorf("the report does not warn that the test hook was on: %q", rep.Warnings)
	}

	code, rep, stderr := gateRun(rev3)
	if code != 0 {
		t.Errorf("rev1 vs rev3 (same files): exit %d, want 0", code)
	}
	for _, c := range rep.Cells {
		if c.Verdict == gate.Regressed || c.Verdict == gate.Improved {
			t.Errorf("rev1 vs rev3: %s %s", c.Kernel, c.Verdict)
		}
	}
	if !strings.Contains(stderr, "base "+rev1+" ("+rev1[:12]+"): cached build") {
		t.Errorf("the second gate against the same base rebuilt it")
	}
}

// TestGatePlugins: --plugin gives a plugin's kernels to both builds, which
// the gate then times like any other; --head-plugin to the head build only,
// so gating that kernel is refused (exit 2) naming the build that lacks it.
func TestGatePlugins(t *testing.T) {
	lib := plugintest.Example(t)
	t.Setenv(childEnv, "1") // the servers are this test binary acting as qkbench
	bin := os.Args[0]
	args := []string{"gate", "--base-bin", bin, "--head-bin", bin, "--kernels", "example-c-i8", "--shapes", "64x512",
		"--sample-time", "2ms", "--threshold", "20%", "--max-pairs", "24"}
	code, out, stderr := runCmd(t, append(args, "--plugin", lib)...)
	if code != 0 || !strings.Contains(out, "example-c-i8") {
		t.Errorf("--plugin: exit %d, want 0\n%s\n%s", code, out, stderr)
	}
	code, _, stderr = runCmd(t, append(args, "--head-plugin", lib)...)
	if code != 2 || !strings.Contains(stderr, "example-c-i8: not in the base build") {
		t.Errorf("--head-plugin only: exit %d, want 2 naming the base build\n%s", code, stderr)
	}
	code, _, stderr = runCmd(t, append(args, "--plugin", filepath.Join(t.TempDir(), "none.so"))...)
	if code != 2 || !strings.Contains(stderr, "none.so") {
		t.Errorf("a missing plugin: exit %d, want 2\n%s", code, stderr)
	}
}

// Calibrating takes half an hour: interrupted after its first gate, it
// keeps the gates it finished in calibration.json, and --from analyses them.
func TestCalibrateInterruptedKeepsGates(t *testing.T) {
	if testing.Short() {
		t.Skip("runs gates")
	}
	out := filepath.Join(t.TempDir(), "cal")
	cmd := exec.Command(os.Args[0], "calibrate", "--runs", "50", "--kernels", "go-i8", "--shapes", "64x512",
		"--sample-time", "1ms", "--min-pairs", "10", "--max-pairs", "12", "--out", out)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	buf := make([]byte, 4096)
	for !strings.Contains(log.String(), "A/A gate 2/") {
		n, err := stderr.Read(buf)
		log.Write(buf[:n])
		if err != nil {
			t.Fatalf("calibrate ended before its second gate: %v\n%s", err, log.String())
		}
	}
	cmd.Process.Signal(os.Interrupt)
	rest, _ := io.ReadAll(stderr)
	log.Write(rest)
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Errorf("interrupted calibrate: %v, want exit status 2\n%s", err, log.String())
	}
	b, err := os.ReadFile(filepath.Join(out, "calibration.json"))
	if err != nil {
		t.Fatalf("the finished gates were lost: %v\n%s", err, log.String())
	}
	var cal gate.Calibration
	if err := json.Unmarshal(b, &cal); err != nil || len(cal.AA) < 2 {
		t.Fatalf("calibration.json: %v, %d A/A gates; want the 2 or more finished", err, len(cal.AA))
	}
	code, stdout, errs := runCmd(t, "calibrate", "--from", filepath.Join(out, "calibration.json"), "--min-pairs", "10", "--max-pairs", "12")
	if code != 0 || !strings.Contains(stdout, "A/A and 0 slowed gates recorded") {
		t.Errorf("--from the saved gates: exit %d\n%s\n%s", code, stdout, errs)
	}
}
