package kerneltest

import (
	"fmt"
	"math"
	"runtime/debug"
	"sync"
	"unsafe"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

// maxFailures caps the failures one group reports.
const maxFailures = 8

// Codebooks are the codebooks every part walks: the two named ones and
// arbitrary ones (all equal, all zero, asymmetric, shuffled).
var Codebooks = []kernels.Codebook{
	kernels.QK256,
	kernels.Ternary,
	{2, 2, 2, 2},
	{0, 0, 0, 0},
	{-2, 0, 1, 2},
	{1, -1, 2, -2},
}

// suite is the suite bound to one kernel.
type suite struct {
	k    kernels.Kernel
	mode kernels.Mode
	opt  Options
}

func newSuite(k kernels.Kernel, opt Options) *suite {
	return &suite{k: k, mode: k.Info().Mode, opt: opt}
}

// group is one sub-test: a part, usually for one codebook.
type group struct {
	s    *suite
	part string
	name string // "cb=qk256", or "" for parts with one group
	skip string // non-empty: why this group does not apply to the kernel
	run  func(c *checker)
}

func (g group) check() []Failure {
	c := &checker{k: g.s.k, id: g.s.k.Info().ID, mode: g.s.mode, opt: g.s.opt, part: g.part, group: g.name}
	g.run(c)
	if c.dropped > 0 {
		c.fails = append(c.fails, Failure{Part: g.part, Group: g.name, Msg: fmt.Sprintf("... and %d more failures", c.dropped)})
	}
	return c.fails
}

func (s *suite) want(part string) bool {
	if s.opt.Parts == nil {
		return true
	}
	for _, p := range s.opt.Parts {
		if p == part {
			return true
		}
	}
	return false
}

// groups lists every group of the parts selected.
func (s *suite) groups() []group {
	var out []group
	add := func(part string, f func() []group) {
		if s.want(part) {
			out = append(out, f()...)
		}
	}
	add(PartInfo, s.info)
	add(PartShapes, s.shapes)
	add(PartScale, s.scale)
	add(PartPadding, s.padding)
	add(PartUnaligned, s.unaligned)
	add(PartRanges, s.ranges)
	add(PartInputs, s.inputs)
	add(PartConcurrent, s.concurrent)
	add(PartErrors, s.errors)
	add(PartWorstCase, s.worstcase)
	add(PartSpecialX, s.specialx)
	add(PartGuardPage, s.guardpage)
	return out
}

// perCodebook makes one group per codebook of cbs, skipped with the kernel's
// reason when it does not support the codebook.
func (s *suite) perCodebook(part string, cbs []kernels.Codebook, f func(c *checker, cb kernels.Codebook)) []group {
	var out []group
	for _, cb := range cbs {
		g := group{s: s, part: part, name: "cb=" + cb.Name()}
		if err := s.supports(cb); err != nil {
			g.skip = fmt.Sprintf("%s does not support codebook %s: %v", s.k.Info().ID, cb.Name(), err)
		} else {
			g.run = func(c *checker) { f(c, cb) }
		}
		out = append(out, g)
	}
	return out
}

// one makes a single group that runs with the first codebook the kernel supports.
func (s *suite) one(part string, f func(c *checker, cb kernels.Codebook)) []group {
	g := group{s: s, part: part}
	for _, cb := range Codebooks {
		if s.supports(cb) == nil {
			g.run = func(c *checker) { f(c, cb) }
			return []group{g}
		}
	}
	g.skip = fmt.Sprintf("%s supports none of the suite's codebooks", s.k.Info().ID)
	return []group{g}
}

func (s *suite) supports(cb kernels.Codebook) (err error) {
	c := &checker{k: s.k, opt: s.opt}
	return c.call(func() error { return s.k.Supports(cb) })
}

// shapeOK says whether a shape is one the kernel must handle: every shape,
// except that peers only get cols that are a multiple of 256.
func (s *suite) shapeOK(rows, cols int) bool {
	return s.mode != kernels.Peer || cols%kernels.BlockCols == 0
}

// checker runs kernel calls and records failures for one group.
type checker struct {
	k       kernels.Kernel
	id      string
	mode    kernels.Mode
	opt     Options
	part    string
	group   string
	cas     string
	fails   []Failure
	dropped int
}

func (c *checker) failf(format string, args ...any) {
	if len(c.fails) >= maxFailures {
		c.dropped++
		return
	}
	c.fails = append(c.fails, Failure{Part: c.part, Group: c.group, Case: c.cas, Msg: fmt.Sprintf(format, args...)})
}

// panicError is a panic (or a memory fault) inside a kernel call.
type panicError struct{ msg string }

func (e *panicError) Error() string { return e.msg }

// call runs f, turning a panic, and (unless FaultsCrash) a memory fault in Go
// code, into a *panicError.
func (c *checker) call(f func() error) (err error) {
	if !c.opt.FaultsCrash {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	}
	defer func() {
		if p := recover(); p != nil {
			if a, ok := p.(interface{ Addr() uintptr }); ok {
				err = &panicError{fmt.Sprintf("memory fault at %#x (an access outside the buffers it was given hit a guard page): %v", a.Addr(), p)}
				return
			}
			err = &panicError{fmt.Sprintf("panic: %v", p)}
		}
	}()
	return f()
}

func (c *checker) prepare(m *kernels.Matrix) kernels.Prepared {
	if c.opt.Trace != nil {
		where := c.part
		if c.group != "" {
			where += "/" + c.group
		}
		fmt.Fprintf(c.opt.Trace, "%s%s [%s]\n", tracePrefix, where, c.cas)
	}
	var p kernels.Prepared
	err := c.call(func() (err error) { p, err = c.k.Prepare(m); return err })
	switch {
	case err != nil:
		c.failf("Prepare(%s cb=%s scale=%g): %v", m.Shape(), m.Codebook.Name(), m.Scale, err)
		return nil
	case p == nil:
		c.failf("Prepare(%s) returned a nil Prepared and no error", m.Shape())
		return nil
	}
	return p
}

func (c *checker) newInput(p kernels.Prepared) kernels.Input {
	var in kernels.Input
	if err := c.call(func() error { in = p.NewInput(); return nil }); err != nil {
		c.failf("NewInput: %v", err)
		return nil
	}
	if in == nil {
		c.failf("NewInput returned nil")
	}
	return in
}

func (c *checker) load(in kernels.Input, x []float32) bool {
	if err := c.call(func() error { return in.Load(x) }); err != nil {
		c.failf("Load(x of %d): %v", len(x), err)
		return false
	}
	return true
}

func (c *checker) gemv(in kernels.Input, y []float32, r0, r1 int) bool {
	if err := c.call(func() error { return in.GEMV(y, r0, r1) }); err != nil {
		c.failf("GEMV(y of %d, %d, %d): %v", len(y), r0, r1, err)
		return false
	}
	return true
}

// setup prepares m and loads x into a new Input.
func (c *checker) setup(m *kernels.Matrix, x []float32) (kernels.Prepared, kernels.Input) {
	p := c.prepare(m)
	if p == nil {
		return nil, nil
	}
	in := c.newInput(p)
	if in == nil || !c.load(in, x) {
		return p, nil
	}
	return p, in
}

// runFull prepares m, loads x, runs GEMV over all rows into a y inside NaN
// guard bands and checks y and the guards. It reports whether all was well.
func (c *checker) runFull(m *kernels.Matrix, x []float32, e *expected) bool {
	_, in := c.setup(m, x)
	if in == nil {
		return false
	}
	return c.gemvCheck(in, newYBuf(m.Rows, 3, 5), e, 0, m.Rows)
}

// gemvCheck runs GEMV over [r0, r1) into yb and checks it.
func (c *checker) gemvCheck(in kernels.Input, yb *ybuf, e *expected, r0, r1 int) bool {
	if !c.gemv(in, yb.y(), r0, r1) {
		return false
	}
	return c.checkY(yb, e, r0, r1)
}

// checkY checks rows [r0, r1) of yb against e and that nothing else changed.
func (c *checker) checkY(yb *ybuf, e *expected, r0, r1 int) bool {
	ok := true
	if why := yb.untouched(r0, r1); why != "" {
		c.failf("GEMV(y, %d, %d) %s", r0, r1, why)
		ok = false
	}
	if why := c.verify(e, yb.y(), r0, r1); why != "" {
		c.failf("GEMV(y, %d, %d): %s", r0, r1, why)
		ok = false
	}
	return ok
}

// verify compares y[r0:r1] with e by the rule of the kernel's mode and
// returns "" or what is wrong.
func (c *checker) verify(e *expected, y []float32, r0, r1 int) string {
	if r0 >= r1 {
		return ""
	}
	sub := &kernels.Expected{Oracle: e.Oracle[r0:r1], L1: e.L1[r0:r1], I8: e.I8[r0:r1]}
	a := sub.Agree(c.mode, y[r0:r1])
	switch c.mode {
	case kernels.I8:
		if a.ExactMatch == 1 {
			return ""
		}
		bad, first := 0, -1
		for r := r0; r < r1; r++ {
			if y[r] != e.I8[r] {
				bad++
				if first < 0 {
					first = r
				}
			}
		}
		return fmt.Sprintf("%d of %d rows differ from ref-i8; row %d: y=%g (bits %#08x), ref-i8 %g (bits %#08x), oracle %g",
			bad, r1-r0, first, y[first], math.Float32bits(y[first]), e.I8[first], math.Float32bits(e.I8[first]), e.Oracle[first])
	case kernels.F32:
		if a.Pass {
			return ""
		}
		r := worstRow(e, y, r0, r1)
		return fmt.Sprintf("row %d: y=%g, oracle %g, |Δ|/rowL1 = %.3g > %g (rowL1 %g)", r, y[r], e.Oracle[r], relErr(e, y, r), kernels.F32Tolerance, e.L1[r])
	default:
		var norm float64
		for _, o := range sub.Oracle {
			norm += o * o
		}
		if r1-r0 >= 8 && norm > 0 && !a.Pass {
			return fmt.Sprintf("rows [%d,%d): %s", r0, r1, a.Why)
		}
		for r := r0; r < r1; r++ {
			v := float64(y[r])
			d := math.Abs(v - e.Oracle[r])
			if math.IsNaN(v) || math.IsInf(v, 0) || d > PeerRowTolerance*e.L1[r]+e.peerAbs {
				return fmt.Sprintf("row %d: y=%g, oracle %g, |Δ| = %.3g > %g * rowL1 %g + %.3g", r, y[r], e.Oracle[r], d, PeerRowTolerance, e.L1[r], e.peerAbs)
			}
		}
	}
	return ""
}

// expected is what a kernel is checked against for one matrix and x: the
// oracle and ref-i8 (computed once per workload) and the absolute slack of
// the peer rule.
type expected struct {
	*kernels.Expected
	// peerAbs is PeerAbsTolerance * |scale| * Σ|x|: the rounding noise a peer
	// may leave on a row whose exact value and L1 norm are 0 (all-zero
	// weights): a peer computes Σ(code-1)*q as Σcode*q - Σq in floats.
	peerAbs float64
}

// PeerAbsTolerance scales the absolute slack of the peer rule.
const PeerAbsTolerance = 1e-5

// expCache holds the expectations of every workload the suite generates, so
// that a test binary running the suite for several kernels computes each once.
// Workloads are deterministic and read-only: a key names the matrix and x.
var expCache sync.Map // string -> *expected

// expectCached returns expect(m, x), computed once per key.
func expectCached(key string, m *kernels.Matrix, x []float32) *expected {
	if v, ok := expCache.Load(key); ok {
		return v.(*expected)
	}
	e := expect(m, x)
	expCache.Store(key, e)
	return e
}

// expectW returns the cached expectation of a generated workload.
func expectW(w *workloads.Workload) *expected {
	return expectCached(fmt.Sprintf("gen|%s|%s|%g", w.Name, w.Source, w.M.Scale), w.M, w.X)
}

func expect(m *kernels.Matrix, x []float32) *expected {
	var l1 float64
	for _, v := range x {
		l1 += math.Abs(float64(v))
	}
	return &expected{Expected: kernels.Expect(m, x), peerAbs: PeerAbsTolerance * math.Abs(float64(m.Scale)) * l1}
}

func relErr(e *expected, y []float32, r int) float64 {
	v := float64(y[r])
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return math.Inf(1)
	}
	d := math.Abs(v - e.Oracle[r])
	if d == 0 {
		return 0
	}
	return d / e.L1[r]
}

func worstRow(e *expected, y []float32, r0, r1 int) int {
	w, wr := r0, -1.0
	for r := r0; r < r1; r++ {
		if q := relErr(e, y, r); q > wr {
			w, wr = r, q
		}
	}
	return w
}

// guardBits is the NaN (with a payload no arithmetic produces) that fills
// every y element a GEMV call must not write.
const guardBits = 0xffc5a5a5

var guardNaN = math.Float32frombits(guardBits)

// ybuf is y as a window of a bigger buffer filled with guardNaN.
type ybuf struct {
	buf    []float32
	off, n int
}

func newYBuf(n, before, after int) *ybuf {
	b := make([]float32, before+n+after)
	for i := range b {
		b[i] = guardNaN
	}
	return &ybuf{buf: b, off: before, n: n}
}

// y returns the window, with its capacity cut to its length.
func (b *ybuf) y() []float32 { return b.buf[b.off : b.off+b.n : b.off+b.n] }

// reset refills the whole buffer with guardNaN.
func (b *ybuf) reset() {
	for i := range b.buf {
		b.buf[i] = guardNaN
	}
}

// untouched returns "" when every element outside rows [r0, r1), guard bands
// included, still holds guardNaN's bits.
func (b *ybuf) untouched(r0, r1 int) string {
	for i, v := range b.buf {
		if i >= b.off+r0 && i < b.off+r1 {
			continue
		}
		if math.Float32bits(v) == guardBits {
			continue
		}
		var where string
		switch {
		case i < b.off:
			where = fmt.Sprintf("the guard band %d floats before y[0]", b.off-i)
		case i >= b.off+b.n:
			where = fmt.Sprintf("the guard band at y[%d], past len(y)=%d", i-b.off, b.n)
		default:
			where = fmt.Sprintf("row %d, outside the range [%d, %d) asked for", i-b.off, r0, r1)
		}
		return fmt.Sprintf("wrote %s: %g (bits %#08x), want it untouched", where, v, math.Float32bits(v))
	}
	return ""
}

// placeX copies x into a bigger buffer, off floats past a 64-byte boundary,
// with fill around it, and returns the window (capacity cut to its length).
func placeX(x []float32, off int, fill float32) []float32 {
	buf := make([]float32, len(x)+off+48)
	for i := range buf {
		buf[i] = fill
	}
	s := alignFloats(buf) + off
	copy(buf[s:], x)
	return buf[s : s+len(x) : s+len(x)]
}

// gen makes a deterministic workload (SplitMix64 seeded by the case).
func (c *checker) gen(rows, cols int, cb kernels.Codebook, scale float32, seed uint64, act workloads.Activations) *workloads.Workload {
	w, err := workloads.Generate(workloads.Spec{Rows: rows, Cols: cols, Codebook: cb, Scale: scale, Seed: seed, Activations: act})
	if err != nil {
		c.failf("harness: %v", err)
		return nil
	}
	if scale == 0 { // Generate reads 0 as 1
		w.M.Scale = 0
	}
	return w
}

func seedOf(parts ...int) uint64 {
	h := uint64(14695981039346656037)
	for _, p := range parts {
		h ^= uint64(p)
		h *= 1099511628211
	}
	return h
}

// cbIndex is the codebook's position in Codebooks (for seeds).
func cbIndex(cb kernels.Codebook) int {
	for i, o := range Codebooks {
		if o == cb {
			return i
		}
	}
	return len(Codebooks) + int(cb[0])*125 + int(cb[1])*25 + int(cb[2])*5 + int(cb[3])
}

// alignFloats returns how many floats past buf[0] the first 64-byte boundary
// in buf is (buf is 4-byte aligned and at least 16 floats long).
func alignFloats(buf []float32) int {
	addr := uintptr(unsafe.Pointer(&buf[0]))
	return int((64-addr%64)%64) / 4
}
