package dl_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels/internal/dl"
)

// TestOpen builds a one-symbol library and opens it twice, looks up a
// symbol it has and one it lacks, and opens a path with no file.
func TestOpen(t *testing.T) {
	if dl.Available != nil {
		t.Skip(dl.Available)
	}
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler:", err)
	}
	dir := t.TempDir()
	src, lib := filepath.Join(dir, "one.c"), filepath.Join(dir, "libone.so")
	if err := os.WriteFile(src, []byte("int qk_one(void) { return 1; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-o", lib, src).CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	l, err := dl.Open(lib)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := dl.Open(lib); again != l || err != nil {
		t.Errorf("second Open = %p, %v; want the same *Lib %p", again, err, l)
	}
	if p, err := l.Sym("qk_one"); p == nil || err != nil {
		t.Errorf("Sym(qk_one) = %v, %v", p, err)
	}
	if _, err := l.Sym("qk_two"); err == nil || !strings.Contains(err.Error(), "qk_two") || !strings.Contains(err.Error(), lib) {
		t.Errorf("Sym(qk_two) error %v, want one naming the symbol and %s", err, lib)
	}
	missing := filepath.Join(dir, "nothing.so")
	if _, err := dl.Open(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Open(%s) error %v, want one naming the path", missing, err)
	}
}
