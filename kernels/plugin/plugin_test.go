package plugin_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	_ "github.com/qkbench/qkbench/kernels/all"
	"github.com/qkbench/qkbench/kernels/kerneltest"
	"github.com/qkbench/qkbench/kernels/plugin"
	"github.com/qkbench/qkbench/kernels/plugin/plugintest"
	"github.com/qkbench/qkbench/workloads"
)

// TestLoadRefuses: every malformed library is refused with an error naming
// the library and, when the fault is one kernel's, that kernel; nothing of
// it is registered.
func TestLoadRefuses(t *testing.T) {
	for _, tc := range []struct{ flaw, kernel, want string }{
		{"no-symbol", "", "no qkbench_kernels function"},
		{"null-list", "", "returned NULL"},
		{"empty", "", "lists no kernel"},
		{"abi", "flaw-abi-i8", "abi_version is 99; this qkbench reads version 1"},
		{"dup", "flaw-dup-i8", "listed twice"},
		{"dup-builtin", "go-i8", "already registered (by backend scalar)"},
		{"null-fn", "flaw-null-fn-i8", "NULL gemv"},
		{"null-str", "flaw-null-str-i8", "NULL mode"},
		{"bad-mode", "flaw-bad-mode-i8", `mode "f16"`},
		{"bad-id", "Bad Id", `only a-z, 0-9`},
	} {
		t.Run(tc.flaw, func(t *testing.T) {
			lib := plugintest.Flawed(t, tc.flaw)
			before := len(kernels.List())
			ks, err := plugin.Load(lib)
			if err == nil {
				t.Fatalf("Load succeeded with %d kernels", len(ks))
			}
			var pe *plugin.Error
			if !errors.As(err, &pe) || pe.Library != lib || pe.Kernel != tc.kernel {
				t.Errorf("error %#v, want a *plugin.Error for library %s, kernel %q", err, lib, tc.kernel)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, lib) || (tc.kernel != "" && !strings.Contains(msg, "kernel "+tc.kernel)) {
				t.Errorf("error %q, want it to name %s, the kernel %q and %q", msg, lib, tc.kernel, tc.want)
			}
			if n := len(kernels.List()); n != before {
				t.Errorf("%d kernels registered by a refused library", n-before)
			}
		})
	}
	missing := filepath.Join(t.TempDir(), "nothing.so")
	if _, err := plugin.Load(missing); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load(%s) = %v, want an error wrapping fs.ErrNotExist that names the path", missing, err)
	}
	if _, err := plugin.Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Load(a folder) = %v", err)
	}
}

// TestLoadRegisters: a good library's kernel joins the registry with
// backend plugin, the library's path and hash; loading it again is a no-op.
func TestLoadRegisters(t *testing.T) {
	lib := plugintest.Flawed(t, "ok")
	ks, err := plugin.Load(lib)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 1 {
		t.Fatalf("%d kernels, want 1", len(ks))
	}
	k, err := kernels.Lookup("flaw-ok-i8")
	if err != nil || k != ks[0] {
		t.Fatalf("Lookup = %v, %v", k, err)
	}
	b, err := os.ReadFile(lib)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	i := k.Info()
	if i.Backend != "plugin" || i.Mode != kernels.I8 || i.ISA != "c" || !strings.Contains(i.Code, "plain C") ||
		i.Library == nil || i.Library.Path != lib || i.Library.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("Info = %+v (library %+v)", i, i.Library)
	}
	again, err := plugin.Load(lib)
	if err != nil || len(again) != 1 || again[0] != k {
		t.Errorf("second Load = %v, %v", again, err)
	}
	t.Setenv(plugin.EnvVar, ":"+lib+":")
	if ks, err := plugin.LoadEnv(); err != nil || len(ks) != 1 || ks[0] != k {
		t.Errorf("LoadEnv = %v, %v", ks, err)
	}
	t.Setenv(plugin.EnvVar, lib+":"+filepath.Join(t.TempDir(), "gone.so"))
	if _, err := plugin.LoadEnv(); err == nil || !strings.Contains(err.Error(), plugin.EnvVar) || !strings.Contains(err.Error(), "gone.so") {
		t.Errorf("LoadEnv with a missing library = %v", err)
	}
}

// TestRunErrors: errors from a plugin's prepare, load and gemv reach the
// caller with the library, the kernel and the plugin's message.
func TestRunErrors(t *testing.T) {
	libs := map[string]string{}
	run := func(flaw string, rows, cols int) error {
		if libs[flaw] == "" {
			libs[flaw] = plugintest.Flawed(t, flaw)
		}
		lib := libs[flaw]
		ks, err := plugin.Load(lib)
		if err != nil {
			t.Fatal(err)
		}
		w, err := workloads.Generate(workloads.Spec{Rows: rows, Cols: cols, Codebook: kernels.QK256, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		err = kernels.Run(ks[0], w.M, w.X, make([]float32, rows))
		if err != nil && (!strings.Contains(err.Error(), lib) || !strings.Contains(err.Error(), "kernel flaw-"+flaw+"-i8")) {
			t.Errorf("%s: error %q does not name the library and the kernel", flaw, err)
		}
		return err
	}
	for _, tc := range []struct {
		flaw       string
		rows, cols int
		want       string // "" for success
	}{
		{"prepare", 4, 256, ""},
		{"prepare", 5, 256, "prepare 5x256 cb=qk256: refuses 5 rows"},
		{"load", 5, 256, ""},
		{"load", 5, 300, "load (x of 300): refuses 300 columns"},
		{"gemv", 4, 256, ""},
		{"gemv", 5, 256, "gemv rows [0, 5) of 5x256: returned 7"},
	} {
		err := run(tc.flaw, tc.rows, tc.cols)
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s on %dx%d: %v, want %q", tc.flaw, tc.rows, tc.cols, err, tc.want)
		}
	}
	ks, err := plugin.Load(plugintest.Flawed(t, "unavailable"))
	if err != nil {
		t.Fatal(err)
	}
	if err := kernels.Usable(ks[0]); err == nil || !strings.Contains(err.Error(), "needs a CPU that does not exist") {
		t.Errorf("Usable = %v, want the plugin's reason", err)
	}
	m, _ := kernels.NewMatrix(2, 256, kernels.QK256, 1)
	if _, err := ks[0].Prepare(m); err == nil {
		t.Error("an unavailable plugin kernel prepared a matrix")
	}
}

// TestOverreadFaults: the codes a plugin gets end at an unmapped page, so a
// prepare that reads one byte past them dies of SIGSEGV (in a child process,
// this test binary run again).
func TestOverreadFaults(t *testing.T) {
	const env = "QKBENCH_TEST_OVERREAD_LIB"
	if lib := os.Getenv(env); lib != "" {
		ks, err := plugin.Load(lib)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := kernels.NewMatrix(3, 300, kernels.QK256, 1)
		_, err = ks[0].Prepare(m)
		t.Fatalf("Prepare returned (%v) instead of faulting", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOverreadFaults$", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"="+plugintest.Flawed(t, "overread"))
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "SIGSEGV") {
		t.Fatalf("child: %v, want a death by SIGSEGV; output:\n%s", err, out)
	}
}

// TestSupportsProbe: a peer refusing codebooks in prepare is unsupported
// for them, with its message, and passes the suite on the ternary one.
func TestSupportsProbe(t *testing.T) {
	ks, err := plugin.Load(plugintest.Flawed(t, "ternary"))
	if err != nil {
		t.Fatal(err)
	}
	k := ks[0]
	if k.Info().Mode != kernels.Peer {
		t.Fatalf("mode %v", k.Info().Mode)
	}
	if err := k.Supports(kernels.Ternary); err != nil {
		t.Errorf("Supports(ternary) = %v", err)
	}
	if err := k.Supports(kernels.QK256); err == nil || !strings.Contains(err.Error(), "computes only the ternary codebook") {
		t.Errorf("Supports(qk256) = %v, want the plugin's reason", err)
	}
	if err := k.Supports(kernels.Codebook{3, 0, 0, 0}); err == nil {
		t.Error("Supports accepted an invalid codebook")
	}
	kerneltest.Run(t, k)
}

// TestExample is the conformance suite on examples/plugin-c, built with its
// own Makefile.
func TestExample(t *testing.T) {
	ks, err := plugin.Load(plugintest.Example(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 1 || ks[0].Info().ID != "example-c-i8" {
		t.Fatalf("kernels %v, want example-c-i8", ks)
	}
	kerneltest.Run(t, ks[0])
}

// TestI2SPlugin: c-i2s-i8's C code built as a plugin passes the suite and
// gives the same y as c-i2s-i8 itself.
func TestI2SPlugin(t *testing.T) {
	ks, err := plugin.Load(plugintest.I2S(t))
	if err != nil {
		t.Fatal(err)
	}
	k := ks[0]
	kerneltest.Run(t, k)
	ref, err := kernels.Lookup("c-i2s-i8")
	if err != nil {
		t.Fatal(err)
	}
	if err := kernels.Usable(ref); err != nil {
		t.Skip(err)
	}
	w, err := workloads.Generate(workloads.Spec{Rows: 67, Cols: 3200, Codebook: kernels.Ternary, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	got, want := make([]float32, 67), make([]float32, 67)
	if err := kernels.Run(k, w.M, w.X, got); err != nil {
		t.Fatal(err)
	}
	if err := kernels.Run(ref, w.M, w.X, want); err != nil {
		t.Fatal(err)
	}
	for r := range got {
		if got[r] != want[r] {
			t.Fatalf("row %d: plugin %g, c-i2s-i8 %g", r, got[r], want[r])
		}
	}
}
