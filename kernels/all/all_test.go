package all

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/kerneltest"
	"github.com/qkbench/qkbench/kernels/plugin"
	"github.com/qkbench/qkbench/workloads"
)

// The plugins QKBENCH_PLUGINS lists join the registry before any test runs.
func TestMain(m *testing.M) {
	if _, err := plugin.LoadEnv(); err != nil {
		os.Stderr.WriteString("kernels/all: " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// TestConformance runs the conformance suite on every registered kernel:
// every backend's, and the plugins QKBENCH_PLUGINS lists.
func TestConformance(t *testing.T) { kerneltest.RunAll(t) }

// FuzzGEMV fuzzes every registered kernel that can run here:
// go test -run '^$' -fuzz FuzzGEMV ./kernels/all/
func FuzzGEMV(f *testing.F) {
	ks, err := kernels.Select("available")
	if err != nil {
		f.Fatal(err)
	}
	kerneltest.Fuzz(f, ks...)
}

// TestRequired: with every backend linked in, each kernel QKBENCH_REQUIRE
// names is registered and usable here. The conformance suite enforces it
// for the kernels it finds; this one also catches an id nobody registers (a
// typo, or a kernel left out of this build).
func TestRequired(t *testing.T) {
	if err := kernels.CheckRequired(); err != nil {
		t.Fatal(err)
	}
}

// TestEveryBackendLinked: each package under kernels/ that registers
// kernels is imported by this package, so that its kernels reach qkbench,
// the benchmarks and TestConformance.
func TestEveryBackendLinked(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "all.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	var imported []string
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		imported = append(imported, p)
	}
	const module = "github.com/qkbench/qkbench/"
	err = filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil || !strings.Contains(string(b), "kernels.Register(") {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(filepath.Join("kernels", "all", path)))
		if pkg := module + filepath.ToSlash(filepath.Clean(dir)); !slices.Contains(imported, pkg) {
			t.Errorf("%s registers kernels, but kernels/all does not import %s", path, pkg)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGEMVAllocatesNothing: once an Input has loaded a first x, Load and
// GEMV allocate nothing, on one row range or two. A kernel that allocated
// per GEMV (go-f32 and go-i8 put their 16 KiB of tables on the heap) made
// the garbage collector take one of a 2-core machine's Ps in the middle of
// timed 2-thread GEMVs.
func TestGEMVAllocatesNothing(t *testing.T) {
	ks, err := kernels.Select("available")
	if err != nil {
		t.Fatal(err)
	}
	sh, _ := workloads.ParseShape("64x1024")
	for _, cb := range []kernels.Codebook{kernels.Ternary, kernels.QK256} {
		w, err := workloads.Generate(workloads.SpecFor(sh, cb, 3))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ks {
			if k.Supports(cb) != nil {
				continue
			}
			p, err := k.Prepare(w.M)
			if err != nil {
				t.Errorf("%s: %v", k.Info().ID, err)
				continue
			}
			in := p.NewInput()
			y := make([]float32, w.M.Rows)
			gemv := func() {
				if err := in.Load(w.X); err != nil {
					t.Fatal(err)
				}
				if err := in.GEMV(y, 0, 32); err != nil {
					t.Fatal(err)
				}
				if err := in.GEMV(y, 32, w.M.Rows); err != nil {
					t.Fatal(err)
				}
			}
			gemv()
			if n := testing.AllocsPerRun(20, gemv); n > 0 {
				t.Errorf("%s (%s): Load and GEMV allocate %.1f times per call", k.Info().ID, cb, n)
			}
		}
	}
}
