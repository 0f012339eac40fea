// Package atomicfile writes files so that a reader (or a run interrupted
// half-way) never sees half a file: the data goes to a temporary file in the
// same folder, is synced, and is renamed over the destination.
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// WriteFile writes data to path atomically, with mode 0644.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write calls fill with a temporary file in path's folder and, if fill and
// the sync succeed, renames it to path (mode 0644). On any error the
// temporary file is removed and path is left as it was.
func Write(path string, fill func(w io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = fill(f); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
