package amd64

import (
	"sync"
	"unsafe"

	"github.com/qkbench/qkbench/kernels"
)

// lutGeom is the blocking that the table-lookup kernels' GEMV driver
// (lutGeom.gemv) walks: rows in blocks of rowBlock, super blocks stored
// together, columns in chunks whose tables are built right before use.
// avx512lut-i8 and archsimd-i8 share one (lutPrepared's); avx2lut-i8 has
// its own.
type lutGeom struct {
	rows     int   // rows of the matrix
	rowsP    int   // rows padded to whole blocks
	rowBlock int   // rows per block
	blockAcc int   // int32 sums per block, in the kernel's own order
	super    int   // blocks per super-block (see lutSuper)
	chunks   []int // first unit of each column chunk, then the number of units
}

// newLUTGeom returns the geometry of rows rows in blocks of rowBlock rows
// with blockAcc sums each, super blocks to a super-block; the caller adds
// the chunks.
func newLUTGeom(rows, rowBlock, blockAcc, super int) lutGeom {
	return lutGeom{rows: rows, rowsP: (rows + rowBlock - 1) / rowBlock * rowBlock, rowBlock: rowBlock, blockAcc: blockAcc, super: super}
}

// RowBlock is the row blocking: ranges aligned to it avoid recomputing
// shared blocks.
func (g *lutGeom) RowBlock() int { return g.rowBlock }

// lutChunkWords is the size of one column chunk's tables: 64 int16
// entries per group (avx512lut-i8's 6-bit path, the largest).
const lutChunkWords = lutChunkPer * lutPeriod * lutOctet * 64

// The base-3 path's chunk tables (32 entries a group) share the buffer.
var _ [lutChunkWords - lut3ChunkPer*lut3PeriodWords*3*32]struct{} // compile-time: they fit

// lutPartAcc is the most sums a block holds, for the partly covered
// blocks' scratch.
const lutPartAcc = lutRowBlock

// lutWork is one GEMV's scratch: a chunk's tables, 64-byte aligned at some
// offset (Go aligns arrays to 8 bytes only; an unaligned table splits every
// 64-byte load across two cache lines), and the sums of the at most two
// blocks a range only partly covers.
type lutWork struct {
	buf  [lutChunkWords + 32]int16
	part [2][lutPartAcc]int32
}

// lutWorks holds the scratch between GEMVs. A table buffer in GEMV's frame
// had to be cleared on every call (16 KiB, as long as a fifth of the table
// build); the pool's per-P caches hand each persistent worker its own
// buffer back.
var lutWorks = sync.Pool{New: func() any { return new(lutWork) }}

// tables returns the 64-byte aligned lutChunkWords words of w.buf.
func (w *lutWork) tables() []int16 {
	off := (64 - uintptr(unsafe.Pointer(&w.buf))&63) & 63 / 2
	return w.buf[off : off+lutChunkWords : off+lutChunkWords]
}

// lutOps is the per-GEMV arithmetic over a lutGeom layout: the assembly
// of avx512lut-i8 (lutInput) or avx2lut-i8 (a2Input), or the
// simd/archsimd code of archsimd-i8; lutGeom.gemv drives any of them.
type lutOps interface {
	// touch asks for the quantized x, which Load wrote maybe on another
	// core, all at once rather than a few lines at each chunk's tables,
	// where every chunk would wait a cross-core round trip.
	touch()
	// tables writes the tables of chunk [u0, u1) to tbl.
	tables(u0, u1 int, tbl []int16)
	// lookups adds chunk [u0, u1)'s lookups for the len(acc)/blockAcc
	// blocks from rb (all in one super-block) to acc.
	lookups(rb, u0, u1 int, tbl []int16, acc []int32)
	// scale writes y[i] = float32(row sum) * inv for the rows first+i of
	// the whole blocks whose sums acc holds.
	scale(acc []int32, first int, inv float32, y []float32)
}

// gemv computes rows [r0, r1) (r0 < r1, checked by the caller) into y with
// ops. Each column chunk's tables (16 KiB at most) are built right before
// the blocks of the range use them, so they stay in the L1 of the core
// that reads them: tables built once at Load had to travel from the loading
// core to every other core on each GEMV, which made two threads slower than
// one. Blocks wholly inside [r0, r1) (the last one may end past rows) sum
// into acc, which no other range touches; the at most two blocks the range
// only partly covers sum into the pooled scratch. rev runs the chunks last
// to first (see lutInput.rev).
func (g *lutGeom) gemv(ops lutOps, acc []int32, rev bool, inv float32, y []float32, r0, r1 int) {
	rbs, ba := g.rowBlock, g.blockAcc
	f0 := (r0 + rbs - 1) / rbs
	f1 := r1 / rbs
	if r1 == g.rows {
		f1 = g.rowsP / rbs
	}
	work := lutWorks.Get().(*lutWork)
	defer lutWorks.Put(work)
	var parts [2]int
	np := 0
	for rb := r0 / rbs; rb*rbs < r1; rb++ {
		if rb < f0 || rb >= f1 {
			parts[np] = rb
			clear(work.part[np][:ba])
			np++
		}
	}
	var full []int32
	if f0 < f1 {
		full = acc[f0*ba : f1*ba]
		clear(full)
	}
	ops.touch()
	tbl := work.tables()
	nch := len(g.chunks) - 1
	for cj := 0; cj < nch; cj++ {
		ci := cj
		if rev {
			ci = nch - 1 - cj
		}
		u0, u1 := g.chunks[ci], g.chunks[ci+1]
		ops.tables(u0, u1, tbl)
		for rb := f0; rb < f1; {
			end := min(f1, (rb/g.super+1)*g.super)
			ops.lookups(rb, u0, u1, tbl, full[(rb-f0)*ba:(end-f0)*ba])
			rb = end
		}
		for i := 0; i < np; i++ {
			ops.lookups(parts[i], u0, u1, tbl, work.part[i][:ba])
		}
	}
	if e0, e1 := f0*rbs, min(r1, f1*rbs); e0 < e1 {
		ops.scale(full, 0, inv, y[e0:e1])
	}
	for i := 0; i < np; i++ {
		rb := parts[i]
		a, b := max(r0, rb*rbs), min(r1, (rb+1)*rbs)
		ops.scale(work.part[i][:ba], a-rb*rbs, inv, y[a:b])
	}
}

// lutRun is what the Input of a kernel on lutGeom keeps from Load to GEMV.
type lutRun struct {
	acc    []int32 // sums of whole blocks (disjoint per GEMV range)
	inv    float32
	loaded bool
	// rev flips at every Load: GEMV then runs the column chunks in the
	// other order, so it starts on the chunks the last GEMV used last,
	// which are still in L2 (a cyclic stream over more W than L2 holds
	// would miss on every line).
	rev bool
}

// loaded records a Load: y = float32(row sum) * inv from now on.
func (r *lutRun) load(inv float32) {
	r.inv, r.loaded = inv, true
	r.rev = !r.rev
}

// gemv is the Input's GEMV: the common checks (id names the kernel in
// errors), then g.gemv with ops.
func (r *lutRun) gemv(g *lutGeom, ops lutOps, id string, m *kernels.Matrix, y []float32, r0, r1 int) error {
	if err := kernels.CheckGEMV(id, m, y, r0, r1, r.loaded); err != nil {
		return err
	}
	if r0 < r1 {
		g.gemv(ops, r.acc, r.rev, r.inv, y, r0, r1)
	}
	return nil
}
