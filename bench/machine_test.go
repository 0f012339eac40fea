package bench

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	m := Describe()
	if m.OS != runtime.GOOS || m.Arch != runtime.GOARCH || m.GoVersion != runtime.Version() {
		t.Errorf("os/arch/go = %s/%s/%s", m.OS, m.Arch, m.GoVersion)
	}
	if m.CPU == "" || m.Vendor == "" || m.CC == "" || m.Hostname == "" || m.Commit == "" || m.NumCPU < 1 {
		t.Errorf("empty fields in %+v", m)
	}
	if runtime.GOARCH == "amd64" && len(m.Features) == 0 {
		t.Error("no CPU features on amd64")
	}
	// In a git checkout of qkbench (as in development and CI) the commit
	// and dirty state must be found.
	root := ModuleRoot()
	if root == "" {
		t.Fatal("ModuleRoot found no qkbench go.mod above the test's directory")
	}
	if out, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output(); err == nil {
		if want := strings.TrimSpace(string(out)); m.Commit != want || m.Dirty == nil {
			t.Errorf("commit %q dirty %v, want %q and a dirty state", m.Commit, m.Dirty, want)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"cpu":`, `"features":`, `"l2_bytes":`, `"commit":`, `"dirty":`, `"cc":`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s: %s", key, b)
		}
	}
}

func TestIsModuleRoot(t *testing.T) {
	dir := t.TempDir()
	if isModuleRoot(dir) {
		t.Fatal("empty dir is a module root")
	}
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/other\n\ngo 1.26\n"), 0o644)
	if isModuleRoot(dir) {
		t.Fatal("another module counted as qkbench")
	}
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("// c\nmodule "+ModulePath+"\n"), 0o644)
	if !isModuleRoot(dir) {
		t.Fatal("qkbench go.mod not recognized")
	}
}
