package main

import (
	"fmt"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// avx2lut-i8's geometry; the avx2lut part exports it (avx2lut_consts.go).
const (
	a2Pairs  = 4  // table pairs (Tu, Ts) per pass, 8 columns each: 32 columns
	a2Halves = 4  // 8-row index vectors per block (8*a2Halves rows)
	a2Period = 16 // plane passes between int16 -> int32 widenings
)

// a2Digits lists the eight nonzero digit pairs (d0, d1) of a position in
// the order of their table entries: index byte 8h + c selects pair c of
// the position's group h (0 for the low byte of a word, 1 for the high).
var a2Digits = [8][2]int8{{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {1, 1}, {-1, -1}, {1, -1}, {-1, 1}}

var a2Const Mem

// a2DigitsLiteral is a2Digits as Go source.
func a2DigitsLiteral() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%d][2]int8{", len(a2Digits))
	for i, d := range a2Digits {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "{%d, %d}", d[0], d[1])
	}
	return b.String() + "}"
}

// avx2lutPart: avx2lut-i8's table builder, lookups and scale.
func avx2lutPart() {
	a2ConstData()
	a2Tables()
	a2Chunk(1)
	a2Chunk(2)
	a2Scale()
}

// a2ConstData emits avx2LUTConst: the table builder's byte selectors and
// digit patterns, the ones it signs with and the widening masks.
func a2ConstData() {
	a2Const = GLOBL("avx2LUTConst", RODATA|NOPTR)
	off := 0
	put := func(b byte) { DATA(off, U8(b)); off++ }
	// selA, selB (bytes 0..63): lane L, half h, entry c picks q[4L+2h] (A)
	// and q[4L+2h+1] (B) of the 8 broadcast activations.
	for _, second := range []int{0, 1} {
		for i := 0; i < 32; i++ {
			L, h := i/16, i%16/8
			put(byte(4*L + 2*h + second))
		}
	}
	// dA, dB (bytes 64..127): the digits d0, d1 of entry c.
	for j := 0; j < 2; j++ {
		for i := 0; i < 32; i++ {
			put(byte(a2Digits[i%8][j]))
		}
	}
	// ones (bytes 128..159)
	for i := 0; i < 32; i++ {
		put(1)
	}
	// even, odd (bytes 160..223): int16 pairs (1, 0) and (0, 1).
	for _, hi := range []bool{false, true} {
		for i := 0; i < 16; i++ {
			if (i%2 == 1) == hi {
				put(1)
			} else {
				put(0)
			}
			put(0)
		}
	}
}

// a2Tables emits avx2LUTTables: for each table pair (8 columns), the
// magnitudes Tu and signs Ts of the 8 nonzero digit pairs of each of its
// 4 column pairs.
func a2Tables() {
	TEXT("avx2LUTTables", NOSPLIT, "func(q *int8, npairs int, tbl *byte)")
	Pragma("noescape")
	Doc(
		"avx2LUTTables writes, for t < npairs (>= 1), lane L < 2, half h < 2 and entry c < 8,",
		"",
		"\ttbl[64t + 16L + 8h + c]      = |E|       (Tu, unsigned)",
		"\ttbl[64t + 32 + 16L + 8h + c] = sign(E)   (Ts, -1, 0 or 1)",
		"",
		"with E = d0(c)*q[8t+4L+2h] + d1(c)*q[8t+4L+2h+1] (|E| <= 254) and (d0, d1) the",
		"entry's digit pair (see a2Digits in the generator). VPADDSB saturates but keeps",
		"the sign of the exact sum, and VPSIGNB negates the wrapped byte sum exactly.",
	)
	q := Load(Param("q"), GP64())
	n := Load(Param("npairs"), GP64())
	t := Load(Param("tbl"), GP64())
	c := GP64()
	LEAQ(a2Const, c)
	selA, selB, dA, dB, ones := YMM(), YMM(), YMM(), YMM(), YMM()
	for i, v := range []VecVirtual{selA, selB, dA, dB, ones} {
		VMOVDQU(Mem{Base: c, Disp: 32 * i}, v)
	}
	Label("avx2LUTTables_pair")
	qb, a, b := YMM(), YMM(), YMM()
	VPBROADCASTQ(Mem{Base: q}, qb)
	VPSHUFB(selA, qb, a)
	VPSHUFB(selB, qb, b)
	VPSIGNB(dA, a, a)
	VPSIGNB(dB, b, b)
	e, sat := YMM(), YMM()
	VPADDB(b, a, e)
	VPADDSB(b, a, sat)
	VPSIGNB(sat, e, e)
	VPSIGNB(sat, ones, sat)
	VMOVDQU(e, Mem{Base: t})
	VMOVDQU(sat, Mem{Base: t, Disp: 32})
	ADDQ(U8(8), q)
	ADDQ(U8(64), t)
	DECQ(n)
	JNZ(LabelRef("avx2LUTTables_pair"))
	VZEROUPPER()
	RET()
}

// lutChunk emits avx2LUTChunk<planes>: the lookups of one column chunk for
// nblk 16-row blocks.
func a2Chunk(planes int) {
	name := fmt.Sprintf("avx2LUTChunk%d", planes)
	rows, vecs := 8*a2Halves, a2Halves*a2Pairs
	TEXT(name, NOSPLIT, "func(w *byte, tbl *byte, npass int, nblk int, acc *int32)")
	Pragma("noescape")
	Doc(
		name+fmt.Sprintf(" adds to acc, for each of nblk >= 1 blocks of %d rows, the lookups of npass", rows),
		fmt.Sprintf("(1 <= npass <= %d) passes of 32 columns with %d digit plane(s): block, pass,", a2Period/planes, planes),
		"plane, half b and table pair k index the 32-byte vector",
		"",
		fmt.Sprintf("\tw[(((blk*npass + pass)*%d + plane)*%d + 4b + k)*32 : ...+32]", planes, vecs),
		"",
		"whose word i of lane L holds the index bytes of row 8b + perm(i) (perm =",
		"0, 4, 1, 5, 2, 6, 3, 7) for column pairs 2L and 2L+1 of the table pair at",
		"tbl + 64(pass*4 + k) (0x80: both digits zero). VPMADDUBSW multiplies each",
		"looked-up |E| by its sign and adds the two pairs of a word; the int16 sums",
		fmt.Sprintf("(|sum| <= %d*%d*508 = %d) are widened at the end into acc[%dblk + 16b + 0..7]", a2Period, a2Pairs, a2Period*a2Pairs*508, 2*rows),
		fmt.Sprintf("(rows 8b+0..3: lane 0 then lane 1) and acc[%dblk + 16b + 8..15] (rows 8b+4..7).", 2*rows),
	)
	w := Load(Param("w"), GP64())
	tp := Load(Param("tbl"), GP64())
	npass := Load(Param("npass"), GP64())
	nblk := Load(Param("nblk"), GP64())
	acc := Load(Param("acc"), GP64())
	c := GP64()
	LEAQ(a2Const, c)

	Label(name + "_blk")
	a16 := make([]VecVirtual, a2Halves)
	for b := range a16 {
		a16[b] = YMM()
	}
	for _, a := range a16 {
		VPXOR(a, a, a)
	}
	t := GP64()
	MOVQ(tp, t)
	per := GP64()
	MOVQ(npass, per)
	Label(name + "_pass")
	tu, ts := make([]VecVirtual, a2Pairs), make([]VecVirtual, a2Pairs)
	for k := range tu {
		tu[k], ts[k] = YMM(), YMM()
		VMOVDQU(Mem{Base: t, Disp: 64 * k}, tu[k])
		VMOVDQU(Mem{Base: t, Disp: 64*k + 32}, ts[k])
	}
	for pl := 0; pl < planes; pl++ {
		for b := 0; b < a2Halves; b++ {
			for k := 0; k < a2Pairs; k++ {
				// The index vector as both shuffles' memory operand: two
				// loads (from L1 the second), no register.
				x := Mem{Base: w, Disp: 32 * (vecs*pl + 4*b + k)}
				u, s := YMM(), YMM()
				VPSHUFB(x, tu[k], u)
				VPSHUFB(x, ts[k], s)
				VPMADDUBSW(s, u, u)
				VPADDW(u, a16[b], a16[b])
			}
		}
	}
	ADDQ(U32(32*vecs*planes), w)
	ADDQ(U32(64*a2Pairs), t)
	DECQ(per)
	JNZ(LabelRef(name + "_pass"))
	for b, a := range a16 {
		e, o := YMM(), YMM()
		VPMADDWD(Mem{Base: c, Disp: 160}, a, e)
		VPMADDWD(Mem{Base: c, Disp: 192}, a, o)
		VPADDD(Mem{Base: acc, Disp: 64 * b}, e, e)
		VPADDD(Mem{Base: acc, Disp: 64*b + 32}, o, o)
		VMOVDQU(e, Mem{Base: acc, Disp: 64 * b})
		VMOVDQU(o, Mem{Base: acc, Disp: 64*b + 32})
	}
	ADDQ(U32(8*rows), acc)
	DECQ(nblk)
	JNZ(LabelRef(name + "_blk"))
	VZEROUPPER()
	RET()
}

// a2Scale emits avx2LUTScale: the row sums of whole 8-row halves, with
// the codebook's offset term, scaled to float32.
func a2Scale() {
	TEXT("avx2LUTScale", NOSPLIT, "func(acc *int32, n8 int, bias int32, inv float32, y *float32)")
	Pragma("noescape")
	Doc(
		"avx2LUTScale writes, for h < n8 (>= 0) and i < 8, with a = acc[16h:],",
		"",
		"\ty[8h+i] = float32(a[8(i/4) + i%4] + a[8(i/4) + 4 + i%4] + bias) * inv",
		"",
		"(VCVTDQ2PS rounds to nearest even under Go's MXCSR, as Go's conversion does).",
	)
	acc := Load(Param("acc"), GP64())
	n := Load(Param("n8"), GP64())
	bx := Load(Param("bias"), GP32())
	ix := Load(Param("inv"), XMM())
	y := Load(Param("y"), GP64())
	bias, inv := YMM(), YMM()
	xb := XMM()
	MOVD(bx, xb)
	VPBROADCASTD(xb, bias)
	VBROADCASTSS(ix, inv)
	TESTQ(n, n)
	JZ(LabelRef("avx2LUTScale_done"))
	Label("avx2LUTScale_loop")
	e, o, lo, hi := YMM(), YMM(), YMM(), YMM()
	VMOVDQU(Mem{Base: acc}, e)
	VMOVDQU(Mem{Base: acc, Disp: 32}, o)
	VPERM2I128(U8(0x20), o, e, lo)
	VPERM2I128(U8(0x31), o, e, hi)
	VPADDD(hi, lo, lo)
	VPADDD(bias, lo, lo)
	VCVTDQ2PS(lo, lo)
	VMULPS(inv, lo, lo)
	VMOVUPS(lo, Mem{Base: y})
	ADDQ(U8(64), acc)
	ADDQ(U8(32), y)
	DECQ(n)
	JNZ(LabelRef("avx2LUTScale_loop"))
	Label("avx2LUTScale_done")
	VZEROUPPER()
	RET()
}
