package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	if err := WriteFile(p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	// A failing writer leaves the old content and no temporary file behind.
	boom := errors.New("boom")
	if err := Write(p, func(w io.Writer) error { w.Write([]byte("half")); return boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Errorf("content %q after a failed write, want one", b)
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("%d files in the folder, want 1", len(es))
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
}

// A path that is not a regular file is never renamed over: a symlink to a
// regular file gets its target replaced, a device or FIFO is written to in
// place, a directory or a dangling link is an error.
func TestNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.txt")
	os.WriteFile(target, []byte("old"), 0o644)
	link := filepath.Join(dir, "link.txt")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Lstat(link); st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced by a %v", st.Mode())
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("link target holds %q, want new", b)
	}

	// A symlink to a character device (/dev/null), and the device itself
	// made here when allowed (as root).
	nullLink := filepath.Join(dir, "null")
	os.Symlink(os.DevNull, nullLink)
	paths := []string{nullLink}
	dev := filepath.Join(dir, "dev")
	if err := mknodNull(dev); err == nil {
		paths = append(paths, dev)
	} else {
		t.Logf("no device node test: %v", err)
	}
	for _, p := range paths {
		before, _ := os.Stat(p)
		if err := WriteFile(p, make([]byte, 1<<20)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		after, _ := os.Stat(p)
		if before.Mode() != after.Mode() || after.Mode().IsRegular() {
			t.Errorf("%s: mode %v became %v", p, before.Mode(), after.Mode())
		}
		if l, _ := os.Lstat(p); p == nullLink && l.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s: the symlink was replaced", p)
		}
	}

	// A FIFO: its reader gets the data, the FIFO stays.
	fifo := filepath.Join(dir, "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Logf("no FIFO test: %v", err)
	} else {
		got := make(chan []byte)
		go func() {
			f, err := os.Open(fifo)
			if err != nil {
				got <- nil
				return
			}
			b, _ := io.ReadAll(f)
			f.Close()
			got <- b
		}()
		if err := WriteFile(fifo, []byte("through")); err != nil {
			t.Error(err)
		}
		select {
		case b := <-got:
			if string(b) != "through" {
				t.Errorf("FIFO reader got %q", b)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("the FIFO's reader got nothing in 5 s")
		}
		if st, _ := os.Lstat(fifo); st.Mode()&os.ModeNamedPipe == 0 {
			t.Errorf("the FIFO became a %v", st.Mode())
		}
	}

	os.Symlink(filepath.Join(dir, "missing", "x"), filepath.Join(dir, "dangling"))
	for _, p := range []string{dir, filepath.Join(dir, "dangling")} {
		if err := WriteFile(p, []byte("x")); err == nil {
			t.Errorf("%s: written, want an error", p)
		}
	}
	if st, err := os.Lstat(filepath.Join(dir, "dangling")); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the dangling link was replaced")
	}
}
