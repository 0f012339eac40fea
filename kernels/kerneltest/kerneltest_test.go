package kerneltest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/kerneltest"
	"github.com/qkbench/qkbench/kernels/kerneltest/broken"
	"github.com/qkbench/qkbench/kernels/scalar"
)

// The reference kernels pass the whole suite, through Check (Run is tested
// by kernels/scalar's own tests).
func TestCheckRefKernels(t *testing.T) {
	for _, k := range []kernels.Kernel{scalar.RefF32, scalar.RefI8} {
		for _, f := range kerneltest.Check(k, kerneltest.Options{Short: testing.Short() || kerneltest.RaceEnabled()}) {
			t.Errorf("%s: %v", k.Info().ID, f)
		}
	}
}

// FuzzGEMV fuzzes the kernels linked into this test binary (the references).
func FuzzGEMV(f *testing.F) { kerneltest.Fuzz(f, scalar.RefF32, scalar.RefI8) }

type unavailable struct{ broken.Kernel }

func (k *unavailable) Available() error { return errors.New("no such CPU") }

func TestCheckUnavailable(t *testing.T) {
	k := &unavailable{*newBroken(sound, kernels.I8)}
	fs := kerneltest.Check(k, kerneltest.Options{})
	if len(fs) != 1 || fs[0].Part != "available" || !strings.Contains(fs[0].Msg, "no such CPU") {
		t.Fatalf("Check of an unavailable kernel = %v, want one 'available' failure with the reason", fs)
	}
}

func TestPartsRestrict(t *testing.T) {
	// Random data never overflows the int16 accumulator: only the worst case does.
	k := newBroken(int16Acc, kernels.I8)
	fs := kerneltest.Check(k, kerneltest.Options{Short: true, Parts: []string{kerneltest.PartShapes, kerneltest.PartRanges}})
	if len(fs) != 0 {
		t.Fatalf("shapes and ranges reported %v for a kernel that only overflows on the worst case", fs)
	}
	if got := kerneltest.Parts(); len(got) != 12 || got[0] != kerneltest.PartInfo {
		t.Fatalf("Parts() = %v", got)
	}
}

func TestFailureString(t *testing.T) {
	f := kerneltest.Failure{Part: "shapes", Group: "cb=qk256", Case: "7x3200", Msg: "row 6 differs"}
	if got, want := f.String(), "shapes/cb=qk256 [7x3200]: row 6 differs"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

// TestCrashAndLastCase read the Go runtime's reports of a fatal signal (in
// C code, then in Go code) and the trace lines before them.
func TestCrashAndLastCase(t *testing.T) {
	inC := "kerneltest: case: shapes/cb=qk256 [1x1]\nkerneltest: case: ranges [67x512]\n" +
		"SIGSEGV: segmentation violation\nPC=0x7f8fca84915c m=0 sigcode=2 addr=0x7f8fca847000\nsignal arrived during cgo execution\n"
	inGo := "unexpected fault address 0x7f00\nfatal error: fault\n[signal SIGBUS: bus error code=0x2 addr=0x7f00 pc=0x4a]\n"
	for _, c := range []struct{ out, crash, last string }{
		{inC, "SIGSEGV (segmentation violation)", "ranges [67x512]"},
		{inGo, "SIGBUS (bus error)", ""},
		{"FAIL: something\nexit status 1\n", "", ""},
	} {
		if got := kerneltest.Crash([]byte(c.out)); got != c.crash {
			t.Errorf("Crash(%q) = %q, want %q", c.out, got, c.crash)
		}
		if got := kerneltest.LastCase([]byte(c.out)); got != c.last {
			t.Errorf("LastCase(%q) = %q, want %q", c.out, got, c.last)
		}
	}
	// Check writes the trace lines LastCase reads.
	var b strings.Builder
	kerneltest.Check(scalar.RefI8, kerneltest.Options{Short: true, Parts: []string{kerneltest.PartScale}, Trace: &b})
	if last := kerneltest.LastCase([]byte(b.String())); !strings.HasPrefix(last, "scale/cb=") || !strings.Contains(last, "scale=0]") {
		t.Errorf("last trace line %q, want the last case of the scale part", last)
	}
}
