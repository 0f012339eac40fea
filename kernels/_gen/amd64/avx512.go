package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// avx512Part: the AVX-512 inner loops of avx512vnni-i8 and avx512lut-i8.
func avx512Part() {
	vnniRows(8)
	vnniRows(1)
	avx512Amax()
	streams()
	avx512Quant()
	lutTables()
	lutChunkOct("lutChunk", lutSets)
	lutScale()
	lut3Tables()
	lutPrefetch()
	lutFlip()
	lut3Chunk("lut3Chunk", lutSets)
}

// hsumD reduces the 16 int32 lanes of z to one and stores it at dst.
func hsumD(z VecVirtual, dst Mem) { VMOVD(hsumX(z), dst) }

// hsumX reduces the 16 int32 lanes of z into lane 0 of the returned register.
func hsumX(z VecVirtual) VecVirtual {
	y := YMM()
	VEXTRACTI64X4(U8(1), z, y)
	VPADDD(z.AsY(), y, y)
	x := XMM()
	VEXTRACTI128(U8(1), y, x)
	VPADDD(y.AsX(), x, x)
	t := XMM()
	VPSHUFD(U8(0x4e), x, t)
	VPADDD(t, x, x)
	VPSHUFD(U8(0xb1), x, t)
	VPADDD(t, x, x)
	return x
}

// vnniRows emits vnniRows<n>: n rows of seq-packed codes against the
// permuted int8 activations, one VPERMB per code plane and VPDPBUSD.
func vnniRows(n int) {
	name := fmt.Sprintf("vnniRows%d", n)
	TEXT(name, NOSPLIT, "func(w *byte, stride int, nb int, qp *int8, tbl *[192]byte, out *int32)")
	Pragma("noescape")
	Doc(
		name+" computes, for the "+fmt.Sprint(n)+" rows i at w + i*stride, each nb >= 1 blocks of 64 bytes,",
		"",
		"\tout[i] = Σ_{b<nb} Σ_{k<64} Σ_{j<4} tbl[64*t[j] + (w[i*stride+64b+k] >> sh[j]) & 63] * qp[256b+64j+k]",
		"",
		"with t = {0, 1, 2, 0} and sh = {0, 0, 0, 6}: VPERMB reads bits 0..5 of a",
		"code byte, table j holds cb[(idx>>2j)&3]+2, and code 3 is shifted down.",
	)
	w := Load(Param("w"), GP64())
	stride := Load(Param("stride"), GP64())
	nb := Load(Param("nb"), GP64())
	qp := Load(Param("qp"), GP64())
	tp := Load(Param("tbl"), GP64())
	out := Load(Param("out"), GP64())

	tbl := []VecVirtual{ZMM(), ZMM(), ZMM()}
	for j, t := range tbl {
		VMOVDQU64(Mem{Base: tp, Disp: 64 * j}, t)
	}
	rows := make([]GPVirtual, n)
	for i := range rows {
		rows[i] = GP64()
		if i == 0 {
			MOVQ(w, rows[i])
		} else {
			LEAQ(Mem{Base: rows[i-1], Index: stride, Scale: 1}, rows[i])
		}
	}
	acc := make([]VecVirtual, n)
	for i := range acc {
		acc[i] = ZMM()
		VPXORD(acc[i], acc[i], acc[i])
	}
	off := GP64()
	XORQ(off, off)

	Label(name + "_block")
	q := []VecVirtual{ZMM(), ZMM(), ZMM(), ZMM()}
	for j := range q {
		VMOVDQU64(Mem{Base: qp, Disp: 64 * j}, q[j])
	}
	for i := 0; i < n; i++ {
		v := ZMM()
		VMOVDQU64(Mem{Base: rows[i], Index: off, Scale: 1}, v)
		PREFETCHT0(Mem{Base: rows[i], Index: off, Scale: 1, Disp: vnniAhead})
		u := []VecVirtual{ZMM(), ZMM(), ZMM(), ZMM()}
		s := ZMM()
		VPSRLW(U8(6), v, s)
		VPERMB(tbl[0], v, u[0])
		VPERMB(tbl[1], v, u[1])
		VPERMB(tbl[2], v, u[2])
		VPERMB(tbl[0], s, u[3])
		for j := 0; j < 4; j++ {
			VPDPBUSD(q[j], u[j], acc[i])
		}
	}
	ADDQ(U8(64), off)
	ADDQ(U32(256), qp)
	DECQ(nb)
	JNZ(LabelRef(name + "_block"))

	for i := 0; i < n; i++ {
		hsumD(acc[i], Mem{Base: out, Disp: 4 * i})
	}
	VZEROUPPER()
	RET()
}

// vnniAhead is how far ahead in each of its 8 rows vnniRows prefetches W.
// At 4096x14336 cold (1 thread, ternary) none took 540 us, 256 510, 512
// 470, 768 480-600, 1024 470-520; in cache (2048x4096) 512 took 31 us
// against 34 without.
const vnniAhead = 512

// LUT kernel geometry; the avx512 part exports lutSets and lut3PeriodWords
// (avx512_consts.go).
const (
	lutSets         = 4  // 32-row word vectors per row block (128 rows)
	lut3PeriodWords = 12 // base-3 words (36 lookups) whose int16 sums no codebook overflows
	// lutAhead is how far ahead lut3Chunk and lutChunkOct prefetch W. In
	// cache, 1024 to 8192 beat none by 7% at 2048x4096 (the hardware
	// prefetchers alone left the loop waiting on L2). From DRAM the
	// distance decides the speed: at 4096x14336 (cold, 1 thread, ternary)
	// 2048 took 470 us, 4096 415, 8192 375, 16384 400 (floor 359).
	lutAhead = 8192
	// lut3TablesUnroll is how many tables lut3Tables writes per loop
	// iteration; ngroups must be a multiple of it.
	lut3TablesUnroll = 4
)

// lutTables emits lutTables: the int16 tables of avx512lut-i8, one per
// group of three activations.
func lutTables() {
	TEXT("lutTables", NOSPLIT, "func(q *int8, ngroups int, cbv *[128]int16, tbl *int16)")
	Pragma("noescape")
	Doc(
		"lutTables writes, for g < ngroups (>= 1) and e < 64,",
		"",
		"\ttbl[64g+e] = cb[e&3]*q[3g] + cb[(e>>2)&3]*q[3g+1] + cb[e>>4]*q[3g+2]",
		"",
		"from cbv = the 32-entry vectors cb[e&3], cb[(e>>2)&3] (both the same for the",
		"two halves e < 32 and e >= 32), cb[e>>4] for e < 32 and cb[e>>4] for e >= 32.",
	)
	q := Load(Param("q"), GP64())
	n := Load(Param("ngroups"), GP64())
	cp := Load(Param("cbv"), GP64())
	t := Load(Param("tbl"), GP64())
	c0, c1, c2lo, c2hi := ZMM(), ZMM(), ZMM(), ZMM()
	VMOVDQU64(Mem{Base: cp}, c0)
	VMOVDQU64(Mem{Base: cp, Disp: 64}, c1)
	VMOVDQU64(Mem{Base: cp, Disp: 128}, c2lo)
	VMOVDQU64(Mem{Base: cp, Disp: 192}, c2hi)
	Label("lutTables_group")
	// Every byte q[3g+j] broadcast from memory (a load, no GP-to-vector
	// move), then each word arithmetic-shifted right by 8: q sign-extended.
	b := []VecVirtual{ZMM(), ZMM(), ZMM()}
	for j := range b {
		VPBROADCASTB(Mem{Base: q, Disp: j}, b[j])
		VPSRAW(U8(8), b[j], b[j])
	}
	base, tmp, lo, hi := ZMM(), ZMM(), ZMM(), ZMM()
	VPMULLW(b[0], c0, base)
	VPMULLW(b[1], c1, tmp)
	VPADDW(tmp, base, base)
	VPMULLW(b[2], c2lo, lo)
	VPMULLW(b[2], c2hi, hi)
	VPADDW(base, lo, lo)
	VPADDW(base, hi, hi)
	VMOVDQU64(lo, Mem{Base: t})
	VMOVDQU64(hi, Mem{Base: t, Disp: 64})
	ADDQ(U8(3), q)
	ADDQ(U32(128), t)
	DECQ(n)
	JNZ(LabelRef("lutTables_group"))
	VZEROUPPER()
	RET()
}

// lutScale emits lutScale: y = float32(acc) * inv for whole 16-row pieces.
func lutScale() {
	TEXT("lutScale", NOSPLIT, "func(acc *int32, n16 int, inv float32, y *float32)")
	Pragma("noescape")
	Doc(
		"lutScale writes y[i] = float32(acc[i]) * inv for i < 16*n16 (n16 >= 0): VCVTDQ2PS",
		"rounds to nearest even under Go's MXCSR, as Go's int32 to float32 conversion does.",
	)
	acc := Load(Param("acc"), GP64())
	n := Load(Param("n16"), GP64())
	ix := Load(Param("inv"), XMM())
	y := Load(Param("y"), GP64())
	inv := ZMM()
	VBROADCASTSS(ix, inv)
	TESTQ(n, n)
	JZ(LabelRef("lutScale_done"))
	Label("lutScale_loop")
	v := ZMM()
	VCVTDQ2PS(Mem{Base: acc}, v)
	VMULPS(inv, v, v)
	VMOVUPS(v, Mem{Base: y})
	ADDQ(U8(64), acc)
	ADDQ(U8(64), y)
	DECQ(n)
	JNZ(LabelRef("lutScale_loop"))
	Label("lutScale_done")
	VZEROUPPER()
	RET()
}

// lutPrefetch emits lutPrefetch: PREFETCHT0 of n 64-byte lines.
func lutPrefetch() {
	TEXT("lutPrefetch", NOSPLIT, "func(p *int8, n int)")
	Pragma("noescape")
	Doc("lutPrefetch asks for the n >= 1 64-byte lines from p into L1 (PREFETCHT0; no faults).")
	p := Load(Param("p"), GP64())
	n := Load(Param("n"), GP64())
	Label("lutPrefetch_line")
	PREFETCHT0(Mem{Base: p})
	ADDQ(U8(64), p)
	DECQ(n)
	JNZ(LabelRef("lutPrefetch_line"))
	RET()
}

// lutFlip emits lutFlip, which writes the int8 activations as lut3Tables
// reads them, once per Load instead of once per table: the unsigned side
// of its VPMADDUBSW (q XOR 0x80, q+128), four bytes a group of three, the
// fourth 0x80, which the signed constant -Σv multiplies into the table's
// -128*Σv (its entries come out centred without a VPSUBW).
func lutFlip() {
	perm := GLOBL("lutFlipPerm", RODATA|NOPTR)
	// Dwords 4k..4k+3 (lane k) take source dwords 3k, 3k+1, 3k+2 (and 3k+2
	// again, unused): the lane then holds the 12 bytes of groups 4k..4k+3.
	for d := 0; d < 16; d++ {
		k, i := d/4, min(d%4, 2)
		DATA(4*d, U32(uint32(3*k+i)))
	}
	// Within a lane, output byte 4j+i is source byte 3j+i (i < 3) and byte
	// 4j+3 is zeroed (index 0x80) and becomes 0x80 after the XOR.
	for l := 0; l < 4; l++ {
		for j := 0; j < 4; j++ {
			for i := 0; i < 4; i++ {
				v := byte(0x80)
				if i < 3 {
					v = byte(3*j + i)
				}
				DATA(64+16*l+4*j+i, U8(v))
			}
		}
	}
	TEXT("lutFlip", NOSPLIT, "func(dst *uint8, src *int8, n int)")
	Pragma("noescape")
	Doc(
		"lutFlip writes, for k < n (n >= 1), j < 16 and i < 3,",
		"",
		"\tdst[64k+4j+i] = src[48k+3j+i] XOR 0x80 (src+128),  dst[64k+4j+3] = 0x80",
		"",
		"reading src[48k .. 48k+63] (16 bytes past the last group it uses).",
	)
	d := Load(Param("dst"), GP64())
	sp := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	x80, pd, pb := ZMM(), ZMM(), ZMM()
	r := GP32()
	MOVL(U32(0x80), r)
	VPBROADCASTB(r, x80)
	VMOVDQU64(perm, pd)
	VMOVDQU64(perm.Offset(64), pb)
	Label("lutFlip_block")
	z := ZMM()
	VPERMD(Mem{Base: sp}, pd, z)
	VPSHUFB(pb, z, z)
	VPXORD(x80, z, z)
	VMOVDQU64(z, Mem{Base: d})
	ADDQ(U8(48), sp)
	ADDQ(U8(64), d)
	DECQ(n)
	JNZ(LabelRef("lutFlip_block"))
	VZEROUPPER()
	RET()
}

// lut3Tables emits lut3Tables: the 32-entry int16 tables of avx512lut-i8's
// path for codebooks of at most three distinct values (27 entries used).
// VPMADDUBSW multiplies unsigned by signed bytes: q+128 (q XOR 0x80, see
// lutFlip) is the unsigned side, the values the signed one, and the
// fourth byte of a group, 0x80, times -Σ_j v_j[e] takes 128*Σ_j v_j[e]
// off again. Building a table is bound by its 64-byte store (2 cycles on
// Zen 4); without the VPSUBW of a constant it took 2.2 cycles instead of
// 2.6 in a loop of the same instructions.
func lut3Tables() {
	TEXT("lut3Tables", NOSPLIT, "func(qu *uint8, ngroups int, cbv *[128]int16, tbl *int16)")
	Pragma("noescape")
	Doc(
		"lut3Tables writes, for g < ngroups (a positive multiple of "+fmt.Sprint(lut3TablesUnroll)+") and e < 32,",
		"",
		"\ttbl[32g+e] = v0[e]*q[3g] + v1[e]*q[3g+1] + v2[e]*q[3g+2]",
		"",
		"where qu holds group g at qu[4g:4g+4] = q[3g]+128, q[3g+1]+128, q[3g+2]+128, 128",
		"(see lutFlip), cbv's bytes 0..63 are v0[e], v1[e] at 2e, 2e+1 and its bytes",
		"192..255 are v2[e], -(v0[e]+v1[e]+v2[e]) at 192+2e, 193+2e.",
	)
	qu := Load(Param("qu"), GP64())
	n := Load(Param("ngroups"), GP64())
	cp := Load(Param("cbv"), GP64())
	t := Load(Param("tbl"), GP64())
	c01, c2 := ZMM(), ZMM()
	VMOVDQU64(Mem{Base: cp}, c01)
	VMOVDQU64(Mem{Base: cp, Disp: 192}, c2)
	// ngroups is a multiple of lut3TablesUnroll (3 per word, 12 words a period).
	SHRQ(U8(2), n)
	Label("lut3Tables_group")
	for u := 0; u < lut3TablesUnroll; u++ {
		b01, b23 := ZMM(), ZMM()
		VPBROADCASTW(Mem{Base: qu, Disp: 4 * u}, b01)
		VPBROADCASTW(Mem{Base: qu, Disp: 4*u + 2}, b23)
		VPMADDUBSW(c01, b01, b01)
		VPMADDUBSW(c2, b23, b23)
		VPADDW(b23, b01, b01)
		VMOVDQU64(b01, Mem{Base: t, Disp: 64 * u})
	}
	ADDQ(U8(4*lut3TablesUnroll), qu)
	ADDQ(U32(64*lut3TablesUnroll), t)
	DECQ(n)
	JNZ(LabelRef("lut3Tables_group"))
	VZEROUPPER()
	RET()
}

// lutWidenConsts emits the constants of lutWiden, through scratch r.
func lutWidenConsts(r Register) (even, odd VecVirtual) {
	even, odd = ZMM(), ZMM()
	MOVL(U32(1), r)
	VPBROADCASTD(r, even)
	MOVL(U32(1<<16), r)
	VPBROADCASTD(r, odd)
	return even, odd
}

// lutZeros emits n zeroed vectors: the sets' int16 sums of a period.
func lutZeros(n int) []VecVirtual {
	z := make([]VecVirtual, n)
	for i := range z {
		z[i] = ZMM()
		VPXORD(z[i], z[i], z[i])
	}
	return z
}

// lutWiden emits the widening of the sets' int16 sums a16 (word 2i row i,
// word 2i+1 row 16+i) into the int32 row sums at acc: VPMADDWD by 1 in the
// even (odd) words.
func lutWiden(acc Register, a16 []VecVirtual, even, odd VecVirtual) {
	for s := range a16 {
		e, od := ZMM(), ZMM()
		VPMADDWD(even, a16[s], e)
		VPMADDWD(odd, a16[s], od)
		VPADDD(Mem{Base: acc, Disp: 128 * s}, e, e)
		VPADDD(Mem{Base: acc, Disp: 128*s + 64}, od, od)
		VMOVDQU64(e, Mem{Base: acc, Disp: 128 * s})
		VMOVDQU64(od, Mem{Base: acc, Disp: 128*s + 64})
	}
}

// lutChunkFrame emits what lutChunkOct needs around its lookups, after its
// TEXT and Doc: the parameters, the int16->int32 widening constants, the
// loop over nrb row blocks of sets 32-row sets and in each the loop over
// nper periods. consts (called once, before the loops, with a word
// broadcaster) emits the kernel's constants and returns period, which
// emits one period's lookups from w and t into the sets' int16 sums a16;
// after it, the sums are widened into acc and w and t advance by wStep
// and tStep bytes.
func lutChunkFrame(name string, sets, tStep, wStep int, consts func(bcastW func(uint32) VecVirtual) (period func(w, t Register, a16 []VecVirtual))) {
	w := Load(Param("w"), GP64())
	tp := Load(Param("tbl"), GP64())
	nper := Load(Param("nper"), GP64())
	nrb := Load(Param("nrb"), GP64())
	acc := Load(Param("acc"), GP64())

	r := GP32()
	bcastW := func(v uint32) VecVirtual {
		z := ZMM()
		MOVL(U32(v), r)
		VPBROADCASTW(r, z)
		return z
	}
	period := consts(bcastW)
	even, odd := lutWidenConsts(r)

	Label(name + "_rb")
	t := GP64()
	MOVQ(tp, t)
	per := GP64()
	MOVQ(nper, per)
	Label(name + "_period")
	a16 := lutZeros(sets)
	period(w, t, a16)
	lutWiden(acc, a16, even, odd)
	ADDQ(U32(tStep), t)
	ADDQ(U32(wStep), w)
	DECQ(per)
	JNZ(LabelRef(name + "_period"))
	ADDQ(U32(4*32*sets), acc)
	DECQ(nrb)
	JNZ(LabelRef(name + "_rb"))
	VZEROUPPER()
	RET()
}

// lut3Chunk emits the base-3 form of lutChunk: for 32 rows, the table
// indices of 3 groups (9 columns) fill one word a row,
//
//	W = i0 | i1<<5 | i2<<10, ik = d(3k) + 3d(3k+1) + 9d(3k+2) < 27,
//
// d the weight's digit (index of its value among the codebook's at most
// three distinct values). VPERMW reads bits 0..4 of an index word from a
// one-register 32-entry table: i0 needs no work, i1 one VPMULHUW and i2
// one VPSRLW (2 index operations per 3 lookups, 1.78 bits per weight).
// VPERMW zmm runs one per cycle and contends with both of them; one of
// each beat two multiplies (or two shifts) by 4% at 640x2560 on Zen 4.
//
// The words and the int16 period are loop counts, not unrolled: the
// caller picks the period from the codebook (lut3PeriodWords words for
// any codebook, twice that when every |value| <= 1), and a longer period
// saved 2-3% of the loop's time in widenings. Unrolled and looped word
// loops took the same time.
func lut3Chunk(name string, sets int) {
	TEXT(name, NOSPLIT, "func(w *byte, tbl *int16, nwords int, period int, nrb int, acc *int32)")
	Pragma("noescape")
	Doc(
		name+" adds to acc[32*S*rb + 32*s + i] (rb < nrb >= 1, s < S = "+fmt.Sprint(sets)+", i < 32)",
		"the lookups of one chunk of nwords >= 1 words of 3 groups:",
		"",
		"\tΣ_k Σ_{j<3} tbl[32*(3k+j) + i_j(k, rb, s, i)]",
		"",
		"where word k's vector (see lut3Chunk in the generator) is the 64 bytes at",
		"w + ((rb*nwords + k)*S + s)*64, word pos(i) of it, pos(i) = 2i for",
		"i < 16 and 2(i-16)+1 otherwise. Lookups are summed in int16 for period >= 1",
		"words (3*period lookups) at a time and then widened: the caller picks a",
		"period whose sums cannot overflow (3*period*max|tbl| <= 32767).",
	)
	w := Load(Param("w"), GP64())
	tp := Load(Param("tbl"), GP64())
	nwords := Load(Param("nwords"), GP64())
	period := Load(Param("period"), GP64())
	nrb := Load(Param("nrb"), GP64())
	acc := Load(Param("acc"), GP64())
	r := GP32()
	// VPMULHUW by 2^11 shifts an unsigned word right by 5.
	sh5 := ZMM()
	MOVL(U32(1<<11), r)
	VPBROADCASTW(r, sh5)
	even, odd := lutWidenConsts(r)

	Label(name + "_rb")
	t := GP64()
	MOVQ(tp, t)
	left := GP64()
	MOVQ(nwords, left)
	Label(name + "_period")
	a16 := lutZeros(sets)
	// n = min(period, left) words in this period.
	n := GP64()
	MOVQ(period, n)
	CMPQ(left, n)
	CMOVQLT(left, n)
	SUBQ(n, left)
	Label(name + "_word")
	T := []VecVirtual{ZMM(), ZMM(), ZMM()}
	for j := range T {
		VMOVDQU64(Mem{Base: t, Disp: 64 * j}, T[j])
	}
	for s := 0; s < sets; s++ {
		x := ZMM()
		VMOVDQU64(Mem{Base: w, Disp: 64 * s}, x)
		// Prefetch W lutAhead bytes ahead into L1 (no fault past the end).
		PREFETCHT0(Mem{Base: w, Disp: 64*s + lutAhead})
		i1, i2 := ZMM(), ZMM()
		VPMULHUW(sh5, x, i1)
		VPSRLW(U8(10), x, i2)
		for j, idx := range []VecVirtual{x, i1, i2} {
			// VPERMW: idx's word i becomes T[j]'s word idx[i]&31.
			VPERMW(T[j], idx, idx)
			VPADDW(idx, a16[s], a16[s])
		}
	}
	ADDQ(U32(64*3), t)
	ADDQ(U32(64*sets), w)
	DECQ(n)
	JNZ(LabelRef(name + "_word"))
	lutWiden(acc, a16, even, odd)
	TESTQ(left, left)
	JNZ(LabelRef(name + "_period"))
	ADDQ(U32(4*32*sets), acc)
	DECQ(nrb)
	JNZ(LabelRef(name + "_rb"))
	VZEROUPPER()
	RET()
}

// avx512Amax emits avx512Amax: max |x[i]| over n floats (n a multiple of 16).
func avx512Amax() {
	TEXT("avx512Amax", NOSPLIT, "func(x *float32, n int) float32")
	Pragma("noescape")
	Doc(
		"avx512Amax returns max_{i<n} |x[i]| (0 when n == 0); n is a multiple of 16.",
	)
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	mask, m0, m1 := ZMM(), ZMM(), ZMM()
	r := GP32()
	MOVL(U32(0x7fffffff), r)
	VPBROADCASTD(r, mask)
	VPXORD(m0, m0, m0)
	VPXORD(m1, m1, m1)
	Label("avx512Amax_two")
	CMPQ(n, U8(32))
	JL(LabelRef("avx512Amax_one"))
	a, b := ZMM(), ZMM()
	VPANDD(Mem{Base: x}, mask, a)
	VPANDD(Mem{Base: x, Disp: 64}, mask, b)
	VMAXPS(a, m0, m0)
	VMAXPS(b, m1, m1)
	ADDQ(U8(128), x)
	SUBQ(U8(32), n)
	JMP(LabelRef("avx512Amax_two"))
	Label("avx512Amax_one")
	TESTQ(n, n)
	JZ(LabelRef("avx512Amax_reduce"))
	c := ZMM()
	VPANDD(Mem{Base: x}, mask, c)
	VMAXPS(c, m0, m0)
	Label("avx512Amax_reduce")
	VMAXPS(m1, m0, m0)
	y := YMM()
	VEXTRACTF64X4(U8(1), m0, y)
	VMAXPS(m0.AsY(), y, y)
	xx := XMM()
	VEXTRACTF128(U8(1), y, xx)
	VMAXPS(y.AsX(), xx, xx)
	t := XMM()
	VPSHUFD(U8(0x4e), xx, t)
	VMAXPS(t, xx, xx)
	VPSHUFD(U8(0xb1), xx, t)
	VMAXPS(t, xx, xx)
	VZEROUPPER()
	Store(xx, ReturnIndex(0))
	RET()
}

// avx512Quant emits avx512Quant: docs/format.md §2's rounding for n floats (n a multiple of 16).
// 64 floats a step are packed with signed saturation (dword -> word ->
// byte; VCVTPS2DQ's 0x80000000 for NaN or overflow saturates to -128) and
// clamped to -127 as bytes, and Σq comes from VPSADBW of q XOR 0x80: 16
// vector operations per 64 floats instead of 24 for 16-float steps that
// clamp, sum and narrow every dword vector (at 2560 floats the quantizer
// took 2% of avx512lut-i8's GEMV at 640x2560, 3.8 cycles per 16 floats).
func avx512Quant() {
	perm := GLOBL("avx512QuantPerm", RODATA|NOPTR)
	// After the packs, dword 4l+j of the bytes holds floats 4l..4l+3 of
	// vector j; VPERMD puts it at dword 4j+l.
	for k := 0; k < 16; k++ {
		j, l := k/4, k%4
		DATA(4*k, U32(uint32(4*l+j)))
	}
	TEXT("avx512Quant", NOSPLIT, "func(x *float32, n int, s float32, q *int8) int32")
	Pragma("noescape")
	Doc(
		"avx512Quant writes q[i] = clamp(roundHalfEven(float32(x[i]*s)), -127, 127) for i < n",
		"(a multiple of 16; VCVTPS2DQ rounds to nearest even under Go's MXCSR) and",
		"returns Σ q[i].",
	)
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	sx := Load(Param("s"), XMM())
	q := Load(Param("q"), GP64())
	s, lo, hi, sum := ZMM(), ZMM(), ZMM(), ZMM()
	VBROADCASTSS(sx, s)
	r := GP32()
	MOVL(I32(-127), r)
	VPBROADCASTD(r, lo)
	MOVL(U32(127), r)
	VPBROADCASTD(r, hi)
	VPXORD(sum, sum, sum)
	// Σ(q+128) of the 64-float steps, in qwords; m64 counts their floats.
	lo8, x80, zero, sum64, pidx := ZMM(), ZMM(), ZMM(), ZMM(), ZMM()
	MOVL(U32(0x81), r)
	VPBROADCASTB(r, lo8)
	MOVL(U32(0x80), r)
	VPBROADCASTB(r, x80)
	VPXORD(zero, zero, zero)
	VPXORD(sum64, sum64, sum64)
	VMOVDQU64(perm, pidx)
	m64 := GP64()
	XORQ(m64, m64)
	Label("avx512Quant_four")
	CMPQ(n, U8(64))
	JL(LabelRef("avx512Quant_one"))
	v := make([]VecVirtual, 4)
	for i := range v {
		v[i] = ZMM()
		VMULPS(Mem{Base: x, Disp: 64 * i}, s, v[i])
		VCVTPS2DQ(v[i], v[i])
	}
	VPACKSSDW(v[1], v[0], v[0])
	VPACKSSDW(v[3], v[2], v[2])
	VPACKSSWB(v[2], v[0], v[0])
	VPERMD(v[0], pidx, v[0])
	VPMAXSB(lo8, v[0], v[0])
	VMOVDQU64(v[0], Mem{Base: q})
	VPXORD(x80, v[0], v[0])
	VPSADBW(zero, v[0], v[0])
	VPADDQ(v[0], sum64, sum64)
	ADDQ(U32(256), x)
	ADDQ(U8(64), q)
	ADDQ(U8(64), m64)
	SUBQ(U8(64), n)
	JMP(LabelRef("avx512Quant_four"))
	Label("avx512Quant_one")
	TESTQ(n, n)
	JZ(LabelRef("avx512Quant_done"))
	w := ZMM()
	VMULPS(Mem{Base: x}, s, w)
	VCVTPS2DQ(w, w)
	VPMAXSD(lo, w, w)
	VPMINSD(hi, w, w)
	VPMOVDB(w, Mem{Base: q})
	VPADDD(w, sum, sum)
	ADDQ(U8(64), x)
	ADDQ(U8(16), q)
	SUBQ(U8(16), n)
	JMP(LabelRef("avx512Quant_one"))
	Label("avx512Quant_done")
	// Σ of at most 2^22 values of at most 127 fits int32 (kernels.MaxDim).
	ret := GP32()
	VMOVD(hsumX(sum), ret)
	y := YMM()
	VEXTRACTI64X4(U8(1), sum64, y)
	VPADDQ(sum64.AsY(), y, y)
	xx := XMM()
	VEXTRACTI128(U8(1), y, xx)
	VPADDQ(y.AsX(), xx, xx)
	t := XMM()
	VPSHUFD(U8(0x4e), xx, t)
	VPADDQ(t, xx, xx)
	s64 := GP64()
	VMOVQ(xx, s64)
	SHLQ(U8(7), m64)
	SUBQ(m64, s64)
	ADDL(s64.As32(), ret)
	VZEROUPPER()
	Store(ret, ReturnIndex(0))
	RET()
}

// lutChunkOct emits the 2-bit-per-weight form of lutChunk: for 32 rows, the
// indices of 8 groups (24 columns, 48 bits a row) sit in three word vectors
//
//	A = g0 | g1<<6 | (g6&15)<<12
//	B = g2 | g3<<6 | (g7&15)<<12
//	C = g4 | (g6>>4)<<6 | (g7>>4)<<8 | g5<<10
//
// VPERMI2W reads only bits 0..5 of an index word, so g0, g2, g4 need no
// work, g1, g3, g5 one VPMULHUW (a shift on the multiply pipes), and g6, g7
// one VPSHRDW (VBMI2 funnel shift: A>>12 with the low bits of C>>6, B>>12
// with those of C>>8) after one more VPMULHUW each: 7 index operations per
// 8 lookups.
func lutChunkOct(name string, sets int) {
	TEXT(name, NOSPLIT, "func(w *byte, tbl *int16, nper int, nrb int, acc *int32)")
	Pragma("noescape")
	Doc(
		name+" adds to acc[32*S*rb + 32*s + i] (rb < nrb >= 1, s < S = "+fmt.Sprint(sets)+", i < 32)",
		"the lookups of one chunk of 4*nper (nper >= 1) octets of 8 groups:",
		"",
		"\tΣ_o Σ_{k<8} tbl[64*(8o+k) + g_k(o, rb, s, i)]",
		"",
		"where the octet's vectors A, B, C (see lutChunkOct in the generator) are the",
		"three 64-byte vectors at w + ((rb*4*nper + o)*S + s)*192, word pos(i) of each,",
		"pos(i) = 2i for i < 16 and 2(i-16)+1 otherwise (even words are rows 0..15).",
		"Lookups are summed in int16 for 4 octets (|sum| <= 32*762) and then widened.",
	)
	const octets = 4 // per period: 32 lookups per int16 sum
	// VPMULHUW by 2^(16-k) shifts an unsigned word right by k.
	lutChunkFrame(name, sets, 1024*octets, 192*sets*octets, func(bcastW func(uint32) VecVirtual) func(w, t Register, a16 []VecVirtual) {
		sh6, sh8, sh10 := bcastW(1<<10), bcastW(1<<8), bcastW(1<<6)
		return func(w, t Register, a16 []VecVirtual) {
			for o := 0; o < octets; o++ {
				A, B, C := make([]VecVirtual, sets), make([]VecVirtual, sets), make([]VecVirtual, sets)
				for s := 0; s < sets; s++ {
					A[s], B[s], C[s] = ZMM(), ZMM(), ZMM()
					base := 192 * (sets*o + s)
					VMOVDQU64(Mem{Base: w, Disp: base}, A[s])
					VMOVDQU64(Mem{Base: w, Disp: base + 64}, B[s])
					VMOVDQU64(Mem{Base: w, Disp: base + 128}, C[s])
					for v := 0; v < 3; v++ {
						PREFETCHT0(Mem{Base: w, Disp: base + 64*v + lutAhead})
					}
				}
				// look applies group g's table to the index made by idx for every set.
				look := func(g int, idx func(s int) VecVirtual) {
					t0, t1 := ZMM(), ZMM()
					VMOVDQU64(Mem{Base: t, Disp: 1024*o + 128*g}, t0)
					VMOVDQU64(Mem{Base: t, Disp: 1024*o + 128*g + 64}, t1)
					for s := 0; s < sets; s++ {
						v := idx(s)
						VPERMI2W(t1, t0, v)
						VPADDW(v, a16[s], a16[s])
					}
				}
				shifted := func(x []VecVirtual, c VecVirtual) func(int) VecVirtual {
					return func(s int) VecVirtual {
						v := ZMM()
						VPMULHUW(c, x[s], v)
						return v
					}
				}
				// funnel builds x>>12 | (C>>k)<<4 (k = 6 for g6, 8 for g7).
				funnel := func(x []VecVirtual, ck VecVirtual) func(int) VecVirtual {
					return func(s int) VecVirtual {
						hi, v := ZMM(), ZMM()
						VPMULHUW(ck, C[s], hi)
						// VPSHRDW: v = (hi:x) >> 12, the low word.
						VPSHRDW(U8(12), hi, x[s], v)
						return v
					}
				}
				direct := func(x []VecVirtual) func(int) VecVirtual {
					return func(s int) VecVirtual { return x[s] }
				}
				// Order: each source vector's direct lookup (which overwrites it) last.
				look(1, shifted(A, sh6))
				look(6, funnel(A, sh6))
				look(0, direct(A))
				look(3, shifted(B, sh6))
				look(7, funnel(B, sh8))
				look(2, direct(B))
				look(5, shifted(C, sh10))
				look(4, direct(C))
			}
		}
	})
}

// streams emits avx512Streams, the 4-stream split of avx512vnni-i8's q.
func streams() {
	// perm gathers byte 4k+j of a 64-byte piece into byte 16j+k.
	perm := GLOBL("avx512StreamPerm", RODATA|NOPTR)
	for j := 0; j < 4; j++ {
		for k := 0; k < 16; k++ {
			DATA(16*j+k, U8(4*k+j))
		}
	}
	TEXT("avx512Streams", NOSPLIT, "func(q *int8, n64 int, qp *int8)")
	Pragma("noescape")
	Doc(
		"avx512Streams writes qp[256b + 64j + k] = q[256b + 4k + j] for every",
		"256b + 4k + j < 64*n64 (n64 >= 0 whole 64-byte pieces of q).",
	)
	q := Load(Param("q"), GP64())
	n := Load(Param("n64"), GP64())
	qp := Load(Param("qp"), GP64())
	idx := ZMM()
	VMOVDQU64(perm, idx)
	// Piece i (64 bytes at q + 64i) goes to qp + 256(i/4) + 16(i%4) + 64j.
	off := GP64()
	XORQ(off, off)
	TESTQ(n, n)
	JZ(LabelRef("avx512Streams_done"))
	Label("avx512Streams_piece")
	v := ZMM()
	VPERMB(Mem{Base: q}, idx, v)
	t := GP64()
	MOVQ(off, t)
	ANDQ(U8(3), t)
	SHLQ(U8(4), t)
	d := GP64()
	MOVQ(off, d)
	SHRQ(U8(2), d)
	SHLQ(U8(8), d)
	ADDQ(t, d)
	ADDQ(qp, d)
	VMOVDQU(v.AsX(), Mem{Base: d})
	for j := 1; j < 4; j++ {
		VEXTRACTI32X4(U8(j), v, Mem{Base: d, Disp: 64 * j})
	}
	ADDQ(U8(64), q)
	INCQ(off)
	CMPQ(off, n)
	JNE(LabelRef("avx512Streams_piece"))
	Label("avx512Streams_done")
	VZEROUPPER()
	RET()
}
