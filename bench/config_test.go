package bench

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigFromEnvDefaults(t *testing.T) {
	c, err := ConfigFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Preset.Name != "default" || len(c.Preset.Shapes) == 0 || c.Preset.Shapes[0].String() != "2048x4096" {
		t.Errorf("preset %+v, want default starting with 2048x4096", c.Preset)
	}
	if fmt.Sprint(c.Threads) != "[1]" || c.Codebook != kernels.Ternary || c.Seed != 42 {
		t.Errorf("threads %v codebook %v seed %d, want [1] ternary 42", c.Threads, c.Codebook, c.Seed)
	}
	if len(c.Kernels) != len(kernels.List()) {
		t.Errorf("%d kernels, want all %d", len(c.Kernels), len(kernels.List()))
	}
}

func TestConfigFromEnv(t *testing.T) {
	c, err := ConfigFromEnv(env(map[string]string{
		EnvShapes: "3x1, 67x3200", EnvThreads: "1,2,2,4", EnvCodebook: "ternary",
		EnvKernels: "ref-i8", EnvSeed: "7",
	}))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%v %v %v %v %d %s %d", c.Preset.Shapes[0], c.Preset.Shapes[1], c.Threads, c.Codebook, c.Seed, c.Kernels[0].Info().ID, len(c.Kernels))
	if want := "3x1 67x3200 [1 2 4] ternary 7 ref-i8 1"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	c, err = ConfigFromEnv(env(map[string]string{EnvPreset: "bitnet-3b"}))
	if err != nil || c.Preset.Name != "bitnet-3b" || c.Activations != workloads.Gaussian {
		t.Errorf("preset bitnet-3b: %+v, %v", c, err)
	}
	if c, err = ConfigFromEnv(env(map[string]string{EnvActivations: " extreme "})); err != nil || c.Activations != workloads.Extreme {
		t.Errorf("QKBENCH_ACTIVATIONS=extreme: %+v, %v", c, err)
	}
}

func TestConfigFromEnvErrors(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string // the error must name the variable and the bad value
	}{
		{map[string]string{EnvPreset: "nope"}, `QKBENCH_PRESET: workloads: unknown preset "nope"`},
		{map[string]string{EnvShapes: "2048by4096"}, `QKBENCH_SHAPES: workloads: shape "2048by4096"`},
		{map[string]string{EnvShapes: "0x5"}, "QKBENCH_SHAPES"},
		{map[string]string{EnvShapes: ","}, "QKBENCH_SHAPES"},
		{map[string]string{EnvPreset: "seed", EnvShapes: "1x1"}, "both set"},
		{map[string]string{EnvThreads: "0"}, `QKBENCH_THREADS: thread count "0"`},
		{map[string]string{EnvThreads: "two"}, `QKBENCH_THREADS: thread count "two"`},
		{map[string]string{EnvThreads: "1,100000"}, `QKBENCH_THREADS: thread count "100000"`},
		{map[string]string{EnvThreads: ","}, "QKBENCH_THREADS"},
		{map[string]string{EnvCodebook: "binary"}, `QKBENCH_CODEBOOK: kernels: codebook "binary"`},
		{map[string]string{EnvCodebook: "1,2,3,4"}, "QKBENCH_CODEBOOK"},
		{map[string]string{EnvKernels: "no-such-kernel"}, `QKBENCH_KERNELS="no-such-kernel": kernels: unknown kernel "no-such-kernel"`},
		{map[string]string{EnvSeed: "-1"}, `QKBENCH_SEED="-1"`},
		{map[string]string{EnvActivations: "laplace"}, `QKBENCH_ACTIVATIONS: unknown activations "laplace"`},
	} {
		_, err := ConfigFromEnv(env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want it to contain %q", tc.env, err, tc.want)
		}
	}
}

func TestCannotRun(t *testing.T) {
	k := newProbe()
	if why, fatal := CannotRun(k, kernels.Ternary); why != "" || fatal {
		t.Errorf("usable kernel: %q %v", why, fatal)
	}
	t.Setenv("QKBENCH_DISABLE", "probe")
	if why, fatal := CannotRun(k, kernels.QK256); !strings.Contains(why, "probe-i8 is unavailable: disabled by QKBENCH_DISABLE") || fatal {
		t.Errorf("disabled kernel: %q %v", why, fatal)
	}
	t.Setenv("QKBENCH_REQUIRE", "ref-i8, probe-i8")
	if why, fatal := CannotRun(k, kernels.QK256); !strings.HasPrefix(why, "required by QKBENCH_REQUIRE: probe-i8 is unavailable") || !fatal {
		t.Errorf("required disabled kernel: %q %v", why, fatal)
	}
	t.Setenv("QKBENCH_DISABLE", "")
	k.qk256Only = true
	// Required means "must be able to run here", not "must support every
	// codebook": a required kernel skips a codebook it does not compute with.
	if why, fatal := CannotRun(k, kernels.Ternary); !strings.Contains(why, "probe-i8 does not support codebook ternary") || fatal {
		t.Errorf("required kernel without the codebook: %q %v", why, fatal)
	}
}

// Two thread-list parsers disagreed on what "" meant (1, or 1 and NumCPU);
// there is one now, "" is an error and each caller states its default.
func TestParseThreads(t *testing.T) {
	n := runtime.NumCPU()
	all := ""
	for i := 1; i <= n; i++ {
		all += fmt.Sprint(i, " ")
	}
	for in, want := range map[string]string{
		"1,2": "[1 2]", "2, 1 ,2": "[2 1]", "max": fmt.Sprintf("[%d]", n), "1,max": fmt.Sprint([]int{1, n}[:min(2, n)]),
		"all": "[" + strings.TrimSpace(all) + "]",
	} {
		got, err := ParseThreads(in)
		if err != nil || fmt.Sprint(got) != want {
			t.Errorf("ParseThreads(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", " , ", "0", "1025", "two", "-1"} {
		if got, err := ParseThreads(in); err == nil {
			t.Errorf("ParseThreads(%q) = %v, want an error", in, got)
		}
	}
}
