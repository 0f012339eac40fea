// Package plugintest builds the kernel plugins that tests load: the example
// of examples/plugin-c (with its own Makefile), variants of it with one
// deliberate flaw (kernels/plugin/testdata/flaws.c) and c-i2s-i8's C code as
// a plugin (kernels/plugin/testdata/i2s.c).
//
// The libraries are built once into peers/plugintest/ of the checkout (which
// git ignores) and reused while their sources stay the same.
//
// Each builder skips the test when this build cannot load plugins (no cgo,
// not linux, purego); where it can, a failed build fails the test, so that
// the plugin tests never pass by skipping on a machine that should run them.
package plugintest

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/qkbench/qkbench/kernels/plugin"
)

// Root returns the module's root folder: the first parent of the working
// directory that holds go.mod and include/qkbench_kernel.h.
func Root() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; {
		if isFile(filepath.Join(d, "go.mod")) && isFile(filepath.Join(d, "include", "qkbench_kernel.h")) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no qkbench checkout (go.mod and include/qkbench_kernel.h) above %s", wd)
		}
		d = parent
	}
}

func isFile(p string) bool { st, err := os.Stat(p); return err == nil && st.Mode().IsRegular() }

// CC is the C compiler: $CC, or cc.
func CC() string {
	if cc := os.Getenv("CC"); cc != "" {
		return cc
	}
	return "cc"
}

func root(t testing.TB) string {
	t.Helper()
	if err := plugin.Available(); err != nil {
		t.Skip(err)
	}
	r, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func run(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
}

// cached returns <root>/peers/plugintest/<name>-<hash>.so, building it
// first (into a temporary file, then renamed, so that test binaries running
// at once never see half a library) when it is not there. The hash covers
// the sources, the arguments and the compiler, so one build serves every
// test process, and a test that loads the same plugin twice gets the same
// file (a plugin's ids can be registered once per process).
func cached(t testing.TB, r, name string, srcs []string, build func(out string) []*exec.Cmd) string {
	t.Helper()
	h := sha256.New()
	fmt.Fprintln(h, CC(), name)
	for _, src := range srcs {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(h, src, len(b))
		h.Write(b)
	}
	for _, c := range build("OUT") {
		fmt.Fprintln(h, c.Args)
	}
	dir := filepath.Join(r, "peers", "plugintest")
	out := filepath.Join(dir, fmt.Sprintf("%s-%x.so", name, h.Sum(nil)[:8]))
	if isFile(out) {
		return out
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(dir, ".build-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	lib := filepath.Join(tmp, "lib.so")
	for _, c := range build(lib) {
		run(t, c)
	}
	if err := os.Rename(lib, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Example builds examples/plugin-c with its Makefile and returns the
// library's path. Its kernel is example-c-i8.
func Example(t testing.TB) string {
	t.Helper()
	r := root(t)
	ex := filepath.Join(r, "examples", "plugin-c")
	srcs := []string{filepath.Join(ex, "example.c"), filepath.Join(ex, "Makefile"), filepath.Join(r, "include", "qkbench_kernel.h")}
	return cached(t, r, "example", srcs, func(out string) []*exec.Cmd {
		return []*exec.Cmd{exec.Command("make", "--no-print-directory", "-C", ex, "QKBENCH="+r, "CC="+CC(), "OUT="+out)}
	})
}

// Flawed builds the example wrapped with one flaw of testdata/flaws.c
// ("ok", "abi", "crash", ...; "no-symbol" leaves qkbench_kernels out) and
// returns the library's path. Its kernel is flaw-<flaw>-i8.
func Flawed(t testing.TB, flaw string) string {
	t.Helper()
	r := root(t)
	example := filepath.Join(r, "examples", "plugin-c", "example.c")
	flaws := filepath.Join(r, "kernels", "plugin", "testdata", "flaws.c")
	inc := "-I" + filepath.Join(r, "include")
	srcs := []string{example, flaws, filepath.Join(r, "include", "qkbench_kernel.h")}
	return cached(t, r, "flaw-"+flaw, srcs, func(out string) []*exec.Cmd {
		f, name := flaw, "-Dqkbench_kernels=qkbench_kernels"
		if flaw == "no-symbol" {
			f, name = "ok", "-Dqkbench_kernels=not_qkbench_kernels"
		}
		// The example's list is renamed so that flaws.c can wrap it.
		obj := out + ".example.o"
		return []*exec.Cmd{
			exec.Command(CC(), "-O2", "-fPIC", "-c", inc, "-Dqkbench_kernels=example_kernels", "-o", obj, example),
			exec.Command(CC(), "-O2", "-shared", "-fPIC", inc, `-DFLAW="`+f+`"`, name, "-o", out, flaws, obj, "-lm"),
		}
	})
}

// I2S builds c-i2s-i8's C code as a plugin (plugin-i2s-i8) and returns the
// library's path; it skips the test off x86-64.
func I2S(t testing.TB) string {
	t.Helper()
	r := root(t)
	if runtime.GOARCH != "amd64" {
		t.Skipf("plugin-i2s-i8 is AVX2 code; this is %s", runtime.GOARCH)
	}
	cgo := filepath.Join(r, "kernels", "cgo")
	srcs := []string{filepath.Join(cgo, "i2s.c"), filepath.Join(cgo, "i2s.h"), filepath.Join(r, "kernels", "plugin", "testdata", "i2s.c"),
		filepath.Join(r, "include", "qkbench_kernel.h")}
	// -O3, as cgo compiles kernels/cgo/i2s.c for c-i2s-i8 (and as the
	// Makefile's plugin-i2s target builds it).
	return cached(t, r, "i2s", srcs, func(out string) []*exec.Cmd {
		return []*exec.Cmd{exec.Command(CC(), "-O3", "-shared", "-fPIC", "-I"+filepath.Join(r, "include"), "-I"+cgo,
			"-o", out, srcs[0], srcs[2], "-lm")}
	})
}
