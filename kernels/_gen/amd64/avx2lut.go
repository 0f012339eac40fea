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
	a2Slot   = 96 // table bytes per table pair: E, then Tu and Ts
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
	a2Fast()
	a2Lists(false)
	a2Lists(true)
	a2Chunk()
	a2Passes(1)
	a2Passes(2)
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
	// lim (bytes 224..255): int16 127, the largest sum a byte holds.
	for i := 0; i < 16; i++ {
		put(127)
		put(0)
	}
}

// a2Tables emits avx2LUTTables: for each table pair (8 columns), the exact
// sums E (when they fit a byte), the magnitudes Tu and the signs Ts of the
// 8 nonzero digit pairs of each of its 4 column pairs.
func a2Tables() {
	TEXT("avx2LUTTables", NOSPLIT, "func(q *int8, npairs int, tbl *byte)")
	Pragma("noescape")
	Doc(
		"avx2LUTTables writes, for t < npairs (>= 1), lane L < 2, half h < 2 and entry c < 8,",
		"",
		fmt.Sprintf("\ttbl[%dt + 16L + 8h + c]      = E mod 256 (T, signed: E when |E| <= 127)", a2Slot),
		fmt.Sprintf("\ttbl[%dt + 32 + 16L + 8h + c] = |E|       (Tu, unsigned)", a2Slot),
		fmt.Sprintf("\ttbl[%dt + 64 + 16L + 8h + c] = sign(E)   (Ts, -1, 0 or 1)", a2Slot),
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
	VMOVDQU(e, Mem{Base: t})
	VPSIGNB(sat, e, e)
	VPSIGNB(sat, ones, sat)
	VMOVDQU(e, Mem{Base: t, Disp: 32})
	VMOVDQU(sat, Mem{Base: t, Disp: 64})
	ADDQ(U8(8), q)
	ADDQ(U8(a2Slot), t)
	DECQ(n)
	JNZ(LabelRef("avx2LUTTables_pair"))
	VZEROUPPER()
	RET()
}

// a2Fast emits avx2LUTFast: which table pairs' sums all fit a byte.
func a2Fast() {
	TEXT("avx2LUTFast", NOSPLIT, "func(q *int8, npass int, mask *uint32)")
	Pragma("noescape")
	Doc(
		"avx2LUTFast writes, for each of npass (>= 1) passes of 32 columns of q, mask[pass]",
		"with bit i set when |q[32pass+2j]| + |q[32pass+2j+1]| > 127, j = i/2: table pair k",
		"of the pass has every |E| <= 127 when mask byte k is zero.",
	)
	q := Load(Param("q"), GP64())
	n := Load(Param("npass"), GP64())
	m := Load(Param("mask"), GP64())
	c := GP64()
	LEAQ(a2Const, c)
	ones, lim := YMM(), YMM()
	VMOVDQU(Mem{Base: c, Disp: 128}, ones)
	VMOVDQU(Mem{Base: c, Disp: 224}, lim)
	Label("avx2LUTFast_pass")
	x, r := YMM(), GP32()
	VPABSB(Mem{Base: q}, x)
	VPMADDUBSW(ones, x, x)
	VPCMPGTW(lim, x, x)
	VPMOVMSKB(x, r)
	MOVL(r, Mem{Base: m})
	ADDQ(U8(32), q)
	ADDQ(U8(4), m)
	DECQ(n)
	JNZ(LabelRef("avx2LUTFast_pass"))
	VZEROUPPER()
	RET()
}

// a2Lists emits avx2LUTLists: one chunk's list for avx2LUTChunk, the short
// pairs from the front, the others from the back, without branching on the
// masks (which pairs are short follows x).
func a2Lists(one bool) {
	name, sig := "avx2LUTLists", "func(mask *uint32, npass int, planes int, list *uint64, n int) int"
	if one {
		name, sig = "avx2LUTLists1", "func(mask *uint32, npass int, list *uint64, n int) int"
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	if one {
		Doc(name + " is avx2LUTLists with planes = 1, for the ternary codebooks (no plane loop).")
	} else {
		Doc(
			name+" writes list[0:n], n = npass*planes*4 (npass, planes >= 1), for pass u <",
			"npass, table pair k < 4 and plane pl < planes, the entry",
			"",
			fmt.Sprintf("\t(woff, toff) = ((u*planes + pl)*%d + %dk, (4u + k)*%d)", 32*a2Halves*a2Pairs, 32*a2Halves, a2Slot),
			"",
			"(woff in the low 32 bits): from the front when byte k of mask[u] is 0 (the pair's",
			"sums fit a byte), else from the back; it returns the number of the former.",
		)
	}
	m := Load(Param("mask"), GP64())
	np := Load(Param("npass"), GP64())
	var planes Register
	if !one {
		planes = Load(Param("planes"), GP64())
	}
	f := Load(Param("list"), GP64())
	n := Load(Param("n"), GP64())
	list := GP64()
	MOVQ(f, list)
	b := GP64()
	LEAQ(Mem{Base: f, Index: n, Scale: 8}, b)
	e, kstep, pstep := GP64(), GP64(), GP64()
	XORQ(e, e)
	MOVQ(U64(uint64(32*a2Halves)|uint64(a2Slot)<<32), kstep)
	MOVQ(U32(32*a2Halves*a2Pairs), pstep)
	Label(name + "_pass")
	mk := GP32()
	MOVL(Mem{Base: m}, mk)
	ek := GP64()
	MOVQ(e, ek)
	for k := 0; k < a2Pairs; k++ {
		short := GP64()
		XORQ(short, short)
		TESTL(U32(0xff<<(8*k)), mk)
		SETEQ(short.As8())
		// short = 8 when the byte is 0, else 0; the back moves by 8 - short.
		SHLQ(U8(3), short)
		long := GP64()
		MOVQ(U32(8), long)
		SUBQ(short, long)
		// Both free ends get the entry (the front's next slot and the
		// back's are free, or the same slot when it is the last).
		put := func(ep Register) {
			MOVQ(ep, Mem{Base: f})
			MOVQ(ep, Mem{Base: b, Disp: -8})
			ADDQ(short, f)
			SUBQ(long, b)
		}
		if one {
			put(ek)
		} else {
			ep, c := GP64(), GP64()
			MOVQ(ek, ep)
			MOVQ(planes, c)
			Label(fmt.Sprintf("%s_k%d", name, k))
			put(ep)
			ADDQ(pstep, ep)
			DECQ(c)
			JNZ(LabelRef(fmt.Sprintf("%s_k%d", name, k)))
		}
		ADDQ(kstep, ek)
	}
	// The next pass: woff past this one's planes, toff past its 4 pairs.
	if one {
		ADDQ(pstep, e)
	} else {
		pw := GP64()
		MOVQ(planes, pw)
		IMULQ(pstep, pw)
		ADDQ(pw, e)
	}
	t := GP64()
	MOVQ(U64(uint64(a2Pairs*a2Slot)<<32), t)
	ADDQ(t, e)
	ADDQ(U8(4), m)
	DECQ(np)
	JNZ(LabelRef(name + "_pass"))
	SUBQ(list, f)
	SHRQ(U8(3), f)
	Store(f, ReturnIndex(0))
	RET()
}

// a2Chunk emits avx2LUTChunk: the lookups of one column chunk for nblk
// blocks, table pair by table pair from a list: first those whose sums
// all fit a byte (one lookup a vector), then the others (two).
func a2Chunk() {
	name := "avx2LUTChunk"
	rows := 8 * a2Halves
	TEXT(name, NOSPLIT, "func(w *byte, tbl *byte, list *uint64, nfast int, nslow int, stride int, nblk int, acc *int32)")
	Pragma("noescape")
	Doc(
		name+fmt.Sprintf(" adds to acc, for each of nblk >= 1 blocks of %d rows (stride bytes of w", rows),
		"apart), the lookups of nfast + nslow >= 1 table pairs: entry i of list is the pair",
		"(woff, toff) = (uint32(list[i]), list[i]>>32); for half b < 4 the 32-byte index vector at",
		"",
		"\tw + woff + 32b (+ stride*blk)",
		"",
		"holds, in word i of lane L, the index bytes of row 8b + perm(i) (perm = 0, 4,",
		"1, 5, 2, 6, 3, 7) for column pairs 2L and 2L+1 of the table pair at tbl + toff",
		fmt.Sprintf("(0x80: both digits zero; see avx2LUTTables for the %d bytes at toff). The", a2Slot),
		"first nfast pairs look up E itself (|E| <= 127 in every entry read) and",
		"VPMADDUBSW adds the two pairs of a word; the others, last to first, look up |E|",
		"and its sign and VPMADDUBSW multiplies and adds them. The int16 sums (at most",
		fmt.Sprintf("%d pairs: |sum| <= %d*508 = %d) are widened at the end into", a2Period*a2Pairs, a2Period*a2Pairs, a2Period*a2Pairs*508),
		fmt.Sprintf("acc[%dblk + 16b + 0..7] (rows 8b+0..3: lane 0 then lane 1) and acc[%dblk + 16b + 8..15]", 2*rows, 2*rows),
		"(rows 8b+4..7).",
	)
	w := Load(Param("w"), GP64())
	tp := Load(Param("tbl"), GP64())
	list := Load(Param("list"), GP64())
	nfast := Load(Param("nfast"), GP64())
	nslow := Load(Param("nslow"), GP64())
	stride := Load(Param("stride"), GP64())
	nblk := Load(Param("nblk"), GP64())
	acc := Load(Param("acc"), GP64())
	c := GP64()
	LEAQ(a2Const, c)
	ones := YMM()
	VMOVDQU(Mem{Base: c, Disp: 128}, ones)

	Label(name + "_blk")
	a16 := make([]VecVirtual, a2Halves)
	for b := range a16 {
		a16[b] = YMM()
	}
	for _, a := range a16 {
		VPXOR(a, a, a)
	}
	l, n := GP64(), GP64()
	MOVQ(list, l)
	// fast: VPMADDUBSW(1, E), one lookup a vector (the index vector its
	// memory operand); slow: VPMADDUBSW(|E|, sign(E)), two lookups of the
	// index vector loaded once (as both lookups' memory operand the slow
	// pairs took 3-8% longer).
	pair := func(fast bool, e int) {
		wo, to := GP64(), GP64()
		MOVL(Mem{Base: l, Disp: 8 * e}, wo.As32())
		MOVL(Mem{Base: l, Disp: 8*e + 4}, to.As32())
		var tt, tu, ts VecVirtual
		if fast {
			tt = YMM()
			VMOVDQU(Mem{Base: tp, Index: to, Scale: 1}, tt)
		} else {
			tu, ts = YMM(), YMM()
			VMOVDQU(Mem{Base: tp, Index: to, Scale: 1, Disp: 32}, tu)
			VMOVDQU(Mem{Base: tp, Index: to, Scale: 1, Disp: 64}, ts)
		}
		for b := 0; b < a2Halves; b++ {
			x := Mem{Base: w, Index: wo, Scale: 1, Disp: 32 * b}
			u := YMM()
			if fast {
				VPSHUFB(x, tt, u)
				VPMADDUBSW(u, ones, u)
			} else {
				v, s := YMM(), YMM()
				VMOVDQU(x, v)
				VPSHUFB(v, tu, u)
				VPSHUFB(v, ts, s)
				VPMADDUBSW(s, u, u)
			}
			VPADDW(u, a16[b], a16[b])
		}
	}
	// Two list entries an iteration, then the odd one.
	// Two list entries an iteration, then the odd one. The slow pairs were
	// listed from the back: they run backwards through the list, which is
	// forwards through W (read backwards, the worst case, every pair slow,
	// took half as long again from L3).
	loop := func(fast bool, count Register, tag string) {
		MOVQ(count, n)
		if !fast {
			LEAQ(Mem{Base: l, Index: n, Scale: 8}, l)
		}
		Label(name + "_" + tag + "2")
		CMPQ(n, U8(2))
		JL(LabelRef(name + "_" + tag + "1"))
		if fast {
			pair(fast, 0)
			pair(fast, 1)
			ADDQ(U8(16), l)
		} else {
			pair(fast, -1)
			pair(fast, -2)
			SUBQ(U8(16), l)
		}
		SUBQ(U8(2), n)
		JMP(LabelRef(name + "_" + tag + "2"))
		Label(name + "_" + tag + "1")
		TESTQ(n, n)
		JZ(LabelRef(name + "_" + tag + "done"))
		if fast {
			pair(fast, 0)
			ADDQ(U8(8), l)
		} else {
			pair(fast, -1)
		}
		Label(name + "_" + tag + "done")
	}
	loop(true, nfast, "fast")
	loop(false, nslow, "slow")
	Label(name + "_widen")
	a2Widen(a16, c, acc)
	ADDQ(stride, w)
	ADDQ(U32(8*rows), acc)
	DECQ(nblk)
	JNZ(LabelRef(name + "_blk"))
	VZEROUPPER()
	RET()
}

// a2Passes emits avx2LUTPasses<planes>: the lookups of one column chunk for
// nblk blocks, pass by pass, every table pair looking up |E| and sign(E):
// for chunks whose pairs are mostly not short (avx2LUTChunk's list costs
// the long pairs 9% more than this loop).
func a2Passes(planes int) {
	name := fmt.Sprintf("avx2LUTPasses%d", planes)
	rows, vecs := 8*a2Halves, a2Halves*a2Pairs
	TEXT(name, NOSPLIT, "func(w *byte, tbl *byte, npass int, nblk int, acc *int32)")
	Pragma("noescape")
	Doc(
		name+fmt.Sprintf(" adds to acc, for each of nblk >= 1 blocks of %d rows, the lookups of npass", rows),
		fmt.Sprintf("(1 <= npass <= %d) passes of 32 columns with %d digit plane(s): block, pass,", a2Period/planes, planes),
		"plane, table pair k and half b index the 32-byte vector",
		"",
		fmt.Sprintf("\tw[(((blk*npass + pass)*%d + plane)*%d + %dk + b)*32 : ...+32]", planes, vecs, a2Halves),
		"",
		"whose word i of lane L holds the index bytes of row 8b + perm(i) (perm =",
		"0, 4, 1, 5, 2, 6, 3, 7) for column pairs 2L and 2L+1 of the table pair at",
		fmt.Sprintf("tbl + %d(pass*4 + k) (0x80: both digits zero). VPMADDUBSW multiplies each", a2Slot),
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
		VMOVDQU(Mem{Base: t, Disp: a2Slot*k + 32}, tu[k])
		VMOVDQU(Mem{Base: t, Disp: a2Slot*k + 64}, ts[k])
	}
	for pl := 0; pl < planes; pl++ {
		for b := 0; b < a2Halves; b++ {
			for k := 0; k < a2Pairs; k++ {
				// The index vector as both shuffles' memory operand: two
				// loads (from L1 the second), no register.
				x := Mem{Base: w, Disp: 32 * (vecs*pl + a2Halves*k + b)}
				u, s := YMM(), YMM()
				VPSHUFB(x, tu[k], u)
				VPSHUFB(x, ts[k], s)
				VPMADDUBSW(s, u, u)
				VPADDW(u, a16[b], a16[b])
			}
		}
	}
	ADDQ(U32(32*vecs*planes), w)
	ADDQ(U32(a2Slot*a2Pairs), t)
	DECQ(per)
	JNZ(LabelRef(name + "_pass"))
	a2Widen(a16, c, acc)
	ADDQ(U32(8*rows), acc)
	DECQ(nblk)
	JNZ(LabelRef(name + "_blk"))
	VZEROUPPER()
	RET()
}

// a2Widen adds a block's int16 sums a16 (one vector per 8-row half) to its
// int32 sums at acc: even words (with the constants at c) to the first
// 8 int32 of a half, odd words to the next 8.
func a2Widen(a16 []VecVirtual, c, acc Register) {
	for b, a := range a16 {
		e, o := YMM(), YMM()
		VPMADDWD(Mem{Base: c, Disp: 160}, a, e)
		VPMADDWD(Mem{Base: c, Disp: 192}, a, o)
		VPADDD(Mem{Base: acc, Disp: 64 * b}, e, e)
		VPADDD(Mem{Base: acc, Disp: 64*b + 32}, o, o)
		VMOVDQU(e, Mem{Base: acc, Disp: 64 * b})
		VMOVDQU(o, Mem{Base: acc, Disp: 64*b + 32})
	}
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
