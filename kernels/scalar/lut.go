package scalar

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/qkbench/qkbench/kernels"
)

// go-f32 and go-i8 are lookup-table kernels (T-MAC's idea, docs/format.md §2 numerics).
//
// A group is 4 consecutive columns 4k..4k+3: exactly the 4 codes in one
// seq-packed byte. For a group, a table of 256 entries holds every possible
// partial sum Σ_j cb[c_j] * x[4k+j] indexed by that byte, so a row's
// contribution from the group is one lookup and one add. The tables depend on
// x only; they are built inside GEMV per chunk of 64 columns (16 groups, 16
// KiB of float32 or int32, which stays in L1) and every row of [r0, r1) is
// streamed over them before the next chunk.
//
// Prepare repacks W chunk-major: for chunk c, the 16 bytes of row r (columns
// 64c..64c+63) sit at [(c*rows+r)*16, (c*rows+r+1)*16), so a chunk's pass over
// the rows reads one contiguous run. Padding codes need no care: x is copied
// (f32) or quantized (i8) into a buffer padded with zeros to whole chunks, and
// a table built from zero activations is all zeros (i8: all i8Bias), whatever
// the code.
//
// A GEMV over every row builds each chunk's tables on its stack, in L1,
// right before using them. GEMVs over parts of the rows, which may run
// concurrently, share one set of tables per Load instead (tableSet): each
// builds the chunks no other has claimed, starting at the chunk as far into
// the matrix as its rows are, so two ranges build half each, and then uses
// every chunk in order (a chunk another GEMV is still building, it builds
// a copy of rather than wait), so the sums (and go-f32's rounding) are the
// same however the rows are cut. Built per range, the tables cost a
// 2-thread GEMV as much as a 1-thread one: 15% of go-i8's and go-f32's time
// at 2048x4096, which held two threads at 1.69-1.74x.

const (
	lutGroups  = 16                  // groups of 4 columns per chunk
	chunkCols  = 4 * lutGroups       // columns per chunk
	chunkBytes = chunkCols / 4       // bytes of one row per chunk
	tableBytes = lutGroups * 256 * 4 // bytes of one chunk's tables (L1-resident)
	tableWords = tableBytes / 8      // the same in uint64s (their storage: 8-byte aligned)
	// maxShared is the most table bytes a tableSet may take: wider matrices
	// build per range (a 32768-column W needs 8 MiB).
	maxShared = 8 << 20
)

// table is one chunk's tables in uint64 words, viewed as [lutGroups][256]T.
type table [tableWords]uint64

func tableOf[T int32 | float32](t *table) *[lutGroups][256]T {
	return (*[lutGroups][256]T)(unsafe.Pointer(t))
}

// GoF32 is the fastest portable f32 kernel: float32 lookup tables over groups
// of 4 activations, rebuilt per 64 columns, 4 rows per pass.
var GoF32 kernels.Kernel = &lutKernel{kernels.Base{I: kernels.Info{
	ID: "go-f32", Backend: "scalar", ISA: "go", Mode: kernels.F32,
	Code: fmt.Sprintf("Go, T-MAC lookup tables: per group of 4 columns a 256-entry float32 table of every Σ cb[c_j]*x[j], "+
		"indexed directly by the seq-packed code byte; built from x inside each GEMV call, %d groups (%d columns, %d KiB, on the stack) at a time, "+
		"and every row of the range streamed over them; W repacked chunk-major (%d bytes per row per chunk); "+
		"4 rows per pass, 2 float32 accumulators per row, x zero-padded so tail codes add 0; scale applied once per row",
		lutGroups, chunkCols, tableBytes/1024, chunkBytes),
}}}

// GoI8 is the fastest portable i8 kernel: kernels.QuantizeI8, then exact int32
// lookup tables of Σ cb*q over groups of 4, rebuilt per 64 columns, 4 rows per
// pass; bit-exact with ref-i8.
var GoI8 kernels.Kernel = &lutKernel{kernels.Base{I: kernels.Info{
	ID: "go-i8", Backend: "scalar", ISA: "go", Mode: kernels.I8,
	Code: fmt.Sprintf("Go, kernels.QuantizeI8 then T-MAC lookup tables: per group of 4 columns a 256-entry int32 table of every exact Σ cb[c_j]*q[j], "+
		"indexed directly by the seq-packed code byte; built inside each GEMV call, %d groups (%d columns, %d KiB, on the stack) at a time, "+
		"and every row of the range streamed over them; W repacked chunk-major (%d bytes per row per chunk); "+
		"4 rows per pass, exact int32 row sums (q zero-padded so tail codes add 0); y = float32(isum) * inv",
		lutGroups, chunkCols, tableBytes/1024, chunkBytes),
}}}

func init() {
	kernels.Register(GoF32)
	kernels.Register(GoI8)
}

type lutKernel struct{ kernels.Base }

// Available is always nil: plain Go runs everywhere.
func (k *lutKernel) Available() error { return nil }

// Prepare validates m and repacks it chunk-major.
func (k *lutKernel) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if err := kernels.CheckPrepare(k, m); err != nil {
		return nil, err
	}
	return &lutPrepared{k: k, m: m, chunks: numChunks(m.Cols), w: repack(m)}, nil
}

func numChunks(cols int) int { return (cols + chunkCols - 1) / chunkCols }

// repack copies m's codes chunk-major: out[(c*rows+r)*16 + j] = byte 16c+j of
// row r. A row stride is a multiple of 64 bytes, so every chunk a row needs
// lies inside it (the last one may hold padding codes).
func repack(m *kernels.Matrix) []byte {
	chunks, stride := numChunks(m.Cols), m.Stride()
	out := make([]byte, chunks*m.Rows*chunkBytes)
	for c := 0; c < chunks; c++ {
		dst := out[c*m.Rows*chunkBytes : (c+1)*m.Rows*chunkBytes]
		for r := 0; r < m.Rows; r++ {
			src := m.Data[r*stride+c*chunkBytes : r*stride+(c+1)*chunkBytes]
			copy(dst[r*chunkBytes:(r+1)*chunkBytes], src)
		}
	}
	return out
}

type lutPrepared struct {
	k      *lutKernel
	m      *kernels.Matrix
	chunks int
	w      []byte // chunk-major codes, chunks*rows*chunkBytes
}

func (p *lutPrepared) Kernel() kernels.Kernel  { return p.k }
func (p *lutPrepared) Matrix() *kernels.Matrix { return p.m }

func (p *lutPrepared) NewInput() kernels.Input {
	if p.k.I.Mode == kernels.I8 {
		return &lutInputI8{p: p}
	}
	return &lutInputF32{p: p}
}

// chunkW returns the codes of rows [r0, r1) for chunk c.
func (p *lutPrepared) chunkW(c, r0, r1 int) []byte {
	base := c * p.m.Rows * chunkBytes
	return p.w[base+r0*chunkBytes : base+r1*chunkBytes]
}

// ---- f32 ----

type lutInputF32 struct {
	p      *lutPrepared
	xp     []float32 // x padded with zeros to chunks*chunkCols
	ts     *tableSet // shared by GEMVs on row ranges (nil: too wide)
	loaded bool
}

func (in *lutInputF32) Load(x []float32) error {
	m := in.p.m
	if err := kernels.CheckX(in.p.k.I.ID, m, x); err != nil {
		return err
	}
	if in.xp == nil {
		in.xp = make([]float32, in.p.chunks*chunkCols) // tail stays zero
		in.ts = newTableSet(in.p.chunks)
	}
	copy(in.xp, x)
	in.ts.reset()
	in.loaded = true
	return nil
}

func (in *lutInputF32) GEMV(y []float32, r0, r1 int) error {
	p := in.p
	m := p.m
	if err := kernels.CheckGEMV(p.k.I.ID, m, y, r0, r1, in.loaded); err != nil {
		return err
	}
	ys := y[r0:r1]
	if len(ys) == 0 {
		return nil
	}
	sums(p, in.xp, r0, r1, ys, in.ts)
	if s := m.Scale; s != 1 {
		for i := range ys {
			ys[i] *= s
		}
	}
	return nil
}

// sums sets acc[i] to Σ_c Σ_g t_c[g][code byte] for rows r0+i, chunk by
// chunk (see the top of the file). Over every row (or without ts), each
// chunk's tables (16 KiB) are built on the stack and every row of the
// range is looked up in them; over part of the rows, the chunks' tables
// come from ts, the Load's shared set.
func sums[T int32 | float32, E int8 | float32](p *lutPrepared, x []E, r0, r1 int, acc []T, ts *tableSet) {
	clear(acc)
	var cb [4]T
	for i, v := range p.m.Codebook {
		cb[i] = T(v)
	}
	build := func(t *table, c int) { buildTable(tableOf[T](t), x[c*chunkCols:(c+1)*chunkCols], &cb) }
	if ts == nil || r0 == 0 && r1 == p.m.Rows {
		var tab table
		for c := 0; c < p.chunks; c++ {
			build(&tab, c)
			rows(tableOf[T](&tab), p.chunkW(c, r0, r1), acc)
		}
		return
	}
	// Claim and build the chunks nobody has, from the range's own share on.
	s := p.chunks * r0 / p.m.Rows
	for i := 0; i < p.chunks; i++ {
		ts.claim((s+i)%p.chunks, build)
	}
	var own table
	for c := 0; c < p.chunks; c++ {
		t := ts.ready(c)
		if t == nil {
			// Another GEMV is still building it (or was descheduled
			// doing so): build a copy rather than wait.
			t = &own
			build(t, c)
		}
		rows(tableOf[T](t), p.chunkW(c, r0, r1), acc)
	}
}

// tableSet holds one Load's tables of every chunk, shared by the GEMVs on
// row ranges of one Input (which may run concurrently): a chunk's state is
// 0 (free), 1 (being built) or 2 (ready, read-only until the next Load).
type tableSet struct {
	tabs  []table
	state []atomic.Int32
}

// newTableSet returns a set for chunks chunks, or nil when it would take
// more than maxShared bytes.
func newTableSet(chunks int) *tableSet {
	if chunks > maxShared/tableBytes {
		return nil
	}
	return &tableSet{tabs: make([]table, chunks), state: make([]atomic.Int32, chunks)}
}

// reset frees every chunk (Load: new x, new tables).
func (ts *tableSet) reset() {
	if ts != nil {
		for i := range ts.state {
			ts.state[i].Store(0)
		}
	}
}

// claim builds chunk c's tables if no one else has claimed them.
func (ts *tableSet) claim(c int, build func(*table, int)) {
	if !ts.state[c].CompareAndSwap(0, 1) {
		return
	}
	done := false
	defer func() {
		if !done { // build panicked: let another claim the chunk
			ts.state[c].Store(0)
		}
	}()
	build(&ts.tabs[c], c)
	done = true
	ts.state[c].Store(2)
}

// ready returns chunk c's tables when they are built, else nil.
func (ts *tableSet) ready(c int) *table {
	if ts.state[c].Load() != 2 {
		return nil
	}
	return &ts.tabs[c]
}

// buildTable fills t[g][b] = Σ_j cb[(b>>2j)&3] * x[4g+j] for the 16 groups
// of one chunk (plus 2*i8Bias for i8, see buildI8): the low nibble of b
// (codes 0, 1) and the high nibble (codes 2, 3) each select one of 16 pair
// sums, and t is their 16x16 sum table. t must be 8-byte aligned (a table).
func buildTable[T int32 | float32, E int8 | float32](t *[lutGroups][256]T, x []E, cb *[4]T) {
	if ti, ok := any(t).(*[lutGroups][256]int32); ok {
		buildI8(ti, any(x).([]int8), any(cb).(*[4]int32))
		return
	}
	x = x[:chunkCols]
	for g := range lutGroups {
		x0, x1, x2, x3 := T(x[4*g]), T(x[4*g+1]), T(x[4*g+2]), T(x[4*g+3])
		var lo, hi [16]T
		for i := range 16 {
			lo[i] = cb[i&3]*x0 + cb[i>>2]*x1
			hi[i] = cb[i&3]*x2 + cb[i>>2]*x3
		}
		tg := &t[g]
		for h := range 16 {
			hv := hi[h]
			add8((*[8]T)(tg[16*h:16*h+8]), (*[8]T)(lo[0:8]), hv)
			add8((*[8]T)(tg[16*h+8:16*h+16]), (*[8]T)(lo[8:16]), hv)
		}
	}
}

// i8Bias makes every pair sum of go-i8's tables non-negative (|pair sum| <=
// 2*2*127 = 508), so that two entries add in one uint64 without a carry
// between them; each entry is the exact sum plus 2*i8Bias, and a row sum
// over a chunk's 16 groups is i8ChunkBias too much.
const (
	i8Bias      = 512
	i8ChunkBias = lutGroups * 2 * i8Bias
)

// littleEndian says how buildI8's uint64 pairs map onto the int32 entries.
var littleEndian = func() bool { v := uint16(1); return *(*byte)(unsafe.Pointer(&v)) == 1 }()

// buildI8 is buildTable for go-i8 with two entries per uint64 add: the 8
// pairs of low-nibble sums (biased, non-negative) plus each high-nibble sum
// in both halves. Entries are exact: 8 <= entry <= 2*(508+i8Bias) < 2^31.
func buildI8(t *[lutGroups][256]int32, q []int8, cb *[4]int32) {
	q = q[:chunkCols]
	w := (*[lutGroups][128]uint64)(unsafe.Pointer(t))
	pair := func(a, b int32) uint64 {
		if littleEndian {
			return uint64(uint32(a)) | uint64(uint32(b))<<32
		}
		return uint64(uint32(b)) | uint64(uint32(a))<<32
	}
	for g := range lutGroups {
		x0, x1, x2, x3 := int32(q[4*g]), int32(q[4*g+1]), int32(q[4*g+2]), int32(q[4*g+3])
		var lo [8]uint64
		for i := range lo {
			l0, l1 := 2*i, 2*i+1
			lo[i] = pair(cb[l0&3]*x0+cb[l0>>2]*x1+i8Bias, cb[l1&3]*x0+cb[l1>>2]*x1+i8Bias)
		}
		wg := &w[g]
		for h := range 16 {
			hv := uint64(uint32(cb[h&3]*x2+cb[h>>2]*x3+i8Bias)) * (1<<32 + 1)
			add8((*[8]uint64)(wg[8*h:8*h+8]), &lo, hv)
		}
	}
}

// add8 sets row[i] = lo[i] + hv for i < 8 (unrolled).
func add8[T int32 | float32 | uint64](row, lo *[8]T, hv T) {
	row[0] = lo[0] + hv
	row[1] = lo[1] + hv
	row[2] = lo[2] + hv
	row[3] = lo[3] + hv
	row[4] = lo[4] + hv
	row[5] = lo[5] + hv
	row[6] = lo[6] + hv
	row[7] = lo[7] + hv
}

// rows adds, for each row i, Σ_g t[g][w[16i+g]] to ys[i]. len(w) must be
// 16*len(ys). Four rows per pass, two accumulators per row;
// the rows left over use the same sums in the same order, so a row's result
// does not depend on how [r0, r1) is cut.
func rows[T int32 | float32](t *[lutGroups][256]T, w []byte, ys []T) {
	for len(ys) >= 4 && len(w) >= 4*chunkBytes {
		v := (*[4 * chunkBytes]byte)(w)
		r0a0 := t[0][v[0]] + t[2][v[2]] + t[4][v[4]] + t[6][v[6]] + t[8][v[8]] + t[10][v[10]] + t[12][v[12]] + t[14][v[14]]
		r0a1 := t[1][v[1]] + t[3][v[3]] + t[5][v[5]] + t[7][v[7]] + t[9][v[9]] + t[11][v[11]] + t[13][v[13]] + t[15][v[15]]
		r1a0 := t[0][v[16]] + t[2][v[18]] + t[4][v[20]] + t[6][v[22]] + t[8][v[24]] + t[10][v[26]] + t[12][v[28]] + t[14][v[30]]
		r1a1 := t[1][v[17]] + t[3][v[19]] + t[5][v[21]] + t[7][v[23]] + t[9][v[25]] + t[11][v[27]] + t[13][v[29]] + t[15][v[31]]
		r2a0 := t[0][v[32]] + t[2][v[34]] + t[4][v[36]] + t[6][v[38]] + t[8][v[40]] + t[10][v[42]] + t[12][v[44]] + t[14][v[46]]
		r2a1 := t[1][v[33]] + t[3][v[35]] + t[5][v[37]] + t[7][v[39]] + t[9][v[41]] + t[11][v[43]] + t[13][v[45]] + t[15][v[47]]
		r3a0 := t[0][v[48]] + t[2][v[50]] + t[4][v[52]] + t[6][v[54]] + t[8][v[56]] + t[10][v[58]] + t[12][v[60]] + t[14][v[62]]
		r3a1 := t[1][v[49]] + t[3][v[51]] + t[5][v[53]] + t[7][v[55]] + t[9][v[57]] + t[11][v[59]] + t[13][v[61]] + t[15][v[63]]
		ys[0] += r0a0 + r0a1
		ys[1] += r1a0 + r1a1
		ys[2] += r2a0 + r2a1
		ys[3] += r3a0 + r3a1
		w = w[4*chunkBytes:]
		ys = ys[4:]
	}
	for len(ys) >= 1 && len(w) >= chunkBytes {
		v := (*[chunkBytes]byte)(w)
		a0 := t[0][v[0]] + t[2][v[2]] + t[4][v[4]] + t[6][v[6]] + t[8][v[8]] + t[10][v[10]] + t[12][v[12]] + t[14][v[14]]
		a1 := t[1][v[1]] + t[3][v[3]] + t[5][v[5]] + t[7][v[7]] + t[9][v[9]] + t[11][v[11]] + t[13][v[13]] + t[15][v[15]]
		ys[0] += a0 + a1
		w = w[chunkBytes:]
		ys = ys[1:]
	}
}

// ---- i8 ----

type lutInputI8 struct {
	p      *lutPrepared
	q      []int8    // QuantizeI8(x), padded with zeros to chunks*chunkCols
	ts     *tableSet // shared by GEMVs on row ranges (nil: too wide)
	inv    float32
	loaded bool
}

func (in *lutInputI8) Load(x []float32) error {
	m := in.p.m
	if err := kernels.CheckX(in.p.k.I.ID, m, x); err != nil {
		return err
	}
	if in.q == nil {
		in.q = make([]int8, in.p.chunks*chunkCols) // tail stays zero
		in.ts = newTableSet(in.p.chunks)
	}
	in.ts.reset()
	in.inv = kernels.I8Inv(m.Scale, kernels.QuantizeI8(x, in.q[:m.Cols]))
	in.loaded = true
	return nil
}

// GEMV keeps each row's exact int32 partial sum in y[r]'s memory between
// chunks, so it needs no scratch beyond its own rows of y; the last step
// takes off the tables' bias (i8ChunkBias a chunk) and turns every sum into
// float32(isum) * inv. Entries are positive and at most 2040, so a row's
// biased sum is at most 16*2040 per chunk, 2040 * kernels.MaxDim/4 < 2^31:
// no int32 overflows.
func (in *lutInputI8) GEMV(y []float32, r0, r1 int) error {
	p := in.p
	m := p.m
	if err := kernels.CheckGEMV(p.k.I.ID, m, y, r0, r1, in.loaded); err != nil {
		return err
	}
	ys := y[r0:r1]
	if len(ys) == 0 {
		return nil
	}
	// The int32 sums live in ys's own memory until the last step.
	acc := unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(ys))), len(ys))
	sums(p, in.q, r0, r1, acc, in.ts)
	inv, bias := in.inv, int32(p.chunks)*i8ChunkBias
	for i, v := range acc {
		ys[i] = float32(v-bias) * inv
	}
	return nil
}
