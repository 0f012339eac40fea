// Package atomicfile writes files so that a reader (or a run interrupted
// half-way) never sees half a file: the data goes to a temporary file in the
// same folder, is synced, and is renamed over the destination.
//
// Only a regular file (or a new one) is replaced that way. A symbolic link is
// followed: a link to a regular file gets that file replaced and stays a
// link; anything else the path names (a device such as /dev/null or
// /dev/stdout, a FIFO) is written to in place, as a shell redirection would.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
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
// temporary file is removed and path is left as it was. When path is not a
// regular file, see the package comment.
func Write(path string, fill func(w io.Writer) error) (err error) {
	st, err := os.Lstat(path)
	if err == nil && st.Mode()&fs.ModeSymlink != 0 {
		if st, err = os.Stat(path); err != nil {
			return fmt.Errorf("%s is a symbolic link to nothing that can be written: %w", path, err)
		}
		if st.Mode().IsRegular() {
			// Replace the link's target, not the link.
			if path, err = filepath.EvalSymlinks(path); err != nil {
				return err
			}
		}
	}
	if err == nil && st.IsDir() {
		return fmt.Errorf("%s is a directory, want a file", path)
	}
	if err == nil && !st.Mode().IsRegular() {
		return writeThrough(path, fill)
	}
	return replace(path, fill)
}

// writeThrough writes to an existing file that is not a regular one (a
// device, a FIFO) in place.
func writeThrough(path string, fill func(w io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	if err := fill(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// replace writes path through a synced temporary file and a rename.
func replace(path string, fill func(w io.Writer) error) (err error) {
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
