package bench

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/perf/benchfmt"

	"github.com/qkbench/qkbench/kernels"
	_ "github.com/qkbench/qkbench/kernels/all"
	"github.com/qkbench/qkbench/kernels/plugin"
	"github.com/qkbench/qkbench/kernels/plugin/plugintest"
	"github.com/qkbench/qkbench/machine"
	"github.com/qkbench/qkbench/reports"
	"github.com/qkbench/qkbench/workloads"
)

// BenchmarkGEMV times every selected kernel × shape × thread count (see the
// package doc for the QKBENCH_* variables), named as a sweep's results.txt
// names the cell: GEMV/kernel=<id>/shape=<R>x<C>/threads=<n>/mode=hot.
// Before timing, each kernel's threaded output is checked against the
// references: a wrong kernel fails and is not timed.
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

// TestMain prints, before any benchmark result, the configuration lines a
// sweep's results.txt starts with (reports.FileConfig: machine, commit,
// codebook, mode), so that benchstat puts go test's results and a sweep's
// in one table and compares them cell by cell.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		// QKBENCH_PLUGINS' kernels first: QKBENCH_KERNELS may name them.
		_, perr := plugin.LoadEnv()
		if cfg, err := ConfigFromEnv(os.Getenv); err == nil && perr == nil { // BenchmarkGEMV reports a bad setting
			for _, c := range reports.FileConfig(machine.Describe(), cfg.Codebook.Name(), "hot", cfg.Activations.Tag(), false) {
				fmt.Printf("%s: %s\n", c.Key, c.Value)
			}
		}
	}
	os.Exit(m.Run())
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
	sp := workloads.SpecFor(s, cs.cfg.Codebook, cs.cfg.Seed)
	sp.Activations = cs.cfg.Activations
	c, err := NewCase(sp)
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
			// mode=hot: the sweep's name for the same cell (its cold mode has
			// no benchmark here), so that benchstat matches the two.
			b.Run("mode=hot", func(b *testing.B) { benchGEMV(b, p, c, n, prepare) })
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

// A sweep's results.txt and go test -bench named the same cell differently
// (…/threads=1/mode=hot against …/threads=1-2) and wrote different
// configuration lines, so benchstat never compared them. The child runs
// BenchmarkGEMV once; its names and configuration must be the sweep's.
func TestBenchmarkNamesMatchSweep(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkGEMV$", "-test.benchtime=1x")
	cmd.Env = append(os.Environ(), EnvKernels+"=ref-i8", EnvShapes+"=8x256", EnvThreads+"=1,2", EnvCodebook+"=", EnvPreset+"=")
	out, err := cmd.CombinedOutput()
	if errors.Is(err, syscall.ENOEXEC) {
		t.Skipf("cannot re-run the test binary here: %v", err)
	}
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	goTest := readBench(t, out)
	run := &reports.Run{Machine: *machine.Describe(), Config: reports.Config{Codebook: "ternary", Mode: "hot"}}
	for _, th := range []int{1, 2} {
		run.Cells = append(run.Cells, reports.Cell{Kernel: "ref-i8", Workload: "8x256", Shape: "8x256", Rows: 8, Cols: 256, Threads: th, Mode: "hot",
			Status: reports.StatusOK, Samples: []float64{1e-6}, Median: 1e-6, Iterations: 1, WeightBytes: 512, MACs: 2048})
	}
	var b bytes.Buffer
	if err := run.WriteBenchfmt(&b); err != nil {
		t.Fatal(err)
	}
	sweep := readBench(t, b.Bytes())
	if len(goTest) != 2 || len(sweep) != 2 {
		t.Fatalf("%d go test results, %d sweep results, want 2 each:\n%s", len(goTest), len(sweep), out)
	}
	for i := range sweep {
		if g, s := string(goTest[i].Name.Full()), string(sweep[i].Name.Full()); g != s {
			t.Errorf("go test names a cell %q, the sweep %q", g, s)
		}
		for _, c := range sweep[i].Config {
			if c.Key == "partial" {
				continue
			}
			if v := goTest[i].GetConfig(c.Key); v != string(c.Value) {
				t.Errorf("configuration %s: go test %q, sweep %q", c.Key, v, c.Value)
			}
		}
	}
}

func readBench(t *testing.T, b []byte) []*benchfmt.Result {
	t.Helper()
	var out []*benchfmt.Result
	rd := benchfmt.NewReader(bytes.NewReader(b), "x")
	for rd.Scan() {
		if r, ok := rd.Result().(*benchfmt.Result); ok {
			out = append(out, r.Clone())
		}
	}
	return out
}
