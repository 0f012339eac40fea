package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// chunkCols is the columns one chunk of codes covers (32 bytes in the i8
// layout, 64 in the f32 layout); the avx2 part exports it to avx2.go.
const chunkCols = 128

// avx2Part: the avx2-i8 and avx2-f32 row kernels.
func avx2Part() {
	i8Rows(4)
	i8Rows(1)
	for _, g := range []int{8, 4} {
		i8DirRows(4, g)
		i8DirRows(1, g)
	}
	f32Rows(4)
	f32Rows(1)
}

// quantPart: the vectorized i8 activation quantizer.
func quantPart() {
	absMax()
	quantize()
}

// i8Group is how many chunks the i8 kernels sum in int16 lanes before
// widening: a VPMADDUBSW pair is at most 2*4*127 = 1016 in magnitude, a chunk
// adds four of them per lane (4064), and 8 chunks reach 32512 <= 32767.
const i8Group = 8

// broadcastByte fills a YMM register with the byte v.
func broadcastByte(v byte) VecVirtual {
	g := GP32()
	MOVL(U32(uint32(v)*0x01010101), g)
	x := XMM()
	MOVD(g, x)
	y := YMM()
	VPBROADCASTD(x, y)
	return y
}

// broadcastDword fills a YMM register with the 32-bit value v.
func broadcastDword(v uint32) VecVirtual {
	g := GP32()
	MOVL(U32(v), g)
	x := XMM()
	MOVD(g, x)
	y := YMM()
	VPBROADCASTD(x, y)
	return y
}

// i8Rows emits i8Rows<n>AVX2, the integer sums of n*nblk rows of the avx2-i8
// layout: per 128-column chunk 32 bytes, byte k holding the codes of columns
// 32j+k (j = 0..3) in bits [2j+1:2j]. tab holds two 16-byte tables,
// lo[i] = cb[i&3]+2 and hi[i] = cb[i>>2]+2, so each nibble of a code byte
// maps to two unsigned weights u = cb+2 in [0, 4] with one VPSHUFB each.
func i8Rows(n int) {
	name := fmt.Sprintf("i8Rows%dAVX2", n)
	TEXT(name, NOSPLIT, "func(w *byte, stride int, q *int8, nchunk int, nblk int, tab *[32]byte, out *int32)")
	Pragma("noescape")
	Doc(
		name+fmt.Sprintf(" computes, for the %d*nblk rows starting at w (stride bytes apart),", n),
		"out[r] = Σ_{c < 128*nchunk} u(r, c) * q[c], where u = cb[code]+2 comes from tab",
		fmt.Sprintf("and codes are in the avx2-i8 layout (see i8Repack), %d rows per pass.", n),
		"int16 partial sums are widened to int32 after every 1024 columns (and after",
		"each group of 512, 256 or 128 of the rest), so no lane can overflow.",
	)
	tab := Load(Param("tab"), GP64())
	lo, hi := YMM(), YMM()
	VBROADCASTI128(Mem{Base: tab}, lo)
	VBROADCASTI128(Mem{Base: tab, Disp: 16}, hi)
	mask := broadcastByte(0x0F)
	ones := onesW()

	// chunk adds the four VPMADDUBSW products of a row's chunk at byte
	// offset off (q at 4*off) into s[0] (or sets it when first), as a tree
	// so that s[0] sees one dependent add per chunk.
	chunk := func(row, q Register, off int, s []VecVirtual, first bool) {
		b, n0, n1 := YMM(), YMM(), YMM()
		VMOVDQU(Mem{Base: row, Disp: off}, b)
		VPAND(mask, b, n0)
		VPSRLW(U8(4), b, n1)
		VPAND(mask, n1, n1)
		streams := []struct {
			t, idx VecVirtual
		}{{lo, n0}, {hi, n0}, {lo, n1}, {hi, n1}}
		p := make([]VecVirtual, 4)
		for j, st := range streams {
			u := YMM()
			VPSHUFB(st.idx, st.t, u)
			p[j] = YMM()
			VPMADDUBSW(Mem{Base: q, Disp: 4*off + 32*j}, u, p[j])
		}
		VPADDW(p[1], p[0], p[0])
		VPADDW(p[3], p[2], p[2])
		if first {
			VPADDW(p[2], p[0], s[0])
			return
		}
		VPADDW(p[2], p[0], p[0])
		VPADDW(p[0], s[0], s[0])
	}
	widen := func(s []VecVirtual, acc VecVirtual) {
		VPMADDWD(ones, s[0], s[0])
		VPADDD(s[0], acc, acc)
	}
	rowBlocks(name, n, i8Group, 1, chunk, widen)
}

// i8DirRows emits i8DirRows<n>G<g>AVX2, the integer sums of n*nblk rows of
// the avx2-i8 direct layout: the i8 layout (see i8Rows) but each 2-bit field
// holds v = cb[code] - min(cb) in [0, 3] instead of the code, so no lookup is
// needed. Of a code byte b, b&3 and (b>>4)&3 are v of streams 0 and 2, and
// b&12 and (b>>4)&12 are 4v of streams 1 and 3: five ops per 128 columns
// instead of seven. The two scales go to separate int16 sums, s1 and s4. A
// VPMADDUBSW pair is at most 2*vmax*127 in s1 and 4 times that in s4; a chunk
// adds two of each. After g chunks s4 is at most 16*vmax*127*g, so g = 8
// needs vmax <= 2 and g = 4 vmax <= 3 (24384). Then s4 (a multiple of 4) is
// shifted right by 2, added to s1 and widened, so out is exactly
// Σ v*q (no int32 overflow for cols <= kernels.MaxDim).
func i8DirRows(n, g int) {
	name := fmt.Sprintf("i8DirRows%dG%dAVX2", n, g)
	TEXT(name, NOSPLIT, "func(w *byte, stride int, q *int8, nchunk int, nblk int, out *int32)")
	Pragma("noescape")
	Doc(
		name+fmt.Sprintf(" computes, for the %d*nblk rows starting at w (stride bytes apart),", n),
		"out[r] = Σ_{c < 128*nchunk} v(r, c) * q[c], with v in [0, 3] stored in the",
		fmt.Sprintf("avx2-i8 layout (see i8DirRepack), %d rows per pass. int16 partial sums are", n),
		fmt.Sprintf("widened to int32 after every %d columns (and after each smaller group of", g*chunkCols),
		fmt.Sprintf("the rest); the caller must keep v <= %d so that no lane can overflow.", map[int]int{8: 2, 4: 3}[g]),
	)
	m3 := broadcastByte(0x03)
	mC := broadcastByte(0x0C)
	ones := onesW()

	// chunk adds a row's chunk at byte offset off (q at 4*off) into
	// s[0] = s1 and s[1] = s4 (or sets them when first).
	chunk := func(row, q Register, off int, s []VecVirtual, first bool) {
		b, b4 := YMM(), YMM()
		VMOVDQU(Mem{Base: row, Disp: off}, b)
		VPSRLW(U8(4), b, b4)
		u := []VecVirtual{YMM(), YMM(), YMM(), YMM()}
		VPAND(m3, b, u[0])
		VPAND(mC, b, u[1])
		VPAND(m3, b4, u[2])
		VPAND(mC, b4, u[3])
		p := make([]VecVirtual, 4)
		for j := range p {
			p[j] = YMM()
			VPMADDUBSW(Mem{Base: q, Disp: 4*off + 32*j}, u[j], p[j])
		}
		if first {
			VPADDW(p[2], p[0], s[0])
			VPADDW(p[3], p[1], s[1])
			return
		}
		VPADDW(p[2], p[0], p[0])
		VPADDW(p[3], p[1], p[1])
		VPADDW(p[0], s[0], s[0])
		VPADDW(p[1], s[1], s[1])
	}
	widen := func(s []VecVirtual, acc VecVirtual) {
		VPSRAW(U8(2), s[1], s[1])
		VPADDW(s[1], s[0], s[0])
		VPMADDWD(ones, s[0], s[0])
		VPADDD(s[0], acc, acc)
	}
	rowBlocks(name, n, g, 2, chunk, widen)
}

// onesW returns a YMM register of int16 ones.
func onesW() VecVirtual {
	ones := YMM()
	VPCMPEQW(ones, ones, ones)
	VPSRLW(U8(15), ones, ones)
	return ones
}

// avx2Ahead is how far ahead in each row the i8 row kernels prefetch W.
// At 4096x14336 cold (1 thread, 4 rows a pass) on a quiet machine: none
// 940-965 us, 128 bytes 630-655, 256 980 (worse than none), 384 595-625,
// 512 705-725, 1024 710-745; qk256 codebook 384 575-600 against 650-890 for
// 128 and 512. In cache (2048x4096) all are within 2% (58-59 us).
const avx2Ahead = 384

// rowBlocks emits the body shared by the i8 row kernels, whose parameters
// are w, stride, q, nchunk, nblk and out: for each of nblk blocks of n rows,
// g chunks at a time (g a power of 2; the rest in groups of g/2, g/4, ..., 1),
// chunk(row, q, off, s, first) adds
// a row's chunk into its nsum int16 sums s and widen(s, acc) adds them to the
// row's int32 lanes; the lanes' totals go to out, n per block.
func rowBlocks(name string, n, g, nsum int, chunk func(row, q Register, off int, s []VecVirtual, first bool), widen func(s []VecVirtual, acc VecVirtual)) {
	w := Load(Param("w"), GP64())
	stride := Load(Param("stride"), GP64())
	q0 := Load(Param("q"), GP64())
	nchunk0 := Load(Param("nchunk"), GP64())
	nblk := Load(Param("nblk"), GP64())
	o := Load(Param("out"), GP64())

	rows := make([]Register, n)
	for r := range rows {
		rows[r] = GP64()
	}
	q, nchunk := GP64(), GP64()
	acc := make([]VecVirtual, n)
	for r := range acc {
		acc[r] = YMM()
	}
	sums := func() []VecVirtual {
		s := make([]VecVirtual, nsum)
		for i := range s {
			s[i] = YMM()
		}
		return s
	}

	Label(name + "_block")
	TESTQ(nblk, nblk)
	JZ(LabelRef(name + "_done"))
	MOVQ(w, rows[0])
	for r := 1; r < n; r++ {
		LEAQ(Mem{Base: rows[r-1], Index: stride, Scale: 1}, rows[r])
	}
	for r := range acc {
		VPXOR(acc[r], acc[r], acc[r])
	}
	MOVQ(q0, q)
	MOVQ(nchunk0, nchunk)

	Label(name + "_group")
	CMPQ(nchunk, U32(g))
	JL(LabelRef(name + "_tail"))
	for r := 0; r < n; r++ {
		// Prefetch this row's W avx2Ahead bytes ahead (no fault past the end).
		for l := 0; l < max(1, 32*g/64); l++ {
			PREFETCHT0(Mem{Base: rows[r], Disp: avx2Ahead + 64*l})
		}
		s := sums()
		for c := 0; c < g; c++ {
			chunk(rows[r], q, 32*c, s, c == 0)
		}
		widen(s, acc[r])
	}
	for r := 0; r < n; r++ {
		ADDQ(U32(32*g), rows[r])
	}
	ADDQ(U32(chunkCols*g), q)
	SUBQ(U32(g), nchunk)
	JMP(LabelRef(name + "_group"))

	Label(name + "_tail")

	// The last nchunk < g chunks: t = g/2, g/4, ..., 1 chunks when that
	// many are left, each group widened once.
	for t := g / 2; t >= 1; t /= 2 {
		skip := fmt.Sprintf("%s_tail%d", name, t)
		CMPQ(nchunk, U32(t))
		JL(LabelRef(skip))
		for r := 0; r < n; r++ {
			s := sums()
			for c := 0; c < t; c++ {
				chunk(rows[r], q, 32*c, s, c == 0)
			}
			widen(s, acc[r])
		}
		if t > 1 {
			for r := 0; r < n; r++ {
				ADDQ(U32(32*t), rows[r])
			}
			ADDQ(U32(chunkCols*t), q)
			SUBQ(U32(t), nchunk)
		}
		Label(skip)
	}

	Label(name + "_store")
	reduceOut(acc, o)
	ADDQ(U32(4*n), o)
	LEAQ(Mem{Base: w, Index: stride, Scale: uint8(n)}, w)
	DECQ(nblk)
	JMP(LabelRef(name + "_block"))

	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// reduceOut stores the horizontal sums of the int32 lanes of acc[r] to
// out[r] (o points at out).
func reduceOut(acc []VecVirtual, o Register) {
	if len(acc) == 4 {
		t01, t23 := YMM(), YMM()
		VPHADDD(acc[1], acc[0], t01)
		VPHADDD(acc[3], acc[2], t23)
		VPHADDD(t23, t01, t01)
		h := XMM()
		VEXTRACTI128(U8(1), t01, h)
		VPADDD(h, t01.AsX(), h)
		VMOVDQU(h, Mem{Base: o})
		return
	}
	for r := range acc {
		h := XMM()
		VEXTRACTI128(U8(1), acc[r], h)
		VPADDD(h, acc[r].AsX(), h)
		VPSHUFD(U8(0x4E), h, acc[r].AsX())
		VPADDD(h, acc[r].AsX(), h)
		VPSHUFD(U8(0xB1), h, acc[r].AsX())
		VPADDD(h, acc[r].AsX(), h)
		VMOVD(h, Mem{Base: o, Disp: 4 * r})
	}
}

// f32Rows emits f32Rows<n>AVX2, the float32 sums of n rows of the avx2-f32
// layout (4 bits per weight, see f32Repack in avx2.go): per 128-column chunk
// 64 bytes; a 32-byte load at byte offset o of half h has in the low bits of
// dword i the code of column 8g+i, g = 8h+2o, and in bits [5:4] that of
// column 8(g+1)+i. VPERMILPS indexes tab (cb[i&3] in both lanes) with only
// bits [1:0] of each dword, so no mask is needed: one shift per 16 weights.
func f32Rows(n int) {
	name := fmt.Sprintf("f32Rows%dAVX2", n)
	TEXT(name, NOSPLIT, "func(w *byte, stride int, x *float32, nchunk int, tab *[8]float32, out *float32)")
	Pragma("noescape")
	Doc(
		name+fmt.Sprintf(" computes, for the %d rows starting at w (stride bytes apart),", n),
		"out[r] = Σ_{c < 128*nchunk} tab[code(r, c)] * x[c] in float32, with codes in",
		"the avx2-f32 layout (see f32Repack), with two accumulators per row; n = 1 and",
		"n = 4 add in the same order, so their results are bit-identical. The loads at",
		"offsets 1..3 read up to 3 bytes past the last chunk (the layout is padded).",
	)
	w := Load(Param("w"), GP64())
	stride := Load(Param("stride"), GP64())
	x := Load(Param("x"), GP64())
	nchunk := Load(Param("nchunk"), GP64())
	tabp := Load(Param("tab"), GP64())
	tab := YMM()
	VMOVUPS(Mem{Base: tabp}, tab)

	rows := make([]Register, n)
	rows[0] = w
	for r := 1; r < n; r++ {
		rows[r] = GP64()
		LEAQ(Mem{Base: rows[r-1], Index: stride, Scale: 1}, rows[r])
	}
	// Two accumulators per row, and the same reduction order for n = 1 and
	// n = 4, so that a row's result does not depend on which code ran it.
	const nacc = 2
	acc := make([][]VecVirtual, n)
	for r := range acc {
		acc[r] = make([]VecVirtual, nacc)
		for a := range acc[r] {
			acc[r][a] = YMM()
			VXORPS(acc[r][a], acc[r][a], acc[r][a])
		}
	}

	// Per chunk and row: 64 bytes, two halves of 32. A load at byte offset o
	// (0..3) of half h puts byte 4i+o of the half in the low byte of dword i:
	// its bits [1:0] are the code of column 8g+i and bits [5:4] that of
	// column 8(g+1)+i, g = 8h+2o. VPERMILPS reads only bits [1:0].
	Label(name + "_loop")
	TESTQ(nchunk, nchunk)
	JZ(LabelRef(name + "_done"))
	for h := 0; h < 2; h++ {
		for o := 0; o < 4; o++ {
			g := 8*h + 2*o
			x0, x1 := YMM(), YMM()
			VMOVUPS(Mem{Base: x, Disp: 32 * g}, x0)
			VMOVUPS(Mem{Base: x, Disp: 32 * (g + 1)}, x1)
			for r := 0; r < n; r++ {
				v, wv := YMM(), YMM()
				VMOVDQU(Mem{Base: rows[r], Disp: 32*h + o}, v)
				VPERMILPS(v, tab, wv)
				VFMADD231PS(x0, wv, acc[r][0])
				VPSRLD(U8(4), v, v)
				VPERMILPS(v, tab, wv)
				VFMADD231PS(x1, wv, acc[r][1])
			}
		}
	}
	for r := 0; r < n; r++ {
		ADDQ(U32(64), rows[r])
	}
	ADDQ(U32(512), x)
	DECQ(nchunk)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_done")
	o := Load(Param("out"), GP64())
	for r := 0; r < n; r++ {
		for a := 1; a < nacc; a++ {
			VADDPS(acc[r][a], acc[r][0], acc[r][0])
		}
	}
	if n == 4 {
		t01, t23 := acc[0][0], acc[2][0]
		VHADDPS(acc[1][0], acc[0][0], t01)
		VHADDPS(acc[3][0], acc[2][0], t23)
		VHADDPS(t23, t01, t01)
		h := XMM()
		VEXTRACTF128(U8(1), t01, h)
		VADDPS(h, t01.AsX(), h)
		VMOVUPS(h, Mem{Base: o})
	} else {
		for r := 0; r < n; r++ {
			a := acc[r][0]
			VHADDPS(a, a, a)
			VHADDPS(a, a, a)
			h := XMM()
			VEXTRACTF128(U8(1), a, h)
			VADDPS(h, a.AsX(), h)
			VMOVSS(h, Mem{Base: o, Disp: 4 * r})
		}
	}
	VZEROUPPER()
	RET()
}

// absMax emits absMaxAVX2(x) = max |x[i]| over the first len(x)&^31 values.
func absMax() {
	TEXT("absMaxAVX2", NOSPLIT, "func(x []float32) float32")
	Pragma("noescape")
	Doc(
		"absMaxAVX2 returns max_{i < len(x)&^31} |x[i]| (0 when that is empty):",
		"the caller folds in the last len(x)%32 values.",
	)
	x := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	absMask := broadcastDword(0x7FFFFFFF)
	acc := make([]VecVirtual, 4)
	for i := range acc {
		acc[i] = YMM()
		VXORPS(acc[i], acc[i], acc[i])
	}
	SHRQ(U8(5), n)
	Label("absmax_loop")
	TESTQ(n, n)
	JZ(LabelRef("absmax_done"))
	for i := range acc {
		v := YMM()
		VANDPS(Mem{Base: x, Disp: 32 * i}, absMask, v)
		VMAXPS(v, acc[i], acc[i])
	}
	ADDQ(U32(128), x)
	DECQ(n)
	JMP(LabelRef("absmax_loop"))
	Label("absmax_done")
	VMAXPS(acc[1], acc[0], acc[0])
	VMAXPS(acc[3], acc[2], acc[2])
	VMAXPS(acc[2], acc[0], acc[0])
	h := XMM()
	VEXTRACTF128(U8(1), acc[0], h)
	VMAXPS(h, acc[0].AsX(), h)
	t := XMM()
	VPSHUFD(U8(0x4E), h, t)
	VMAXPS(t, h, h)
	VPSHUFD(U8(0xB1), h, t)
	VMAXPS(t, h, h)
	Store(h, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// quantize emits quantAVX2, the rounding step of docs/format.md §2's quantizer.
func quantize() {
	perm := GLOBL("quantPerm", RODATA|NOPTR)
	for i, v := range []uint32{0, 4, 1, 5, 2, 6, 3, 7} {
		DATA(4*i, U32(v))
	}
	TEXT("quantAVX2", NOSPLIT, "func(x []float32, q []int8, s float32) int32")
	Pragma("noescape")
	Doc(
		"quantAVX2 sets q[i] = clamp(roundHalfEven(float32(x[i]*s)), -127, 127) for",
		"i < len(x)&^31 (the caller checks len(q) >= len(x)) and returns the sum of",
		"those q[i]. Rounding is VCVTPS2DQ's, under Go's default MXCSR (to nearest even).",
	)
	x := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	q := Load(Param("q").Base(), GP64())
	s := YMM()
	VBROADCASTSS(Load(Param("s"), XMM()), s)
	hi := broadcastDword(127)
	lo := broadcastDword(uint32(0xFFFFFF81)) // -127
	pidx := YMM()
	VMOVDQU(perm, pidx)
	sum := YMM()
	VPXOR(sum, sum, sum)
	SHRQ(U8(5), n)
	Label("quant_loop")
	TESTQ(n, n)
	JZ(LabelRef("quant_done"))
	v := make([]VecVirtual, 4)
	for i := range v {
		v[i] = YMM()
		VMULPS(Mem{Base: x, Disp: 32 * i}, s, v[i])
		VCVTPS2DQ(v[i], v[i])
		VPMINSD(hi, v[i], v[i])
		VPMAXSD(lo, v[i], v[i])
		VPADDD(v[i], sum, sum)
	}
	VPACKSSDW(v[1], v[0], v[0])
	VPACKSSDW(v[3], v[2], v[2])
	VPACKSSWB(v[2], v[0], v[0])
	VPERMD(v[0], pidx, v[0])
	VMOVDQU(v[0], Mem{Base: q})
	ADDQ(U32(128), x)
	ADDQ(U32(32), q)
	DECQ(n)
	JMP(LabelRef("quant_loop"))
	Label("quant_done")
	h := XMM()
	VEXTRACTI128(U8(1), sum, h)
	VPADDD(h, sum.AsX(), h)
	t := XMM()
	VPSHUFD(U8(0x4E), h, t)
	VPADDD(t, h, h)
	VPSHUFD(U8(0xB1), h, t)
	VPADDD(t, h, h)
	r := GP32()
	MOVD(h, r)
	Store(r, ReturnIndex(0))
	VZEROUPPER()
	RET()
}
