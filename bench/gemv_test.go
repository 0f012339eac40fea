package bench

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qkbench/qkbench/kernels"
	_ "github.com/qkbench/qkbench/kernels/all"
	"github.com/qkbench/qkbench/kernels/plugin"
	"github.com/qkbench/qkbench/kernels/plugin/plugintest"
	"github.com/qkbench/qkbench/workloads"
)

// BenchmarkGEMV times every selected kernel × shape × thread count (see the
// package doc for the QKBENCH_* variables). Before timing, each kernel's
// threaded output is checked against the references: a wrong kernel fails
// and is not timed.
func BenchmarkGEMV(b *testing.B) {
	if _, err := plugin.LoadEnv(); err != nil {
		b.Fatal(err)
	}
	cfg, err := ConfigFromEnv(os.Getenv)
	if err != nil {
		b.Fatal(err)
	}
	for _, id := range kernels.Required() {
		if _, err := kernels.Lookup(id); err != nil {
			b.Fatalf("QKBENCH_REQUIRE: %v", err)
		}
	}
	cases := newCaseSet(cfg)
	for _, k := range cfg.Kernels {
		b.Run("kernel="+k.Info().ID, func(b *testing.B) {
			for _, s := range cfg.Preset.Shapes {
				b.Run("shape="+s.String(), func(b *testing.B) {
					c, err := cases.get(s)
					if err != nil {
						b.Fatal(err)
					}
					benchKernel(b, k, c, cfg.Threads)
				})
			}
		})
	}
}

// caseSet generates each shape's workload once and shares it between kernels.
type caseSet struct {
	cfg   *Config
	mu    sync.Mutex
	cases map[string]*Case
}

func newCaseSet(cfg *Config) *caseSet {
	return &caseSet{cfg: cfg, cases: map[string]*Case{}}
}

func (cs *caseSet) get(s workloads.Shape) (*Case, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c, ok := cs.cases[s.String()]; ok {
		return c, nil
	}
	c, err := NewCase(s, cs.cfg.Codebook, cs.cfg.Seed)
	if err != nil {
		return nil, err
	}
	cs.cases[s.String()] = c
	return c, nil
}

// benchKernel prepares c's matrix for k once (untimed) and runs one
// sub-benchmark per thread count. An unavailable kernel, or one without
// the codebook, is skipped with the reason unless QKBENCH_REQUIRE names it.
func benchKernel(b *testing.B, k kernels.Kernel, c *Case, threads []int) {
	id := k.Info().ID
	if why, fatal := CannotRun(k, c.W.M.Codebook); fatal {
		b.Fatal(why)
	} else if why != "" {
		b.Skip(why)
	}
	start := time.Now()
	p, err := Prepare(k, c.W.M)
	prepare := time.Since(start)
	if err != nil {
		b.Fatalf("%s: prepare %s: %v", id, c.W.Name, err)
	}
	for _, n := range threads {
		b.Run(fmt.Sprintf("threads=%d", n), func(b *testing.B) {
			benchGEMV(b, p, c, n, prepare)
		})
	}
}

// benchGEMV checks then times the threaded GEMV of p.
func benchGEMV(b *testing.B, p kernels.Prepared, c *Case, threads int, prepare time.Duration) {
	r, err := NewRunner(p, threads)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	if _, err := Verify(r, c); err != nil {
		b.Fatal(err)
	}
	m := c.W.M
	y := make([]float32, m.Rows)
	b.SetBytes(m.WeightBytes())
	for b.Loop() {
		if err := r.GEMV(c.W.X, y); err != nil {
			b.Fatal(err)
		}
	}
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(m.MACs())*float64(b.N)/s/1e9, "GMAC/s")
	}
	b.ReportMetric(float64(prepare.Nanoseconds())/1e6, "prepare-ms")
}

// TestBenchmarkPlugins runs BenchmarkGEMV (in a child process, this test
// binary again) with QKBENCH_PLUGINS naming the example plugin: its kernel
// is checked and timed like the built-in ones.
func TestBenchmarkPlugins(t *testing.T) {
	lib := plugintest.Example(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkGEMV$", "-test.benchtime=2x")
	cmd.Env = append(os.Environ(), plugin.EnvVar+"="+lib, EnvKernels+"=example-c-i8,ref-i8", EnvShapes+"=8x256", EnvThreads+"=1,2")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"BenchmarkGEMV/kernel=example-c-i8/shape=8x256/threads=1", "BenchmarkGEMV/kernel=example-c-i8/shape=8x256/threads=2"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("no %s in:\n%s", want, out)
		}
	}
}
