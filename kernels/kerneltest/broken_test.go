package kerneltest_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/internal/guard"
	"github.com/qkbench/qkbench/kernels/kerneltest"
	"github.com/qkbench/qkbench/kernels/kerneltest/broken"
)

// The broken kernels live in package broken; these names keep the tests short.
type flaw = broken.Flaw

const (
	sound         = broken.Sound
	overread      = broken.Overread
	underread     = broken.Underread
	lastRow       = broken.LastRow
	halfAway      = broken.HalfAway
	padCounts     = broken.PadCounts
	writeOutside  = broken.WriteOutside
	int16Acc      = broken.Int16Acc
	unalignedBug  = broken.UnalignedBug
	sharedScratch = broken.SharedScratch
	staleLoad     = broken.StaleLoad
	noRangeCheck  = broken.NoRangeCheck
	yAlias        = broken.YAlias
	badInfo       = broken.BadInfo
	gemvScratch   = broken.GemvScratch
	noScale       = broken.NoScale
	invOrder      = broken.InvOrder
	bf16Products  = broken.BF16Products
	globalScale   = broken.GlobalScale
	hardWired     = broken.HardWired
	deepRows      = broken.DeepRows
	panics        = broken.Panics
)

var flawNames = broken.Names

func newBroken(f flaw, mode kernels.Mode) *broken.Kernel { return broken.New(f, mode) }

// TestBrokenKernelsAreCaught runs each broken kernel through the parts that
// must catch it and checks that they do; the sound one must pass everything.
func TestBrokenKernelsAreCaught(t *testing.T) {
	cases := []struct {
		f     flaw
		mode  kernels.Mode
		parts []string // parts to run (nil: all)
		want  string   // the part that must report it ("" for none)
	}{
		{sound, kernels.I8, nil, ""},
		{sound, kernels.F32, nil, ""},
		{sound, kernels.Peer, nil, ""},
		{lastRow, kernels.Peer, []string{kerneltest.PartShapes}, kerneltest.PartShapes},
		{badInfo, kernels.I8, []string{kerneltest.PartInfo}, kerneltest.PartInfo},
		{hardWired, kernels.I8, []string{kerneltest.PartInfo}, kerneltest.PartInfo},
		{noScale, kernels.I8, []string{kerneltest.PartScale}, kerneltest.PartScale},
		{globalScale, kernels.I8, []string{kerneltest.PartInputs}, kerneltest.PartInputs},
		{noScale, kernels.F32, []string{kerneltest.PartScale}, kerneltest.PartScale},
		{invOrder, kernels.I8, []string{kerneltest.PartScale}, kerneltest.PartScale},
		{bf16Products, kernels.F32, []string{kerneltest.PartShapes}, kerneltest.PartShapes},
		{overread, kernels.I8, []string{kerneltest.PartGuardPage}, kerneltest.PartGuardPage},
		{underread, kernels.I8, []string{kerneltest.PartGuardPage}, kerneltest.PartGuardPage},
		{lastRow, kernels.I8, []string{kerneltest.PartShapes}, kerneltest.PartShapes},
		{lastRow, kernels.F32, []string{kerneltest.PartShapes}, kerneltest.PartShapes},
		{deepRows, kernels.I8, []string{kerneltest.PartShapes}, kerneltest.PartShapes},
		{deepRows, kernels.I8, []string{kerneltest.PartRanges}, kerneltest.PartRanges},
		{halfAway, kernels.I8, []string{kerneltest.PartSpecialX}, kerneltest.PartSpecialX},
		{padCounts, kernels.I8, []string{kerneltest.PartPadding}, kerneltest.PartPadding},
		{padCounts, kernels.F32, []string{kerneltest.PartPadding}, kerneltest.PartPadding},
		{writeOutside, kernels.I8, []string{kerneltest.PartRanges}, kerneltest.PartRanges},
		{int16Acc, kernels.I8, []string{kerneltest.PartWorstCase}, kerneltest.PartWorstCase},
		{unalignedBug, kernels.I8, []string{kerneltest.PartUnaligned}, kerneltest.PartUnaligned},
		{unalignedBug, kernels.F32, []string{kerneltest.PartUnaligned}, kerneltest.PartUnaligned},
		{sharedScratch, kernels.I8, []string{kerneltest.PartInputs}, kerneltest.PartInputs},
		{staleLoad, kernels.I8, []string{kerneltest.PartInputs}, kerneltest.PartInputs},
		{noRangeCheck, kernels.I8, []string{kerneltest.PartErrors}, kerneltest.PartErrors},
		{yAlias, kernels.F32, []string{kerneltest.PartUnaligned}, kerneltest.PartUnaligned},
		{panics, kernels.I8, []string{kerneltest.PartShapes}, kerneltest.PartShapes},
	}
	for _, tc := range cases {
		k := newBroken(tc.f, tc.mode)
		t.Run(k.I.ID, func(t *testing.T) {
			if tc.f == overread || tc.f == underread {
				if kerneltest.RaceEnabled() {
					t.Skip("-race turns on checkptr, which stops the unsafe read of Go memory outside x itself")
				}
			}
			fs := kerneltest.Check(k, kerneltest.Options{Short: true, Parts: tc.parts})
			if tc.want == "" {
				for _, f := range fs {
					t.Errorf("sound kernel failed: %v", f)
				}
				return
			}
			caught := false
			for _, f := range fs {
				if f.Part == tc.want {
					caught = true
				}
			}
			if !caught {
				t.Fatalf("flaw %q not caught by part %q; failures: %v", flawNames[tc.f], tc.want, fs)
			}
			t.Logf("caught, first failure: %v", fs[0])
		})
	}
}

// TestBrokenGEMVScratch: a kernel whose GEMV keeps its running sum in memory
// shared by every caller is only caught when goroutines really run in
// parallel (or by the race detector, which fails the test binary instead).
func TestBrokenGEMVScratch(t *testing.T) {
	if kerneltest.RaceEnabled() {
		t.Skip("the race detector itself reports this kernel (and would fail this test binary)")
	}
	if runtime.GOMAXPROCS(0) < 2 || runtime.NumCPU() < 2 {
		t.Skip("needs two threads running at once")
	}
	k := newBroken(gemvScratch, kernels.I8)
	for try := 1; try <= 5; try++ {
		for _, f := range kerneltest.Check(k, kerneltest.Options{Short: true, Parts: []string{kerneltest.PartConcurrent}}) {
			if f.Part == kerneltest.PartConcurrent {
				t.Logf("caught on try %d: %v", try, f)
				return
			}
		}
	}
	t.Fatal("shared GEMV accumulator not caught by the concurrent part in 5 tries")
}

// TestBrokenOverreadFaults proves the guard page really faults: in a child
// process, the over-reading kernel runs the guardpage part with faults left
// fatal (as they are for C code) and must die of SIGSEGV.
func TestBrokenOverreadFaults(t *testing.T) {
	if os.Getenv("KERNELTEST_CHILD") == "overread" {
		fs := kerneltest.Check(newBroken(overread, kernels.I8), kerneltest.Options{Parts: []string{kerneltest.PartGuardPage}, FaultsCrash: true})
		fmt.Printf("child survived with %d failures\n", len(fs))
		os.Exit(0)
	}
	if kerneltest.RaceEnabled() {
		t.Skip("-race turns on checkptr, which stops the unsafe read before the guard page can")
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	if _, free, err := guard.Alloc(1, guard.End); err != nil {
		t.Skip(err)
	} else {
		free()
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenOverreadFaults$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KERNELTEST_CHILD=overread")
	out, err := cmd.CombinedOutput()
	if errors.Is(err, syscall.ENOEXEC) {
		// Under QEMU user emulation without binfmt the test binary cannot start itself.
		t.Skipf("cannot re-run the test binary here: %v", err)
	}
	if err == nil {
		t.Fatalf("child exited 0; want a SIGSEGV. Output:\n%s", out)
	}
	if !strings.Contains(string(out), "SIGSEGV") {
		t.Fatalf("child failed (%v) but not with SIGSEGV. Output:\n%s", err, out)
	}
	i := strings.Index(string(out), "unexpected fault address")
	t.Logf("child died as expected: %v; %.80s", err, string(out[max(i, 0):]))
}

// The fuzz body catches broken kernels too (here on a few fixed inputs).
func TestFuzzCatches(t *testing.T) {
	for _, c := range []struct {
		f    flaw
		mode kernels.Mode
	}{{lastRow, kernels.I8}, {padCounts, kernels.F32}, {writeOutside, kernels.I8}, {noScale, kernels.F32}} {
		k := newBroken(c.f, c.mode)
		if fs := kerneltest.CheckFuzzInput(newBroken(sound, c.mode), 4, 300, 0x04030100, 0.5, 0x0102, []byte{0xe4, 0x1b}); len(fs) != 0 {
			t.Fatalf("sound kernel failed the fuzz body: %v", fs)
		}
		fs := kerneltest.CheckFuzzInput(k, 4, 300, 0x04030100, 0.5, 0x0102, []byte{0xe4, 0x1b})
		if len(fs) == 0 {
			t.Errorf("%s not caught by the fuzz body", k.I.ID)
		}
	}
	// Ties (seed>>1&3 == 2 gives x in halves of integers) catch the rounding flaw.
	for _, seed := range []uint64{4, 12} {
		if fs := kerneltest.CheckFuzzInput(newBroken(halfAway, kernels.I8), 2, 600, 0x04030100, 1, seed, []byte{0x7f, 0x81, 3, 5, 0xfd}); len(fs) == 0 {
			t.Errorf("seed %d: round half away from zero not caught by the fuzz body on tie inputs", seed)
		}
	}
}

// Run moves the guardpage part of a C kernel (Backend "cgo") into a child
// process, so that a fault in C code fails that part instead of killing the
// test binary. Here a Go kernel marked as cgo stands in for C: Run is called
// in a child (level 2), which runs the guardpage part in a grandchild
// (level 3) with faults left fatal.
func TestRunGuardChild(t *testing.T) {
	if v := os.Getenv("KERNELTEST_OUTER"); v != "" {
		f := overread
		if v == "sound" {
			f = sound
		}
		k := newBroken(f, kernels.I8)
		k.I.Backend = "cgo"
		kerneltest.Run(t, k)
		return
	}
	if kerneltest.RaceEnabled() {
		t.Skip("-race turns on checkptr, which stops the unsafe read before the guard page can")
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	if _, free, err := guard.Alloc(1, guard.End); err != nil {
		t.Skip(err)
	} else {
		free()
	}
	for _, v := range []string{"sound", "overread"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRunGuardChild$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "KERNELTEST_OUTER="+v, kerneltest.GuardEnv+"=")
		out, err := cmd.CombinedOutput()
		if errors.Is(err, syscall.ENOEXEC) {
			t.Skipf("cannot re-run the test binary here: %v", err)
		}
		switch {
		case v == "sound" && err != nil:
			t.Fatalf("sound kernel marked cgo failed: %v\n%s", err, out)
		case v == "sound" && !strings.Contains(string(out), "--- PASS: TestRunGuardChild/guardpage"):
			t.Fatalf("sound kernel: guardpage part did not pass:\n%s", out)
		case v == "overread" && err == nil:
			t.Fatalf("over-reading kernel marked cgo passed:\n%s", out)
		case v == "overread" && !strings.Contains(string(out), "died of a memory fault"):
			t.Fatalf("over-reading kernel marked cgo failed, but not with a memory fault in the guardpage part:\n%s", out)
		case v == "overread" && strings.Contains(string(out), "--- FAIL: TestRunGuardChild/shapes"):
			t.Fatalf("the other parts should pass:\n%s", out)
		}
	}
}
