package scalar

import (
	"fmt"
	"math"
	"sync"
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
// KiB of float32, 8 KiB of uint16, which stays in L1) and every row of [r0, r1) is
// streamed over them before the next chunk.
//
// Each GEMV on a row range builds the tables itself, in the L1 of the core
// that uses them: with two threads, every thread builds every table, so the
// build's share of the time limits how well two threads scale (by pprof at
// 2048x4096, 1 thread: go-f32 15%, go-i8 9% when buildI8 wrote two int32
// entries per store, 15% before; it now writes four uint16 entries). So
// codebooks of at most three values (ternary: BitNet's) are stored as
// base-3 bytes whose tables have 81 entries, built with a third of the
// stores (see base3). Sharing one Load's tables between concurrent
// ranges was tried twice and saved nothing (docs/measurements.md, "go-f32
// at two threads"): tables another core built a while ago read cheaply,
// but rebuilding lines the other core read in the last GEMV took a range's
// builds twice as long, and looking up tables the other core had just
// written took its lookups 7% longer. The build is bound by its float32
// stores (one a cycle on the Zen 4 it was measured on, 81 a group), so the
// private tables cap two threads near 1.88x at 2048x4096.
//
// Prepare repacks W chunk-major: for chunk c, the 16 bytes of row r (columns
// 64c..64c+63) sit at [(c*rows+r)*16, (c*rows+r+1)*16), so a chunk's pass over
// the rows reads one contiguous run. Padding codes need no care: x is copied
// (f32) or quantized (i8) into a buffer padded with zeros to whole chunks, and
// a table built from zero activations is all zeros (i8: all 2*i8Bias, which
// GEMV takes off), whatever the code.

const (
	lutGroups  = 16                  // groups of 4 columns per chunk
	chunkCols  = 4 * lutGroups       // columns per chunk
	chunkBytes = chunkCols / 4       // bytes of one row per chunk
	tableBytes = lutGroups * 256 * 4 // bytes of one chunk's float32 tables (L1-resident; go-i8's uint16 ones take half)
)

// GoF32 is the fastest portable f32 kernel: float32 lookup tables over groups
// of 4 activations, rebuilt per 64 columns, 4 rows per pass.
var GoF32 kernels.Kernel = &lutKernel{kernels.Base{I: kernels.Info{
	ID: "go-f32", Backend: "scalar", ISA: "go", Mode: kernels.F32,
	Code: fmt.Sprintf("Go, T-MAC lookup tables: per group of 4 columns a 256-entry float32 table of every Σ cb[c_j]*x[j], "+
		"indexed directly by the seq-packed code byte (codebooks of <= 3 values: 81 entries, W stored as base-3 bytes); built from x inside each GEMV call, %d groups (%d columns, %d KiB, pooled per thread) at a time, "+
		"and every row of the range streamed over them; W repacked chunk-major (%d bytes per row per chunk); "+
		"4 rows per pass, 2 float32 accumulators per row, x zero-padded so tail codes add 0; scale applied once per row",
		lutGroups, chunkCols, tableBytes/1024, chunkBytes),
}}}

// GoI8 is the fastest portable i8 kernel: kernels.QuantizeI8, then exact uint16
// lookup tables of Σ cb*q (biased) over groups of 4, rebuilt per 64 columns, 4 rows per
// pass; bit-exact with ref-i8.
var GoI8 kernels.Kernel = &lutKernel{kernels.Base{I: kernels.Info{
	ID: "go-i8", Backend: "scalar", ISA: "go", Mode: kernels.I8,
	Code: fmt.Sprintf("Go, kernels.QuantizeI8 then T-MAC lookup tables: per group of 4 columns a 256-entry uint16 table of every exact Σ cb[c_j]*q[j] "+
		"(plus a bias that keeps it positive, so one uint64 add builds four entries), "+
		"indexed directly by the seq-packed code byte (codebooks of <= 3 values: 81 entries, W stored as base-3 bytes); built inside each GEMV call, %d groups (%d columns, %d KiB, pooled per thread) at a time, "+
		"and every row of the range streamed over them; W repacked chunk-major (%d bytes per row per chunk); "+
		"4 rows per pass, exact int32 row sums (q zero-padded so tail codes add 0); y = float32(isum - bias) * inv",
		lutGroups, chunkCols, tableBytes/2/1024, chunkBytes),
}}}

func init() {
	kernels.Register(GoF32)
	kernels.Register(GoI8)
}

type lutKernel struct{ kernels.Base }

// Available is always nil: plain Go runs everywhere.
func (k *lutKernel) Available() error { return nil }

// Prepare validates m and repacks it chunk-major, as base-3 bytes when the
// codebook has at most three distinct values.
func (k *lutKernel) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if err := kernels.CheckPrepare(k, m); err != nil {
		return nil, err
	}
	p := &lutPrepared{k: k, m: m, chunks: numChunks(m.Cols)}
	vals, d, ok := m.Codebook.Digits()
	var digit *[4]uint8
	if ok {
		p.tern, digit = true, &d
		for i, v := range vals {
			p.cb[i] = int32(v)
		}
	} else {
		for i, v := range m.Codebook {
			p.cb[i] = int32(v)
		}
	}
	p.w = repack(m, digit)
	return p, nil
}

// base3 is the base-3 byte of a code byte's four codes: l + 16h with
// l = d0 + 3d1 and h = d2 + 3d3 (d a code's digit), so that a table row
// of 16 entries holds the 9 values of l for one h.
func base3(b byte, digit *[4]uint8) byte {
	d := func(j uint) byte { return digit[b>>(2*j)&3] }
	return d(0) + 3*d(1) + 16*(d(2)+3*d(3))
}

func numChunks(cols int) int { return (cols + chunkCols - 1) / chunkCols }

// repack copies m's codes chunk-major: out[(c*rows+r)*16 + j] = byte 16c+j of
// row r, or its base3 byte when digit is not nil. A row stride is a
// multiple of 64 bytes, so every chunk a row needs lies inside it (the last
// one may hold padding codes).
func repack(m *kernels.Matrix, digit *[4]uint8) []byte {
	chunks, stride := numChunks(m.Cols), m.Stride()
	out := make([]byte, chunks*m.Rows*chunkBytes)
	for c := 0; c < chunks; c++ {
		dst := out[c*m.Rows*chunkBytes : (c+1)*m.Rows*chunkBytes]
		for r := 0; r < m.Rows; r++ {
			src := m.Data[r*stride+c*chunkBytes : r*stride+(c+1)*chunkBytes]
			copy(dst[r*chunkBytes:(r+1)*chunkBytes], src)
		}
	}
	if digit != nil {
		for i, b := range out {
			out[i] = base3(b, digit)
		}
	}
	return out
}

type lutPrepared struct {
	k      *lutKernel
	m      *kernels.Matrix
	chunks int
	w      []byte // chunk-major codes (base3 bytes when tern), chunks*rows*chunkBytes
	// tern: the codebook has at most three distinct values, cb holds them
	// and W base3 bytes; the tables then have 81 entries instead of 256
	// (their build is what every thread of a GEMV repeats). Otherwise cb
	// is the codebook.
	tern bool
	cb   [4]int32
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
	loaded bool
}

func (in *lutInputF32) Load(x []float32) error {
	m := in.p.m
	if err := kernels.CheckX(in.p.k.I.ID, m, x); err != nil {
		return err
	}
	if in.xp == nil {
		in.xp = make([]float32, in.p.chunks*chunkCols) // tail stays zero
	}
	copy(in.xp, x)
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
	build := buildF32
	if p.tern {
		build = build3F32
	}
	sums(p, in.xp, r0, r1, ys, build)
	if s := m.Scale; s != 1 {
		for i := range ys {
			ys[i] *= s
		}
	}
	return nil
}

// sums sets acc[i] to Σ_c Σ_g t_c[g][code byte] for rows r0+i: chunk by
// chunk, the tables of x's (padded to whole chunks) 64 columns are built in
// a pooled scratch (16 KiB of float32, 8 KiB of uint16) and every row of the
// range is looked up in them. f32 (E float32) tables hold the partial sums
// themselves, i8 (uint16) ones the exact sums plus 2*i8Bias (see buildI8).
func sums[E uint16 | float32, T int32 | float32, X int8 | float32](p *lutPrepared, x []X, r0, r1 int, acc []T,
	build func(t *[lutGroups][256]E, x []X, cb *[4]int32)) {
	clear(acc)
	sc := scratches.Get().(*scratch)
	defer scratches.Put(sc)
	t := (*[lutGroups][256]E)(unsafe.Pointer(&sc.tab))
	if unsafe.Sizeof(*t) > unsafe.Sizeof(sc.tab) {
		panic("scalar: lookup tables larger than their buffer")
	}
	for c := 0; c < p.chunks; c++ {
		build(t, x[c*chunkCols:(c+1)*chunkCols], &p.cb)
		rows(t, p.chunkW(c, r0, r1), acc)
	}
}

// scratch is what sums needs besides acc: one chunk's tables (8-byte
// aligned for buildI8's uint64 stores).
type scratch struct {
	tab [tableBytes / 8]uint64
}

// scratches hands each GEMV its scratch. As locals of sums they went to
// the heap (build is a function value, so escape analysis gives up): 16
// KiB allocated per GEMV and thread, and with two threads the garbage
// collector's cycles, each taking one of the two Ps for its marking, cost
// go-f32 and go-i8 a sixth of their 2-thread speed. sync.Pool's per-P
// caches give a worker its buffer back without allocating; the build
// writes every entry the lookups read, so nothing is cleared.
var scratches = sync.Pool{New: func() any { return new(scratch) }}

// buildF32 fills t[g][b] = Σ_j cb[(b>>2j)&3] * x[4g+j] for the 16 groups of
// one chunk: the low nibble of b (codes 0, 1) and the high nibble (codes 2,
// 3) each select one of 16 pair sums, and t is their 16x16 sum table.
func buildF32(t *[lutGroups][256]float32, x []float32, cbi *[4]int32) {
	x = x[:chunkCols]
	cb := [4]float32{float32(cbi[0]), float32(cbi[1]), float32(cbi[2]), float32(cbi[3])}
	for g := range lutGroups {
		x0, x1, x2, x3 := x[4*g], x[4*g+1], x[4*g+2], x[4*g+3]
		var lo, hi [16]float32
		for i := range 16 {
			lo[i] = cb[i&3]*x0 + cb[i>>2]*x1
			hi[i] = cb[i&3]*x2 + cb[i>>2]*x3
		}
		tg := &t[g]
		for h := range 16 {
			hv := hi[h]
			row := (*[16]float32)(tg[16*h : 16*h+16])
			row[0] = lo[0] + hv
			row[1] = lo[1] + hv
			row[2] = lo[2] + hv
			row[3] = lo[3] + hv
			row[4] = lo[4] + hv
			row[5] = lo[5] + hv
			row[6] = lo[6] + hv
			row[7] = lo[7] + hv
			row[8] = lo[8] + hv
			row[9] = lo[9] + hv
			row[10] = lo[10] + hv
			row[11] = lo[11] + hv
			row[12] = lo[12] + hv
			row[13] = lo[13] + hv
			row[14] = lo[14] + hv
			row[15] = lo[15] + hv
		}
	}
}

// i8Bias makes every pair sum of go-i8's tables non-negative (|pair sum| <=
// 2*2*127 = 508), so that four uint16 entries add in one uint64 without a
// carry between them; each entry is the exact sum plus 2*i8Bias (at most
// 2040), and a row sum over a chunk's 16 groups is i8ChunkBias too much.
const (
	i8Bias      = 512
	i8ChunkBias = lutGroups * 2 * i8Bias
)

// buildI8 is buildF32 for go-i8's exact tables, in uint16 with four entries
// per uint64 add: the 16 low-nibble sums (biased, non-negative) as 4 words,
// plus each high-nibble sum in all four quarters; both sides see the
// quarters in memory order, so this holds on either byte order. t must be
// 8-byte aligned. uint16 entries halve the stores of int32 ones (two per
// add), and the build is what every thread repeats: at 2 threads on
// 2048x4096 it was a fifth of each thread's time. A lookup then loads a
// uint16 and adds it (two instructions instead of one ADDL from memory),
// which the rows' loop, bound by its loads, absorbs.
func buildI8(t *[lutGroups][256]uint16, q []int8, cb *[4]int32) {
	q = q[:chunkCols]
	w := (*[lutGroups][64]uint64)(unsafe.Pointer(t))
	for g := range lutGroups {
		x0, x1, x2, x3 := int32(q[4*g]), int32(q[4*g+1]), int32(q[4*g+2]), int32(q[4*g+3])
		var lo [4]uint64
		l16 := (*[16]uint16)(unsafe.Pointer(&lo))
		for i := range l16 {
			l16[i] = uint16(cb[i&3]*x0 + cb[i>>2&3]*x1 + i8Bias)
		}
		wg := &w[g]
		for h := range 16 {
			hv := uint64(uint16(cb[h&3]*x2+cb[h>>2&3]*x3+i8Bias)) * 0x0001_0001_0001_0001
			row := (*[4]uint64)(wg[4*h : 4*h+4])
			row[0], row[1], row[2], row[3] = lo[0]+hv, lo[1]+hv, lo[2]+hv, lo[3]+hv
		}
	}
}

// build3F32 is buildF32 for base3 bytes, v holding the codebook's at most
// three values: t[g][l+16h] = lo[l] + hi[h] with lo[d0+3d1] = v[d0]*x[4g] +
// v[d1]*x[4g+1] and hi the same of x[4g+2], x[4g+3]: 81 entries where
// buildF32 writes 256, each the same float32 sum of the same products.
//
// The build is bound by its float32 stores, which this kind of core
// retires one a cycle (Zen 4: 1296 of them take ~355 ns with no
// arithmetic at all), so it stores nothing but entries: the 9 low sums
// stay in registers (from an array on the stack a chunk took 600 ns
// instead of 490), and each row's high sum is computed from x and v as
// its loads' operands (a stack array of the 6 high products, 6 more
// stores a group, made a chunk ~450 ns instead of ~400).
func build3F32(t *[lutGroups][256]float32, x []float32, vi *[4]int32) {
	x = x[:chunkCols]
	vf := [3]float32{float32(vi[0]), float32(vi[1]), float32(vi[2])}
	v0, v1, v2 := vf[0], vf[1], vf[2]
	for g := range lutGroups {
		xg := (*[4]float32)(x[4*g : 4*g+4])
		x0, x1 := xg[0], xg[1]
		a0, a1, a2 := v0*x0, v1*x0, v2*x0
		b0, b1, b2 := v0*x1, v1*x1, v2*x1
		l0, l1, l2 := a0+b0, a1+b0, a2+b0
		l3, l4, l5 := a0+b1, a1+b1, a2+b1
		l6, l7, l8 := a0+b2, a1+b2, a2+b2
		tg := (*[16][16]float32)(unsafe.Pointer(&t[g]))
		for h := range 9 {
			hv := vf[h%3]*xg[2] + vf[h/3]*xg[3]
			row := &tg[h]
			row[0] = l0 + hv
			row[1] = l1 + hv
			row[2] = l2 + hv
			row[3] = l3 + hv
			row[4] = l4 + hv
			row[5] = l5 + hv
			row[6] = l6 + hv
			row[7] = l7 + hv
			row[8] = l8 + hv
		}
	}
}

// build3I8 is buildI8 for base3 bytes (see build3F32): the 9 biased
// low-pair sums in the first 12 entries of a row, four per uint64 add, 27
// stores a group where buildI8 makes 64. Entries 9..15 of a row hold
// what no base3 byte looks up. The products come first, three a column
// (a chunk's tables in 370-500 ns instead of 590 when each pair sum
// computed its own two).
func build3I8(t *[lutGroups][256]uint16, q []int8, v *[4]int32) {
	q = q[:chunkCols]
	w := (*[lutGroups][16][4]uint64)(unsafe.Pointer(t))
	v0, v1, v2 := v[0], v[1], v[2]
	for g := range lutGroups {
		x0, x1, x2, x3 := int32(q[4*g]), int32(q[4*g+1]), int32(q[4*g+2]), int32(q[4*g+3])
		a := [3]int32{v0*x0 + i8Bias, v1*x0 + i8Bias, v2*x0 + i8Bias}
		b := [3]int32{v0 * x1, v1 * x1, v2 * x1}
		c := [3]int32{v0*x2 + i8Bias, v1*x2 + i8Bias, v2*x2 + i8Bias}
		d := [3]int32{v0 * x3, v1 * x3, v2 * x3}
		var lo [3]uint64
		l16 := (*[12]uint16)(unsafe.Pointer(&lo))
		for d1 := range 3 {
			for d0 := range 3 {
				l16[d0+3*d1] = uint16(a[d0] + b[d1])
			}
		}
		wg := &w[g]
		for d3 := range 3 {
			for d2 := range 3 {
				hv := uint64(uint16(c[d2]+d[d3])) * 0x0001_0001_0001_0001
				row := &wg[d2+3*d3]
				row[0], row[1], row[2] = lo[0]+hv, lo[1]+hv, lo[2]+hv
			}
		}
	}
}

// rows adds, for each row i, Σ_g t[g][w[16i+g]] to ys[i]. len(w) must be
// 16*len(ys). Four rows per pass, two accumulators per row;
// the rows left over use the same sums in the same order, so a row's result
// does not depend on how [r0, r1) is cut.
func rows[E uint16 | float32, T int32 | float32](t *[lutGroups][256]E, w []byte, ys []T) {
	for len(ys) >= 4 && len(w) >= 4*chunkBytes {
		v := (*[4 * chunkBytes]byte)(w)
		r0a0 := T(t[0][v[0]]) + T(t[2][v[2]]) + T(t[4][v[4]]) + T(t[6][v[6]]) + T(t[8][v[8]]) + T(t[10][v[10]]) + T(t[12][v[12]]) + T(t[14][v[14]])
		r0a1 := T(t[1][v[1]]) + T(t[3][v[3]]) + T(t[5][v[5]]) + T(t[7][v[7]]) + T(t[9][v[9]]) + T(t[11][v[11]]) + T(t[13][v[13]]) + T(t[15][v[15]])
		r1a0 := T(t[0][v[16]]) + T(t[2][v[18]]) + T(t[4][v[20]]) + T(t[6][v[22]]) + T(t[8][v[24]]) + T(t[10][v[26]]) + T(t[12][v[28]]) + T(t[14][v[30]])
		r1a1 := T(t[1][v[17]]) + T(t[3][v[19]]) + T(t[5][v[21]]) + T(t[7][v[23]]) + T(t[9][v[25]]) + T(t[11][v[27]]) + T(t[13][v[29]]) + T(t[15][v[31]])
		r2a0 := T(t[0][v[32]]) + T(t[2][v[34]]) + T(t[4][v[36]]) + T(t[6][v[38]]) + T(t[8][v[40]]) + T(t[10][v[42]]) + T(t[12][v[44]]) + T(t[14][v[46]])
		r2a1 := T(t[1][v[33]]) + T(t[3][v[35]]) + T(t[5][v[37]]) + T(t[7][v[39]]) + T(t[9][v[41]]) + T(t[11][v[43]]) + T(t[13][v[45]]) + T(t[15][v[47]])
		r3a0 := T(t[0][v[48]]) + T(t[2][v[50]]) + T(t[4][v[52]]) + T(t[6][v[54]]) + T(t[8][v[56]]) + T(t[10][v[58]]) + T(t[12][v[60]]) + T(t[14][v[62]])
		r3a1 := T(t[1][v[49]]) + T(t[3][v[51]]) + T(t[5][v[53]]) + T(t[7][v[55]]) + T(t[9][v[57]]) + T(t[11][v[59]]) + T(t[13][v[61]]) + T(t[15][v[63]])
		ys[0] += r0a0 + r0a1
		ys[1] += r1a0 + r1a1
		ys[2] += r2a0 + r2a1
		ys[3] += r3a0 + r3a1
		w = w[4*chunkBytes:]
		ys = ys[4:]
	}
	for len(ys) >= 1 && len(w) >= chunkBytes {
		v := (*[chunkBytes]byte)(w)
		a0 := T(t[0][v[0]]) + T(t[2][v[2]]) + T(t[4][v[4]]) + T(t[6][v[6]]) + T(t[8][v[8]]) + T(t[10][v[10]]) + T(t[12][v[12]]) + T(t[14][v[14]])
		a1 := T(t[1][v[1]]) + T(t[3][v[3]]) + T(t[5][v[5]]) + T(t[7][v[7]]) + T(t[9][v[9]]) + T(t[11][v[11]]) + T(t[13][v[13]]) + T(t[15][v[15]])
		ys[0] += a0 + a1
		w = w[chunkBytes:]
		ys = ys[1:]
	}
}

// ---- i8 ----

type lutInputI8 struct {
	p      *lutPrepared
	q      []int8 // QuantizeI8(x), padded with zeros to chunks*chunkCols
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
	}
	in.inv = kernels.I8Inv(m.Scale, quantizeI8(x, in.q[:m.Cols]))
	in.loaded = true
	return nil
}

// quantizeI8 is kernels.QuantizeI8 with the same s and q
// (TestQuantizeI8Same) in half the time: it runs on one thread before the
// row ranges start, so it counts twice at 2 threads (10 µs at 4096 columns,
// 3.5% of go-i8's 2-thread GEMV). |x| by clearing the sign bit and
// comparing bits (positive floats order as their bits; NaN, above +Inf,
// is skipped as QuantizeI8's comparison skips it); round half to even by
// adding and subtracting 1.5*2^23 in float32, exact for |x*s| < 2^22. No
// clamp: |x*s| <= amax*s rounds to at most 127 (s = 127/amax rounded, or
// the 1e-5 floor, or 0 for an infinite amax).
func quantizeI8(x []float32, q []int8) float32 {
	q = q[:len(x)]
	var amax uint32
	for _, v := range x {
		if a := math.Float32bits(v) &^ (1 << 31); a > amax && a <= 0x7f80_0000 {
			amax = a
		}
	}
	s := float32(127) / max(math.Float32frombits(amax), float32(1e-5))
	const magic = 0x1.8p23
	for i, v := range x {
		y := float32(v * s)
		q[i] = int8(int32(float32(y+magic) - magic))
	}
	return s
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
	build := buildI8
	if p.tern {
		build = build3I8
	}
	sums(p, in.q, r0, r1, acc, build)
	inv, bias := in.inv, int32(p.chunks)*i8ChunkBias
	for i, v := range acc {
		ys[i] = float32(v-bias) * inv
	}
	return nil
}
