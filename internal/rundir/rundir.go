// Package rundir gives one run its own output folder: a new folder when the
// user named none (never one another run took, even in the same second),
// and an exclusive lock for as long as the run writes, so that two runs never
// mix their files in one folder.
package rundir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// RunFiles are the files whose presence says a folder holds a run.
var RunFiles = []string{"receipt.json", "results.txt", "report.md"}

// Dir is a run folder held by this process until Close.
type Dir struct {
	Path    string
	created bool // New or Use made the folder
	lock    *os.File
}

// ErrBusy is wrapped by the error for a folder another run holds.
var ErrBusy = errors.New("another qkbench run is writing there")

// New creates a new folder for a run: path itself, or when another run took
// that name already, path-2, path-3, ... (at most 1000 tries).
func New(path string) (*Dir, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	for i := 1; i <= 1000; i++ {
		p := path
		if i > 1 {
			p = fmt.Sprintf("%s-%d", path, i)
		}
		err := os.Mkdir(p, 0o755)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		d, err := hold(p)
		if err != nil {
			os.Remove(p)
			return nil, err
		}
		d.created = true
		return d, nil
	}
	return nil, fmt.Errorf("%s and 999 numbered folders after it exist already", path)
}

// Use takes a folder the user named: it is created if needed, and refused
// when it holds another run's files or another run holds it.
func Use(path string) (*Dir, error) {
	_, statErr := os.Stat(path)
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, err
	}
	d, err := hold(path)
	if err != nil {
		return nil, err
	}
	d.created = statErr != nil
	var found []string
	for _, f := range RunFiles {
		if _, err := os.Lstat(filepath.Join(path, f)); err == nil {
			found = append(found, f)
		}
	}
	if len(found) > 0 {
		d.Close()
		return nil, fmt.Errorf("%s holds another run already (%s): give a new folder, or remove that run first", path, strings.Join(found, ", "))
	}
	return d, nil
}

// hold locks the folder, checks that it can be written, and removes the
// temporary files an earlier run killed while writing left behind.
func hold(path string) (*Dir, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if err := lock(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w (%v)", path, ErrBusy, err)
	}
	d := &Dir{Path: path, lock: f}
	probe, err := os.CreateTemp(path, ".qkbench-write-test*")
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("%s cannot be written: %w", path, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	stale, _ := filepath.Glob(filepath.Join(path, ".*.tmp*"))
	for _, s := range stale {
		os.Remove(s)
	}
	return d, nil
}

// Discard releases the folder and removes it if this run created it and
// wrote nothing there (a run that failed before measuring).
func (d *Dir) Discard() {
	d.Close()
	if d.created {
		os.Remove(d.Path) // only an empty folder goes
	}
}

// Close releases the folder.
func (d *Dir) Close() error {
	if d == nil || d.lock == nil {
		return nil
	}
	err := d.lock.Close() // closing the descriptor drops the lock
	d.lock = nil
	return err
}
