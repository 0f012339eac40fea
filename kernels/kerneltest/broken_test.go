package kerneltest_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/internal/guard"
	"github.com/qkbench/qkbench/kernels/kerneltest"
)

// A flaw is one way to get a kernel wrong.
type flaw int

const (
	sound         flaw = iota
	overread           // reads x[cols] (and ignores it)
	underread          // reads x[-1] (and ignores it)
	lastRow            // never computes the matrix's last row
	halfAway           // quantizes with round half away from zero
	padCounts          // padding codes count, with the last x
	writeOutside       // also writes (the right value of) row r1
	int16Acc           // sums u*q of a 256-column block in a wrapping int16
	unalignedBug       // skips the first floats of an x that is not 16-byte aligned
	sharedScratch      // one quantization buffer per Prepared, shared by its Inputs
	staleLoad          // a second Load on an Input keeps the first x's codes
	noRangeCheck       // GEMV trusts r0, r1 and len(y)
	yAlias             // writes y[r] through y[0]'s address rounded down to 16 bytes
	badInfo            // an id ending in -<digits>
	gemvScratch        // GEMV sums rows in one accumulator per Prepared, shared by every caller
	noScale            // forgets the tensor scale
	invOrder           // i8: y = float32(isum) * (1/s) * scale, not float32(isum) * (scale/s)
	bf16Products       // f32: rounds every product to bfloat16
	globalScale        // Prepare keeps the scale in a package variable
	hardWired          // supports only the qk256 codebook (SPEC §1: none may hard-wire one)
	deepRows           // leaves rows 96..127 of every 128-row block uncomputed (a wide kernel's last row set)
)

// lastScale is globalScale's shared state.
var lastScale float32

var flawNames = map[flaw]string{
	sound: "sound", overread: "overread", underread: "underread", lastRow: "lastrow",
	halfAway: "halfaway", padCounts: "padcounts", writeOutside: "writeoutside",
	int16Acc: "int16acc", unalignedBug: "unaligned", sharedScratch: "sharedscratch",
	staleLoad: "staleload", noRangeCheck: "norangecheck", yAlias: "yalias", badInfo: "badinfo", gemvScratch: "gemvscratch",
	globalScale: "globalscale", noScale: "noscale", invOrder: "invorder", bf16Products: "bf16",
	hardWired: "hardwired", deepRows: "deeprows",
}

// brokenKernel is a small but realistic i8 (or f32) kernel: it unpacks the
// codes at Prepare, computes Σ (cb+2)*q - 2*Σq like the SIMD kernels do, and
// carries one deliberate flaw.
type brokenKernel struct {
	kernels.Base
	flaw flaw
}

func newBroken(f flaw, mode kernels.Mode) *brokenKernel {
	k := &brokenKernel{Base: kernels.Base{I: kernels.Info{
		ID: "broken-" + flawNames[f] + "-" + mode.String(), Backend: "test", ISA: "go", Mode: mode,
		Code: "test kernel with a deliberate flaw: " + flawNames[f],
	}}, flaw: f}
	if f == badInfo {
		k.I.ID += "-2"
	}
	return k
}

func (k *brokenKernel) Available() error { return nil }

func (k *brokenKernel) Supports(cb kernels.Codebook) error {
	if k.flaw == hardWired && cb != kernels.QK256 {
		return fmt.Errorf("only qk256")
	}
	return k.Base.Supports(cb)
}

func (k *brokenKernel) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if err := kernels.CheckPrepare(k, m); err != nil {
		return nil, err
	}
	padded := m.Blocks() * kernels.BlockCols
	p := &brokenPrepared{k: k, m: m, padded: padded, u: make([]uint8, m.Rows*padded)}
	for r := 0; r < m.Rows; r++ {
		for c := 0; c < padded; c++ {
			p.u[r*padded+c] = uint8(m.Codebook[m.Code(r, c)] + 2)
		}
	}
	p.acc = make([]int64, 1)
	if k.flaw == globalScale {
		lastScale = m.Scale
	}
	if k.flaw == sharedScratch {
		p.shared = make([]int8, padded)
	}
	return p, nil
}

type brokenPrepared struct {
	k      *brokenKernel
	m      *kernels.Matrix
	padded int
	u      []uint8 // cb[code]+2 for every element, padding included
	shared []int8
	acc    []int64 // gemvScratch: one accumulator shared by every GEMV
}

func (p *brokenPrepared) Kernel() kernels.Kernel  { return p.k }
func (p *brokenPrepared) Matrix() *kernels.Matrix { return p.m }
func (p *brokenPrepared) NewInput() kernels.Input {
	in := &brokenInput{p: p, q: p.shared}
	if in.q == nil {
		in.q = make([]int8, p.padded)
	}
	in.xf = make([]float32, p.padded)
	return in
}

type brokenInput struct {
	p      *brokenPrepared
	loaded bool
	q      []int8    // padded quantized x (zeros in the padding)
	xf     []float32 // padded x for f32 mode
	sumQ   int64
	inv    float32
	s      float32
}

var sink float32

func (in *brokenInput) Load(x []float32) error {
	m, f := in.p.m, in.p.k.flaw
	if err := kernels.CheckX(in.p.k.I.ID, m, x); err != nil {
		return err
	}
	switch f {
	case overread:
		sink += *(*float32)(unsafe.Add(unsafe.Pointer(&x[0]), 4*len(x)))
	case underread:
		sink += *(*float32)(unsafe.Add(unsafe.Pointer(&x[0]), -4))
	case staleLoad:
		if in.loaded {
			return nil
		}
	}
	skip := 0
	if a := uintptr(unsafe.Pointer(&x[0])) % 16; f == unalignedBug && a != 0 {
		skip = min(len(x), int(16-a)/4)
	}
	for i := range in.xf {
		in.xf[i] = 0
		in.q[i] = 0
	}
	copy(in.xf[skip:], x[skip:])
	if f == padCounts {
		for i := m.Cols; i < in.p.padded; i++ {
			in.xf[i] = x[m.Cols-1]
		}
	}
	s := kernels.QuantizeI8(in.xf[:m.Cols], in.q)
	if f == halfAway {
		for i, v := range in.xf[:m.Cols] {
			in.q[i] = int8(max(-127, min(127, math.Round(float64(v*s)))))
		}
	}
	if f == padCounts {
		for i := m.Cols; i < in.p.padded; i++ {
			in.q[i] = in.q[m.Cols-1]
		}
	}
	in.sumQ = 0
	for _, v := range in.q {
		in.sumQ += int64(v)
	}
	in.inv = kernels.I8Inv(m.Scale, s)
	in.s = s
	in.loaded = true
	return nil
}

func (in *brokenInput) GEMV(y []float32, r0, r1 int) error {
	m, f := in.p.m, in.p.k.flaw
	if f != noRangeCheck {
		if err := kernels.CheckY(in.p.k.I.ID, m, y, r0, r1); err != nil {
			return err
		}
	}
	if !in.loaded {
		return kernels.ErrNotLoaded
	}
	for r := r0; r < r1; r++ {
		if f == lastRow && r == m.Rows-1 || f == deepRows && r%128 >= 96 {
			continue
		}
		v := in.row(r)
		if f == yAlias {
			a := uintptr(unsafe.Pointer(&y[0])) % 16
			base := unsafe.Add(unsafe.Pointer(&y[0]), -int(a))
			*(*float32)(unsafe.Add(base, 4*r)) = v
			continue
		}
		y[r] = v
	}
	if f == writeOutside && r1 < len(y) {
		y[r1] = in.row(r1)
	}
	return nil
}

func (in *brokenInput) row(r int) float32 {
	p := in.p
	u := p.u[r*p.padded : (r+1)*p.padded]
	scale := p.m.Scale
	if p.k.flaw == noScale {
		scale = 1
	}
	if p.k.flaw == globalScale {
		scale = lastScale
	}
	if p.k.I.Mode == kernels.F32 {
		var s float32
		for c, w := range u {
			prod := float32(int(w)-2) * in.xf[c]
			if p.k.flaw == bf16Products {
				prod = math.Float32frombits(math.Float32bits(prod) &^ 0xffff)
			}
			s += prod
		}
		return scale * s
	}
	if p.k.flaw == invOrder {
		var isum int64
		for c, w := range u {
			isum += int64(w) * int64(in.q[c])
		}
		return float32(isum-2*in.sumQ) * (1 / in.s) * scale
	}
	if p.k.flaw == noScale || p.k.flaw == globalScale {
		in := *in
		in.inv = kernels.I8Inv(scale, in.s)
		return in.row1(r)
	}
	return in.row1(r)
}

func (in *brokenInput) row1(r int) float32 {
	p := in.p
	u := p.u[r*p.padded : (r+1)*p.padded]
	if p.k.flaw == gemvScratch {
		p.acc[0] = 0
		for c, w := range u {
			p.acc[0] += int64(w) * int64(in.q[c])
		}
		return float32(p.acc[0]-2*in.sumQ) * in.inv
	}
	var isum int64
	for b := 0; b < p.padded; b += kernels.BlockCols {
		var acc int32
		var acc16 int16
		for c := b; c < b+kernels.BlockCols; c++ {
			if p.k.flaw == int16Acc {
				acc16 += int16(u[c]) * int16(in.q[c])
			} else {
				acc += int32(u[c]) * int32(in.q[c])
			}
		}
		isum += int64(acc) + int64(acc16)
	}
	return float32(isum-2*in.sumQ) * in.inv
}

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
