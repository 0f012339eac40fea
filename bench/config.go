package bench

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/reports"
	"github.com/qkbench/qkbench/workloads"
)

// The environment variables BenchmarkGEMV reads.
const (
	EnvPreset   = "QKBENCH_PRESET"   // a workloads preset name; default "default"
	EnvShapes   = "QKBENCH_SHAPES"   // ROWSxCOLS,...; wins over EnvPreset
	EnvThreads  = "QKBENCH_THREADS"  // comma list of thread counts; default 1
	EnvCodebook = "QKBENCH_CODEBOOK" // any kernels.ParseCodebook value; default ternary
	EnvKernels  = "QKBENCH_KERNELS"  // kernels.Select list; default every kernel
	EnvSeed     = "QKBENCH_SEED"     // workload seed; default workloads.DefaultSeed
	// EnvActivations names the x generator (workloads.ActivationNames);
	// default gaussian.
	EnvActivations = "QKBENCH_ACTIVATIONS"
)

// Config is what one benchmark run covers: kernels × shapes × thread counts.
type Config struct {
	Kernels     []kernels.Kernel
	Preset      workloads.Preset
	Threads     []int
	Codebook    kernels.Codebook
	Seed        uint64
	Activations workloads.Activations
}

// ConfigFromEnv reads the QKBENCH_* variables through getenv (os.Getenv in
// a benchmark). A bad value is an error naming the variable and what it
// wants; nothing is silently replaced by a default.
func ConfigFromEnv(getenv func(string) string) (*Config, error) {
	c := &Config{Seed: workloads.DefaultSeed, Activations: workloads.Gaussian}
	if err := kernels.CheckDisable(); err != nil {
		return nil, err
	}
	var err error
	if c.Kernels, err = kernels.Select(getenv(EnvKernels)); err != nil {
		return nil, fmt.Errorf("%s=%q: %w", EnvKernels, getenv(EnvKernels), err)
	}
	preset, shapes := getenv(EnvPreset), getenv(EnvShapes)
	if strings.TrimSpace(preset) != "" && strings.TrimSpace(shapes) != "" {
		return nil, fmt.Errorf("%s=%q and %s=%q are both set; set one of them", EnvPreset, preset, EnvShapes, shapes)
	}
	if c.Preset, err = workloads.Resolve(preset, shapes); err != nil {
		name := EnvPreset
		if strings.TrimSpace(shapes) != "" {
			name = EnvShapes
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	threads := getenv(EnvThreads)
	if strings.TrimSpace(threads) == "" {
		threads = "1"
	}
	if c.Threads, err = ParseThreads(threads); err != nil {
		return nil, fmt.Errorf("%s: %w", EnvThreads, err)
	}
	cb := getenv(EnvCodebook)
	if strings.TrimSpace(cb) == "" {
		cb = "ternary"
	}
	if c.Codebook, err = kernels.ParseCodebook(cb); err != nil {
		return nil, fmt.Errorf("%s: %w", EnvCodebook, err)
	}
	if s := strings.TrimSpace(getenv(EnvSeed)); s != "" {
		if c.Seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			return nil, fmt.Errorf("%s=%q: want a non-negative integer", EnvSeed, s)
		}
	}
	if a := strings.TrimSpace(getenv(EnvActivations)); a != "" {
		if c.Activations, err = workloads.ParseActivations(a); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvActivations, err)
		}
	}
	return c, nil
}

// ParseThreads reads a comma list of thread counts ("1,2"), where "max"
// stands for runtime.NumCPU() and "all" for 1..NumCPU ("1,max" is 1 and
// NumCPU). Duplicates are dropped; the order is kept. An empty list is an
// error: each caller has its own default (QKBENCH_THREADS: 1).
func ParseThreads(list string) ([]int, error) {
	var out []int
	add := func(n int) {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		switch f {
		case "":
			continue
		case "max":
			add(runtime.NumCPU())
			continue
		case "all":
			for i := 1; i <= runtime.NumCPU(); i++ {
				add(i)
			}
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > MaxThreads {
			return nil, fmt.Errorf("thread count %q in %q: want an integer in 1..%d, \"max\" or \"all\"", f, list, MaxThreads)
		}
		add(n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("thread list %q names no thread count, want e.g. 1,2", list)
	}
	return out, nil
}

// Required reports whether QKBENCH_REQUIRE names the kernel id.
func Required(id string) bool { return slices.Contains(kernels.Required(), id) }

// CannotRun says why k cannot run with codebook cb ("" when it can), and
// whether that is fatal: it is when QKBENCH_REQUIRE names the kernel.
func CannotRun(k kernels.Kernel, cb kernels.Codebook) (why string, fatal bool) {
	id := k.Info().ID
	switch status, reason := Runnable(k, cb); status {
	case "":
		return "", false
	case reports.StatusUnavailable:
		why = fmt.Sprintf("%s is unavailable: %s", id, reason)
		if Required(id) {
			return "required by QKBENCH_REQUIRE: " + why, true
		}
		return why, false
	default:
		// QKBENCH_REQUIRE says a kernel must be able to run on this machine;
		// a codebook the kernel does not compute with is no failure of that.
		return fmt.Sprintf("%s does not support codebook %s: %s", id, cb.Name(), reason), false
	}
}

// Case is one generated workload with what a correct kernel must produce.
// Expected is computed on first use (it runs the slow reference loops).
type Case struct {
	W        *workloads.Workload
	once     sync.Once
	expected *kernels.Expected
}

// NewCase generates the workload of sp.
func NewCase(sp workloads.Spec) (*Case, error) {
	w, err := workloads.Generate(sp)
	if err != nil {
		return nil, err
	}
	return &Case{W: w}, nil
}

// Expected returns the oracle and ref-i8 outputs for the workload.
func (c *Case) Expected() *kernels.Expected {
	c.once.Do(func() { c.expected = kernels.Expect(c.W.M, c.W.X) })
	return c.expected
}

// Verify runs one GEMV through r on c's workload and measures it against the
// references. The error is non-nil when the GEMV failed or the kernel
// disagreed (then it carries Agreement.Why).
func Verify(r *Runner, c *Case) (kernels.Agreement, error) {
	y := make([]float32, c.W.M.Rows)
	for i := range y {
		y[i] = float32(math.NaN()) // a row the kernel skips cannot pass
	}
	id := r.Prepared().Kernel().Info()
	if err := r.GEMV(c.W.X, y); err != nil {
		return kernels.Agreement{}, err
	}
	a := c.Expected().Agree(id.Mode, y)
	if !a.Pass {
		return a, fmt.Errorf("%s disagrees on %s (%s, %d threads): %s", id.ID, c.W.Name, c.W.M.Codebook.Name(), r.Threads(), a.Why)
	}
	return a, nil
}
