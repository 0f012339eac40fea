package main

import (
	"bytes"
	"math"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/scalar"
)

// Test kernels, registered only in this test binary.
//
// test-broken-i8 wraps ref-i8 and is unavailable unless a test switches it
// on (so the other tests see it as an unavailable kernel, which is not a
// failure); switched on, it gets row 0 wrong or writes NaN everywhere.
// test-qk256-f32 wraps ref-f32 and refuses every codebook but qk256.
var brokenMode atomic.Int32

const (
	brokenOff = iota
	brokenWrongRow
	brokenNaN
)

func init() {
	kernels.Register(&testKernel{Base: kernels.Base{I: kernels.Info{
		ID: "test-broken-i8", Backend: "test", ISA: "go", Mode: kernels.I8,
		Code: "test: ref-i8 with a deliberate error",
	}}, inner: scalar.RefI8, broken: true})
	kernels.Register(&testKernel{Base: kernels.Base{I: kernels.Info{
		ID: "test-qk256-f32", Backend: "test", ISA: "go", Mode: kernels.F32,
		Code: "test: ref-f32 restricted to the qk256 codebook",
	}}, inner: scalar.RefF32, qk256Only: true})
}

// withBroken switches test-broken-i8 on for the rest of the test.
func withBroken(t *testing.T, mode int32) {
	brokenMode.Store(mode)
	t.Cleanup(func() { brokenMode.Store(brokenOff) })
}

type testKernel struct {
	kernels.Base
	inner     kernels.Kernel
	broken    bool
	qk256Only bool
}

func (k *testKernel) Available() error {
	if k.broken && brokenMode.Load() == brokenOff {
		return errTestKernelOff
	}
	return nil
}

var errTestKernelOff = errorString("switched off outside the tests that need it")

type errorString string

func (e errorString) Error() string { return string(e) }

func (k *testKernel) Supports(cb kernels.Codebook) error {
	if k.qk256Only && cb != kernels.QK256 {
		return errorString("test kernel takes only qk256, not " + cb.Name())
	}
	return cb.Validate()
}

// onPrepare, when set, is called by every test kernel's Prepare.
var onPrepare func()

func (k *testKernel) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if err := kernels.CheckPrepare(k, m); err != nil {
		return nil, err
	}
	if onPrepare != nil {
		onPrepare()
	}
	p, err := k.inner.Prepare(m)
	if err != nil {
		return nil, err
	}
	return &testPrepared{k: k, Prepared: p}, nil
}

type testPrepared struct {
	kernels.Prepared
	k *testKernel
}

func (p *testPrepared) Kernel() kernels.Kernel { return p.k }
func (p *testPrepared) NewInput() kernels.Input {
	return &testInput{Input: p.Prepared.NewInput(), k: p.k}
}

type testInput struct {
	kernels.Input
	k *testKernel
}

func (in *testInput) GEMV(y []float32, r0, r1 int) error {
	if err := in.Input.GEMV(y, r0, r1); err != nil {
		return err
	}
	if !in.k.broken {
		return nil
	}
	switch brokenMode.Load() {
	case brokenWrongRow:
		if r0 == 0 && r1 > 0 {
			y[0] = y[0]*2 + 1
		}
	case brokenNaN:
		for r := r0; r < r1; r++ {
			y[r] = float32(math.NaN())
		}
	}
	return nil
}

// TestMain lets this test binary stand in for qkbench in the child
// processes that check --plugin starts (and that tests start to watch a
// crash from outside).
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// runCmd runs qkbench with args and returns the exit code, stdout and stderr.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunUsage(t *testing.T) {
	if code, _, stderr := runCmd(t); code != 2 || !strings.Contains(stderr, "check") || !strings.Contains(stderr, "list") {
		t.Errorf("no args: exit %d, stderr %q; want 2 and the command list", code, stderr)
	}
	if code, _, _ := runCmd(t, "help"); code != 0 {
		t.Errorf("help: exit %d, want 0", code)
	}
	if code, _, stderr := runCmd(t, "frobnicate"); code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown verb: exit %d, stderr %q", code, stderr)
	}
	if code, _, _ := runCmd(t, "check", "-h"); code != 0 {
		t.Errorf("check -h: exit %d, want 0", code)
	}
}

func TestVersion(t *testing.T) {
	code, out, stderr := runCmd(t, "version")
	if code != 0 || !strings.HasPrefix(out, "qkbench ") || !strings.Contains(out, runtime.Version()) {
		t.Errorf("version: exit %d, %q %q", code, out, stderr)
	}
	if code, _, _ := runCmd(t, "version", "extra"); code != 2 {
		t.Errorf("version extra: exit %d, want 2", code)
	}
}

// Every verb's -h says what it does, gives examples and the exit status,
// lists its flags as the README writes them (--flag) and fits 120 columns.
func TestHelpOfEveryVerb(t *testing.T) {
	for name, v := range verbs {
		if v.hidden || strings.HasPrefix(name, "test-") {
			continue
		}
		args := []string{name, "-h"}
		if name == "gguf" {
			args = []string{"gguf", "synth", "-h"}
		}
		code, out, stderr := runCmd(t, args...)
		if code != 0 || out != "" {
			t.Errorf("%v: exit %d, stdout %q", args, code, out)
		}
		for _, want := range []string{"Usage: qkbench " + name, "Exit status:", "Flags:\n"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%v lacks %q:\n%s", args, want, stderr)
			}
		}
		if name != "version" && !strings.Contains(stderr, "Examples:\n  qkbench ") && !strings.Contains(stderr, "Examples:\n  go ") {
			t.Errorf("%v has no examples:\n%s", args, stderr)
		}
		if w := widest(stderr); w > 120 {
			t.Errorf("%v is %d columns wide", args, w)
		}
		// Format verbs left over: an escaped percent printed as is, or a
		// verb with no argument.
		for _, bad := range []string{"%%", "%!"} {
			if strings.Contains(stderr, bad) {
				t.Errorf("%v prints %q:\n%s", args, bad, stderr)
			}
		}
		_, flags, _ := strings.Cut(stderr, "Flags:\n")
		for _, f := range strings.Split(strings.ReplaceAll(flags, "\n        ", " "), "\n") {
			if strings.Count(f, "(default") > 1 {
				t.Errorf("%v: a flag's default is said twice: %s", args, f)
			}
		}
		for _, l := range strings.Split(flags, "\n") {
			if l != "" && !strings.HasPrefix(l, "  --") && !strings.HasPrefix(l, "        ") {
				t.Errorf("%v: flag line %q is not in --flag style", args, l)
			}
		}
	}
}
