package rundir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Two runs started in the same second used the same default folder and
// mixed their files: New gives the second its own.
func TestNewNeverShares(t *testing.T) {
	base := filepath.Join(t.TempDir(), "runs", "20261206-120000-host")
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		d, err := New(base)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if seen[d.Path] {
			t.Fatalf("run %d got %s again", i, d.Path)
		}
		seen[d.Path] = true
	}
	if !seen[base+"-2"] || !seen[base+"-3"] {
		t.Errorf("folders %v, want %s, -2 and -3", seen, base)
	}
}

// A folder one run holds is refused to another; one that holds a finished
// run is refused too; stale temporary files of a killed run are removed.
func TestUseRefusesTakenFolders(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".receipt.json.tmp123"), []byte("half"), 0o644)
	d, err := Use(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".receipt.json.tmp123")); err == nil {
		t.Error("the stale temporary file is still there")
	}
	if _, err := Use(dir); !errors.Is(err, ErrBusy) {
		t.Errorf("second Use while held: %v, want ErrBusy", err)
	}
	os.WriteFile(filepath.Join(dir, "receipt.json"), []byte("{}"), 0o644)
	d.Close()
	if _, err := Use(dir); err == nil || !strings.Contains(err.Error(), "holds another run") {
		t.Errorf("Use of a folder with a receipt: %v", err)
	}
	f := filepath.Join(dir, "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := Use(f); err == nil {
		t.Error("Use of a regular file succeeded")
	}
}

// A run that fails before writing leaves no empty folder it made behind,
// and never removes a folder the user had.
func TestDiscard(t *testing.T) {
	base := filepath.Join(t.TempDir(), "r")
	d, err := New(base)
	if err != nil {
		t.Fatal(err)
	}
	d.Discard()
	if _, err := os.Stat(base); err == nil {
		t.Error("New's empty folder survived Discard")
	}
	had := t.TempDir()
	d, err = Use(had)
	if err != nil {
		t.Fatal(err)
	}
	d.Discard()
	if _, err := os.Stat(had); err != nil {
		t.Error("Discard removed a folder the user had")
	}
}
