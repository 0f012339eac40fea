package gate

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Builder builds qkbench at a revision of a git checkout, the same way for
// every revision: `go build -trimpath ./cmd/qkbench` with the environment's
// Go toolchain, GOEXPERIMENT, GOFLAGS, CGO_ENABLED, GOAMD64 and C compiler.
// Builds of commits are cached by commit and build settings.
type Builder struct {
	Root     string // the checkout's top folder
	CacheDir string // cached builds; "" disables the cache
	Log      io.Writer
	// MaxCached bounds the number of cached builds (oldest removed first).
	MaxCached int
}

// WorkingTree is the revision name of the checkout's files as they are,
// uncommitted changes included.
const WorkingTree = "working tree"

// RepoRoot returns the top folder of the git checkout holding dir.
func RepoRoot(dir string) (string, error) {
	out, err := git(dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", fmt.Errorf("gate: %s is not inside a git checkout: %w", dir, err)
	}
	return strings.TrimSpace(out), nil
}

// Resolve returns the commit a revision names.
func (b *Builder) Resolve(rev string) (string, error) {
	out, err := git(b.Root, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("gate: %q does not name a commit in %s", rev, b.Root)
	}
	return strings.TrimSpace(out), nil
}

// Dirty reports whether the working tree differs from HEAD (untracked files
// under cmd/, kernels/, bench/ ... count too: go build compiles them).
func (b *Builder) Dirty() (bool, error) {
	out, err := git(b.Root, "status", "--porcelain", "--untracked-files=normal")
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(out) != "", nil
}

// settings returns the build settings that make two builds of one commit
// differ, as text; its hash keys the cache.
func settings(ctx context.Context) (string, error) {
	vars := []string{"GOVERSION", "GOEXPERIMENT", "GOFLAGS", "CGO_ENABLED", "GOAMD64", "GOARM64", "GOOS", "GOARCH", "CC", "CGO_CFLAGS", "CGO_LDFLAGS"}
	cmd := exec.CommandContext(ctx, "go", append([]string{"env"}, vars...)...)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("gate: go env: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	var sb strings.Builder
	for i, v := range vars {
		val := ""
		if i < len(lines) {
			val = lines[i]
		}
		fmt.Fprintf(&sb, "%s=%s\n", v, val)
	}
	return sb.String(), nil
}

// Build returns the path of a qkbench executable built at rev (a commit,
// or WorkingTree), into tmp when it is not cached; cached reports whether
// it came from the cache.
func (b *Builder) Build(ctx context.Context, rev, tmp string) (bin, id string, cached bool, err error) {
	set, err := settings(ctx)
	if err != nil {
		return "", "", false, err
	}
	if rev == WorkingTree {
		dirty, err := b.Dirty()
		if err != nil {
			return "", "", false, err
		}
		if dirty {
			out := filepath.Join(tmp, "worktree", "qkbench")
			if err := b.goBuild(ctx, b.Root, out); err != nil {
				return "", "", false, err
			}
			return out, WorkingTree, false, nil
		}
		rev = "HEAD" // a clean tree is its HEAD commit: cacheable
	}
	commit, err := b.Resolve(rev)
	if err != nil {
		return "", "", false, err
	}
	sum := sha256.Sum256([]byte(set))
	key := commit[:min(len(commit), 12)] + "-" + hex.EncodeToString(sum[:6])
	if b.CacheDir != "" {
		bin = filepath.Join(b.CacheDir, key, "qkbench")
		if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() {
			now := time.Now()
			os.Chtimes(filepath.Dir(bin), now, now) // most recently used
			return bin, commit, true, nil
		}
	}
	src := filepath.Join(tmp, "src-"+commit[:min(len(commit), 12)])
	if err := b.export(ctx, commit, src); err != nil {
		return "", "", false, err
	}
	defer os.RemoveAll(src)
	out := filepath.Join(tmp, key, "qkbench")
	if err := b.goBuild(ctx, src, out); err != nil {
		return "", "", false, fmt.Errorf("gate: building %s (%s): %w", rev, commit[:12], err)
	}
	if b.CacheDir == "" {
		return out, commit, false, nil
	}
	if err := b.store(out, key, set, commit); err != nil {
		fmt.Fprintf(b.log(), "gate: not caching the build of %s: %v\n", commit[:12], err)
		return out, commit, false, nil
	}
	return filepath.Join(b.CacheDir, key, "qkbench"), commit, false, nil
}

func (b *Builder) log() io.Writer {
	if b.Log == nil {
		return io.Discard
	}
	return b.Log
}

// goBuild builds ./cmd/qkbench of the module in dir into out.
func (b *Builder) goBuild(ctx context.Context, dir, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, "./cmd/qkbench")
	cmd.Dir = dir
	var msg bytes.Buffer
	cmd.Stdout, cmd.Stderr = &msg, &msg
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/qkbench in %s: %v\n%s", dir, err, strings.TrimSpace(msg.String()))
	}
	return nil
}

// export writes the files of commit into dir (git archive, unpacked here).
func (b *Builder) export(ctx context.Context, commit, dir string) error {
	cmd := exec.CommandContext(ctx, "git", "archive", "--format=tar", commit)
	cmd.Dir = b.Root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	uerr := untar(out, dir)
	io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("gate: git archive %s: %v: %s", commit, err, strings.TrimSpace(stderr.String()))
	}
	return uerr
}

// untar unpacks a git archive into dir: folders, regular files and
// symbolic links, nothing outside dir.
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("gate: reading git archive: %w", err)
		}
		name := filepath.Clean(filepath.FromSlash(h.Name))
		if !filepath.IsLocal(name) {
			return fmt.Errorf("gate: git archive entry %q leaves the folder", h.Name)
		}
		p := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o755|0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(h.Linkname, p); err != nil {
				return err
			}
		}
	}
}

// store moves a fresh build into the cache and prunes old entries.
func (b *Builder) store(bin, key, set, commit string) error {
	if err := os.MkdirAll(b.CacheDir, 0o755); err != nil {
		return err
	}
	final := filepath.Join(b.CacheDir, key)
	stage, err := os.MkdirTemp(b.CacheDir, ".tmp-"+key+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(stage, "qkbench"), data, 0o755); err != nil {
		return err
	}
	info := fmt.Sprintf("commit=%s\n%s", commit, set)
	if err := os.WriteFile(filepath.Join(stage, "build.txt"), []byte(info), 0o644); err != nil {
		return err
	}
	if err := os.Rename(stage, final); err != nil {
		if _, serr := os.Stat(filepath.Join(final, "qkbench")); serr == nil {
			return nil // another gate cached the same build meanwhile
		}
		return err
	}
	b.prune()
	return nil
}

// prune removes the least recently used cached builds beyond MaxCached.
func (b *Builder) prune() {
	if b.MaxCached <= 0 {
		return
	}
	ents, err := os.ReadDir(b.CacheDir)
	if err != nil {
		return
	}
	type ent struct {
		path string
		mod  time.Time
	}
	var es []ent
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if info, err := e.Info(); err == nil {
			es = append(es, ent{filepath.Join(b.CacheDir, e.Name()), info.ModTime()})
		}
	}
	sort.Slice(es, func(i, j int) bool { return es[i].mod.After(es[j].mod) })
	for _, e := range es[min(len(es), b.MaxCached):] {
		os.RemoveAll(e.path)
	}
}

// EnvCache names the variable that moves the build cache ("off": none).
const EnvCache = "QKBENCH_GATE_CACHE"

// DefaultCacheDir is where builds are cached: $QKBENCH_GATE_CACHE, else
// qkbench/gate-builds in the user's cache folder; "" for none.
func DefaultCacheDir() string {
	if d := os.Getenv(EnvCache); d != "" {
		if d == "off" {
			return ""
		}
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "qkbench", "gate-builds")
}

func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", errors.New(msg)
	}
	return string(out), nil
}
