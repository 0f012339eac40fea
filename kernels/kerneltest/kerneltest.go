// Package kerneltest is the conformance suite every QK256 kernel passes: the
// same shapes, codebooks, tails, guard bands and concurrency for every backend,
// checked against the float64 oracle and the ref-i8 reference.
//
// kernels/all runs it over the whole registry (RunAll): every kernel of
// every backend linked into the build, and the plugins that QKBENCH_PLUGINS
// lists, so that a new kernel is covered as soon as it is registered:
//
//	go test ./kernels/all/ -run 'TestConformance/avx2-i8'
//
// A kernel outside the registry (in another module, say) calls Run itself:
//
//	func TestMyKernel(t *testing.T) { kerneltest.Run(t, mypkg.MyKernel) }
//
// The suite is made of named parts (see Parts); each part is split into
// groups (usually one per codebook) that become sub-tests
// "<part>/cb=<codebook>". Check runs the same suite and returns its failures
// instead of failing a test, so that the suite itself can be tested against
// deliberately broken kernels (broken_test.go).
//
// What "correct" means depends on the kernel's mode (docs/format.md §2, §3):
//
//   - F32: every row within kernels.F32Tolerance of its L1 norm of the float64
//     oracle (a row whose L1 norm is 0 must be exactly 0).
//   - I8: every row bit-identical with ref-i8 (kernels.RefI8).
//   - Peer: cosine >= kernels.MinCosine over the rows checked when there are at
//     least 8 of them and they are not all exactly 0, and every row within
//     PeerRowTolerance of its L1 norm plus PeerAbsTolerance * |scale| * Σ|x|
//     (a loose bound that only catches garbage; the absolute part is for
//     rows of all-zero weights, where a peer's float arithmetic leaves noise).
//     Peers are restricted to realistic inputs: shapes with cols a multiple of
//     256 (the padding part is skipped) and, in the specialx part, only zero,
//     outlier, spike and constant x.
//
// How faults and races are caught: every kernel call runs under recover with
// debug.SetPanicOnFault, so a panic, or a guard-page fault in Go or Go
// assembly, is a failure of the part and case that caused it. A fault in C
// code cannot be recovered, so Run runs the guardpage part of C kernels in a
// child process and fails that part, naming the case, when the child dies
// (Check, in process, would die with it). The concurrent part finds
// shared mutable state when goroutines really run in parallel (GOMAXPROCS >=
// 2); `go test -race` finds it always. Under -race (and -short) the shape
// lists are trimmed.
//
// Fuzz is the same checks as a fuzz target; a backend adds
// `func FuzzGEMV(f *testing.F) { kerneltest.Fuzz(f, MyKernel) }` and runs it
// with `go test -run '^$' -fuzz FuzzGEMV ./its/package/`.
//
// Environment: QKBENCH_REQUIRE names kernels that must be available (Run
// fails instead of skipping them), QKBENCH_DISABLE switches kernels off (see
// kernels.Usable), and QKBENCH_KERNELTEST_GUARD=subprocess|inprocess says where
// the guardpage part runs (by default in a child process for Backends "cgo" and "plugin").
//
// The suite is tested by broken_test.go: a kernel with one deliberate flaw at
// a time, each caught by the named part:
//
//	reads x[cols] or x[-1]                   guardpage (and SIGSEGV in a child process with FaultsCrash)
//	skips the last row                       shapes (i8, f32 and peer)
//	rounds half away from zero               specialx (exact ties)
//	lets padding codes count                 padding
//	writes one row outside [r0, r1)          ranges
//	wrapping int16 block accumulator         worstcase (random data never overflows it)
//	mishandles x not 16-byte aligned         unaligned
//	writes y through an aligned-down pointer unaligned (guard band before y)
//	scratch shared by Inputs / stale Load    inputs
//	Prepare state in a package variable      inputs (two Prepared interleaved)
//	GEMV accumulator shared by callers       concurrent (needs 2 threads) and -race
//	no row range check                       errors (panic instead of error)
//	forgets the scale / (1/s)*scale          scale
//	bfloat16 products in an f32 kernel       shapes
//	id ending in -<digits>                   info
package kerneltest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/qkbench/qkbench/kernels"
)

// The parts of the suite, in the order they run. Each failure names the part
// that found it.
const (
	// PartInfo: Info is well formed (id, mode, backend, ISA, code), Available
	// is stable, a Prepared reports its kernel and matrix.
	PartInfo = "info"
	// PartShapes: rows 1, 2, 3, 7, 8, 67 × cols 1 ... 8640 for every codebook,
	// and 130 and 1100 rows (past 128-row blocks and 1024-row super-blocks)
	// for the named ones, whole-range GEMV into a y inside NaN guard bands.
	PartShapes = "shapes"
	// PartScale: scales other than 1 (small, negative, zero).
	PartScale = "scale"
	// PartPadding: padding codes filled with 0, 1, 2, 3 and random junk must
	// not change y.
	PartPadding = "padding"
	// PartUnaligned: x and y are windows of bigger buffers at odd float
	// offsets from a 64-byte boundary; the floats around x are NaN or huge.
	PartUnaligned = "unaligned"
	// PartRanges: GEMV over [0,1), [r-1,r), a middle range, empty ranges and
	// consecutive pieces; rows outside the range and the guard bands around y
	// keep their NaN bit pattern.
	PartRanges = "ranges"
	// PartInputs: repeated Loads on one Input (no stale state), two Inputs and
	// two Prepared interleaved (no shared mutable state), x and the matrix
	// never written.
	PartInputs = "inputs"
	// PartConcurrent: goroutines sharing one Input on disjoint row ranges,
	// goroutines with their own Input and x on one Prepared, and goroutines
	// each preparing their own matrix. Run with -race.
	PartConcurrent = "concurrent"
	// PartErrors: GEMV before Load, wrong len(x)/len(y), nil slices, bad row
	// ranges and invalid matrices are errors, not panics, and write nothing.
	PartErrors = "errors"
	// PartWorstCase: docs/format.md §2's i8 worst case, every |q| = 127 with every weight
	// at the matching extreme, cols up to 16384, and the unsigned-bias
	// extremes (all weights at cb+2 = 4 with q = +127 and q = -127).
	PartWorstCase = "worstcase"
	// PartSpecialX: all-zero x, outliers, exact rounding ties (round half to
	// even), products that only become ties when rounded to float32, tiny,
	// subnormal and huge x, a single spike.
	PartSpecialX = "specialx"
	// PartGuardPage: x, the matrix data and y placed right before (and right
	// after) a PROT_NONE page, so that an over-read or under-read faults.
	// Linux only; skipped elsewhere.
	PartGuardPage = "guardpage"
)

// Parts lists every part in the order Check runs them.
func Parts() []string {
	return []string{PartInfo, PartShapes, PartScale, PartPadding, PartUnaligned, PartRanges, PartInputs,
		PartConcurrent, PartErrors, PartWorstCase, PartSpecialX, PartGuardPage}
}

// PeerRowTolerance bounds |y - oracle| / rowL1 for every row of a Peer kernel.
const PeerRowTolerance = 0.1

// Options tune Check.
type Options struct {
	// Short trims the shape lists (Run sets it under `go test -short` and
	// with the race detector).
	Short bool
	// Parts restricts the suite to these parts (nil means all of them).
	Parts []string
	// FaultsCrash leaves memory faults fatal. By default every kernel call
	// runs with debug.SetPanicOnFault, so that a fault in Go or Go assembly
	// code (a guard page hit) becomes a failure of the part that caused it.
	// A fault in C code always kills the process.
	FaultsCrash bool

	// Trace, when set, gets a line before each case prepares its matrix:
	// "kerneltest: case: <part>/<group> [<case>]". A parent process that runs
	// the suite in a child finds the last one with LastCase, to say which case
	// a crash happened in.
	Trace io.Writer
}

// Failure is one broken rule.
type Failure struct {
	Part  string // one of the Part* names ("available" when the kernel cannot run)
	Group string // "cb=qk256", or "" for parts with one group
	Case  string // the workload and variant, e.g. "7x3200 pad=2"
	Msg   string
}

func (f Failure) String() string {
	var b strings.Builder
	b.WriteString(f.Part)
	if f.Group != "" {
		b.WriteString("/" + f.Group)
	}
	if f.Case != "" {
		b.WriteString(" [" + f.Case + "]")
	}
	b.WriteString(": " + f.Msg)
	return b.String()
}

// Check runs the suite against k and returns every failure (at most a few per
// group). An unusable kernel gives one failure of part "available".
func Check(k kernels.Kernel, opt Options) []Failure {
	if err := kernels.Usable(k); err != nil {
		return []Failure{{Part: "available", Msg: fmt.Sprintf("%s is unavailable: %v", k.Info().ID, err)}}
	}
	var out []Failure
	for _, g := range newSuite(k, opt).groups() {
		if g.skip != "" {
			continue
		}
		out = append(out, g.check()...)
	}
	return out
}

// Run runs the suite against k as sub-tests of t. An unavailable kernel is
// skipped with its reason (after checking that Prepare refuses to run it),
// unless QKBENCH_REQUIRE names it: then the test fails.
func Run(t *testing.T, k kernels.Kernel) {
	t.Helper()
	id := k.Info().ID
	if err := kernels.Usable(k); err != nil {
		if msg := checkRefuses(k); msg != "" {
			t.Errorf("%s is unavailable (%v) but %s", id, err, msg)
		}
		for _, r := range kernels.Required() {
			if r == id {
				t.Fatalf("%s is required by QKBENCH_REQUIRE but unavailable: %v", id, err)
			}
		}
		t.Skipf("%s unavailable: %v", id, err)
	}
	child := os.Getenv(childEnv) != ""
	opt := Options{Short: testing.Short() || raceEnabled, FaultsCrash: child}
	if child {
		opt.Trace = os.Stderr
	}
	byPart := map[string][]group{}
	s := newSuite(k, opt)
	for _, g := range s.groups() {
		byPart[g.part] = append(byPart[g.part], g)
	}
	for _, name := range Parts() {
		gs := byPart[name]
		if len(gs) == 0 {
			continue
		}
		if name == PartGuardPage && !child && guardInChild(k) && gs[0].skip == "" {
			t.Run(name, runGuardChild)
			continue
		}
		t.Run(name, func(t *testing.T) {
			for _, g := range gs {
				run := func(t *testing.T) {
					if g.skip != "" {
						t.Skip(g.skip)
					}
					for _, f := range g.check() {
						t.Error(f)
					}
				}
				if g.name == "" {
					run(t)
					continue
				}
				t.Run(g.name, run)
			}
		})
	}
}

// RunAll runs the suite on every kernel in the registry, each as a parallel
// sub-test named by its id: the conformance test of a whole build, which no
// kernel escapes by being left out of a test file. kernels/all runs it with
// every backend linked in and the plugins QKBENCH_PLUGINS lists loaded.
func RunAll(t *testing.T) {
	t.Helper()
	ks := kernels.List()
	if len(ks) == 0 {
		t.Fatal("no kernel is registered in this test binary")
	}
	for _, k := range ks {
		t.Run(k.Info().ID, func(t *testing.T) {
			t.Parallel()
			Run(t, k)
		})
	}
}

// checkRefuses returns "" when Prepare of an unusable kernel fails, as it
// must, and a description of what happened otherwise.
func checkRefuses(k kernels.Kernel) string {
	m, err := kernels.NewMatrix(2, 256, kernels.QK256, 1)
	if err != nil {
		return "harness: " + err.Error()
	}
	c := &checker{k: k}
	var p kernels.Prepared
	err = c.call(func() (err error) { p, err = k.Prepare(m); return err })
	_ = p
	if err == nil {
		return "Prepare succeeded: an unavailable kernel must refuse to run, never fall back"
	}
	if _, ok := err.(*panicError); ok {
		return "Prepare panicked instead of returning an error: " + err.Error()
	}
	return ""
}

// childEnv marks a child process that runs the guardpage part for its parent.
const childEnv = "QKBENCH_KERNELTEST_CHILD"

// GuardEnv chooses where Run runs the guardpage part: "subprocess" (every
// kernel), "inprocess" (none), or unset: in a child process for kernels whose
// Backend is "cgo" or "plugin", since a fault in C code cannot be recovered and would end
// the whole test binary without saying which part caused it.
const GuardEnv = "QKBENCH_KERNELTEST_GUARD"

func guardInChild(k kernels.Kernel) bool {
	switch os.Getenv(GuardEnv) {
	case "subprocess":
		return true
	case "inprocess":
		return false
	}
	b := k.Info().Backend
	return b == "cgo" || b == "plugin"
}

// runGuardChild runs the test binary again, limited to t's test (the
// guardpage part of this kernel), and fails t when the child fails or dies.
func runGuardChild(t *testing.T) {
	var pat []string
	for _, p := range strings.Split(t.Name(), "/") {
		pat = append(pat, "^"+regexp.QuoteMeta(p)+"$")
	}
	cmd := exec.Command(os.Args[0], "-test.run="+strings.Join(pat, "/"), "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if errors.Is(err, syscall.ENOEXEC) {
		// Under QEMU user emulation without binfmt the binary cannot start itself.
		t.Skipf("guard pages of a cgo kernel need a child process, and this test binary cannot re-run itself here: %v", err)
	}
	if !bytes.Contains(out, []byte("=== RUN   "+t.Name())) {
		t.Fatalf("the child process (%s %s) did not run %s (%v); output:\n%s", os.Args[0], strings.Join(cmd.Args[1:], " "), t.Name(), err, tail(out, 30))
	}
	if err != nil {
		why, show := "it failed", tail(out, 40)
		if i := faultAt(out); i >= 0 {
			why = "it died of a memory fault: the kernel read or wrote past a buffer into a guard page"
			if last := LastCase(out[:i]); last != "" {
				why += ", in case " + last
			}
			show = head(out[i:], 30)
		}
		t.Errorf("guardpage part run in a child process (%s=1): %s (%v). Output:\n%s", childEnv, why, err, show)
		return
	}
	if bytes.Contains(out, []byte("--- SKIP: "+t.Name())) {
		t.Skip("skipped in the child process")
	}
	t.Logf("passed in a child process (%s=1), %d bytes of output", childEnv, len(out))
}

// tail returns the last n lines of out.
func tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// tracePrefix starts the lines Options.Trace gets.
const tracePrefix = "kerneltest: case: "

// LastCase returns the case of the last Options.Trace line in out ("" when
// there is none): where a child process running the suite was when it died.
func LastCase(out []byte) string {
	last := ""
	for _, l := range strings.Split(string(out), "\n") {
		if c, ok := strings.CutPrefix(l, tracePrefix); ok {
			last = c
		}
	}
	return last
}

// crashRE matches the Go runtime's report of a fatal signal: "SIGSEGV:
// segmentation violation" at the start of a line (a signal in C code), or
// "[signal SIGSEGV: segmentation violation code=..." (in Go code).
var crashRE = regexp.MustCompile(`(?m)^(?:\[signal )?(SIG[A-Z0-9]+): ([a-z][a-z ]*?)(?: code=|\]|$)`)

// Crash returns the fatal signal the Go runtime reported in a process's
// output, such as "SIGSEGV (segmentation violation)", or "" when there is
// none.
func Crash(out []byte) string {
	m := crashRE.FindSubmatch(out)
	if m == nil {
		return ""
	}
	return fmt.Sprintf("%s (%s)", m[1], m[2])
}

// faultAt returns where the Go runtime's report of a fatal memory fault starts in out, or -1.
func faultAt(out []byte) int {
	for _, m := range []string{"unexpected fault address", "SIGSEGV", "SIGBUS"} {
		if i := bytes.Index(out, []byte(m)); i >= 0 {
			if j := bytes.LastIndexByte(out[:i], '\n'); j >= 0 {
				return j + 1
			}
			return 0
		}
	}
	return -1
}

// head returns the first n lines of out.
func head(out []byte, n int) string {
	lines := strings.SplitN(string(out), "\n", n+1)
	if len(lines) > n {
		lines[n] = "..."
	}
	return strings.Join(lines, "\n")
}
