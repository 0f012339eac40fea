//go:build goexperiment.simd && amd64 && !purego

package amd64

import (
	"errors"
	"math"
	"runtime"
	"simd/archsimd"
	"unsafe"

	"github.com/qkbench/qkbench/kernels"
)

// Available asks for what avx512lut-i8 asks for (AVX-512 F/BW/VL and
// VBMI2) and for archsimd's own view of the CPU: its AVX512 check bundles
// F, CD, BW, DQ and VL, and VBMI2 covers ShiftAllRightConcat (VPSHRDW).
func (k *simdKernel) Available() error {
	if err := need(AVX512F, AVX512BW, AVX512VL, AVX512VBMI2); err != nil {
		return err
	}
	if !archsimd.X86.AVX512() || !archsimd.X86.AVX512VBMI2() {
		return errors.New("simd/archsimd reports no AVX512 (F+CD+BW+DQ+VL) or no AVX512VBMI2 on this CPU")
	}
	return nil
}

// Prepare is avx512lut-i8's Prepare (the same repacked W, single-sourced in
// avx512lut.go) run by a lutKernel that carries this kernel's Info, so
// that its checks and errors name archsimd-i8.
func (k *simdKernel) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if err := kernels.CheckPrepare(k, m); err != nil {
		return nil, err
	}
	lp, err := (&lutKernel{k.Base}).Prepare(m)
	if err != nil {
		return nil, err
	}
	p := &simdPrepared{lutPrepared: lp.(*lutPrepared), k: k}
	// The repacked words as uint16 (make's byte slices are 8-byte aligned).
	p.w16 = unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(p.w))), len(p.w)/2)
	return p, nil
}

// simdPrepared is avx512lut-i8's prepared matrix driven by archsimd code.
type simdPrepared struct {
	*lutPrepared // layout: off, chunks, cbv, cbv3, tern; Matrix and RowBlock
	k            *simdKernel
	w16          []uint16 // lutPrepared.w as words
}

func (p *simdPrepared) Kernel() kernels.Kernel { return p.k }

func (p *simdPrepared) NewInput() kernels.Input {
	in := &simdInput{p: p, run: lutRun{acc: make([]int32, p.rowsP)}}
	if p.tern {
		// qu past cols is 0x80 (q = 0); the table builder reads past colsP.
		in.qu = make([]uint8, p.colsP+simdTableSlack)
		for i := range in.qu {
			in.qu[i] = 0x80
		}
	} else {
		in.q = make([]int8, p.colsP+simdTableSlack) // zero past cols
	}
	return in
}

type simdInput struct {
	p   *simdPrepared
	q   []int8  // 6-bit path: quantized x, zero past cols
	qu  []uint8 // base-3 path: q XOR 0x80 (q+128), 0x80 past cols
	run lutRun  // row sums of whole row blocks, scale, chunk order
}

func (in *simdInput) Load(x []float32) error {
	m := in.p.m
	if err := kernels.CheckX(in.p.k.I.ID, m, x); err != nil {
		return err
	}
	s := float32(127) / max(simdAmax(x), float32(1e-5))
	if in.p.tern {
		simdQuantFlip(x, s, in.qu[:len(x)])
	} else {
		simdQuant(x, s, in.q[:len(x)])
	}
	in.run.load(kernels.I8Inv(m.Scale, s))
	return nil
}

// GEMV is lutInput.GEMV with the archsimd functions (lutGeom.gemv
// drives both).
func (in *simdInput) GEMV(y []float32, r0, r1 int) error {
	return in.run.gemv(&in.p.lutGeom, in, in.p.k.I.ID, in.p.m, y, r0, r1)
}

// touch: archsimd has no prefetch, so plain loads (see simdTouch).
func (in *simdInput) touch() {
	if in.p.tern {
		simdTouch(in.qu)
	} else {
		simdTouch(in.q)
	}
}

func (in *simdInput) tables(u0, u1 int, tbl []int16) {
	if p := in.p; p.tern {
		simdTables3(in.qu[lut3Word*u0:], 3*(u1-u0), &p.cbv3, tbl)
	} else {
		simdTables(in.q[lutGroup*lutOctet*u0:], lutOctet*(u1-u0), &p.cbv, tbl)
	}
}

func (in *simdInput) scale(acc []int32, first int, inv float32, y []float32) {
	simdScale(acc[first:first+len(y)], inv, y)
}

// simdTouch loads one byte of every 64-byte line of b, the nearest
// archsimd comes to lutPrefetch: the loads are independent, so the core
// has all the lines on their way at once.
func simdTouch[E int8 | uint8](b []E) {
	var s E
	for i := 0; i < len(b); i += 64 {
		s += b[i]
	}
	runtime.KeepAlive(s)
}

func (in *simdInput) lookups(rb, u0, u1 int, tbl []int16, acc []int32) {
	p := in.p
	nrb := len(acc) / lutRowBlock
	off := p.off(rb, u0, u1) / 2
	if p.tern {
		n := nrb * (u1 - u0) * lutSets * 32
		simdChunk3(p.w16[off:off+n], tbl, u1-u0, p.per3, acc)
	} else {
		n := nrb * (u1 - u0) * lutSets * 96
		simdChunk6(p.w16[off:off+n], tbl, (u1-u0)/lutPeriod, acc)
	}
}

// simdAmax returns max |x[i]| (0 for an empty x), reading no element past
// the end of x.
func simdAmax(x []float32) float32 {
	abs := archsimd.BroadcastInt32x16(math.MaxInt32)
	var m0, m1 archsimd.Float32x16
	i := 0
	for ; i+32 <= len(x); i += 32 {
		a := archsimd.LoadFloat32x16((*[16]float32)(x[i : i+16]))
		b := archsimd.LoadFloat32x16((*[16]float32)(x[i+16 : i+32]))
		m0 = m0.Max(a.AsInt32x16().And(abs).AsFloat32x16())
		m1 = m1.Max(b.AsInt32x16().And(abs).AsFloat32x16())
	}
	for ; i < len(x); i += 16 {
		a := simdTail(x[i:]) // zeros past the end
		m0 = m0.Max(a.AsInt32x16().And(abs).AsFloat32x16())
	}
	m := m0.Max(m1)
	h := m.GetLo().Max(m.GetHi())
	var v [8]float32
	h.Store(&v)
	return max(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7])
}

// simdTail loads the at most 16 values of x, zeros after them. The tails
// of x, q and y go through a copy: archsimd's Load*SlicePart and
// StoreSlicePart convert the short slice to a pointer to a whole vector,
// which checkptr (on under -race) rejects when the vector would straddle
// the end of the allocation (golang/go#78413, #80856; Go 1.26.8 still has it).
func simdTail(x []float32) archsimd.Float32x16 {
	var t [16]float32
	copy(t[:], x)
	return archsimd.LoadFloat32x16(&t)
}

// simdQ16 is docs/format.md §2's rounding of 16 values: clamp(roundHalfEven(float32(x*s)),
// -127, 127) as int32 (VMULPS, VRNDSCALEPS to nearest even, clamp, VCVTTPS2DQ
// of an integral value).
// lo and hi are -127 and 127 in every lane, passed in because Go does not
// hoist loop-invariant broadcasts out of the caller's loop.
func simdQ16(x, s, lo, hi archsimd.Float32x16) archsimd.Int32x16 {
	return x.Mul(s).RoundToEvenScaled(0).Max(lo).Min(hi).ConvertToInt32()
}

// simdQuant writes q[i] = kernels.QuantizeValue(x[i], s) for i < len(x)
// (len(q) == len(x)).
func simdQuant(x []float32, s float32, q []int8) {
	q = q[:len(x)]
	sv := archsimd.BroadcastFloat32x16(s)
	lo, hi := archsimd.BroadcastFloat32x16(-127), archsimd.BroadcastFloat32x16(127)
	i := 0
	for ; i+16 <= len(x); i += 16 {
		v := simdQ16(archsimd.LoadFloat32x16((*[16]float32)(x[i:i+16])), sv, lo, hi)
		v.TruncateToInt8().Store((*[16]int8)(q[i : i+16]))
	}
	if i < len(x) {
		var t [16]int8
		simdQ16(simdTail(x[i:]), sv, lo, hi).TruncateToInt8().Store(&t)
		copy(q[i:], t[:])
	}
}

// simdQuantFlip writes qu[i] = uint8(kernels.QuantizeValue(x[i], s)) ^ 0x80
// (q+128, the unsigned side of simdTables3's VPMADDUBSW) for i < len(x).
func simdQuantFlip(x []float32, s float32, qu []uint8) {
	qu = qu[:len(x)]
	sv := archsimd.BroadcastFloat32x16(s)
	lo, hi := archsimd.BroadcastFloat32x16(-127), archsimd.BroadcastFloat32x16(127)
	flip := archsimd.BroadcastInt8x16(-128)
	i := 0
	for ; i+16 <= len(x); i += 16 {
		v := simdQ16(archsimd.LoadFloat32x16((*[16]float32)(x[i:i+16])), sv, lo, hi)
		v.TruncateToInt8().Xor(flip).AsUint8x16().Store((*[16]uint8)(qu[i : i+16]))
	}
	if i < len(x) {
		var t [16]uint8
		simdQ16(simdTail(x[i:]), sv, lo, hi).TruncateToInt8().Xor(flip).AsUint8x16().Store(&t)
		copy(qu[i:], t[:])
	}
}

// simdTableSlack is how many bytes past its last group (up to 15) the table
// builders read (16-byte loads whose first byte or two are broadcast; the
// rest are multiplied by zero or ignored): simdInput pads q and qu by this much.
const simdTableSlack = 16

// simdTables writes, for g < n and e < 64,
//
//	tbl[64g+e] = cb[e&3]*q[3g] + cb[(e>>2)&3]*q[3g+1] + cb[e>>4]*q[3g+2]
//
// from cbv as lutTables takes it (32-entry vectors cb[e&3], cb[(e>>2)&3],
// cb[e>>4] for e < 32 and for e >= 32). q must hold 3n + 15 bytes at least:
// each q[i] is broadcast from a 16-byte load at q[i:] (VPBROADCASTB, then
// VPSRAW by 8 sign-extends it into every word), as lutTables broadcasts it
// from memory; archsimd has no broadcast from memory, and a broadcast of a
// Go int8 goes through a general-purpose register (VMOVQ), twice as slow.
func simdTables(q []int8, n int, cbv *[128]int16, tbl []int16) {
	c0 := archsimd.LoadInt16x32((*[32]int16)(cbv[0:32]))
	c1 := archsimd.LoadInt16x32((*[32]int16)(cbv[32:64]))
	c2lo := archsimd.LoadInt16x32((*[32]int16)(cbv[64:96]))
	c2hi := archsimd.LoadInt16x32((*[32]int16)(cbv[96:128]))
	t := simdRows[[2][32]int16](tbl[:64*n])
	q = q[: 3*n+15 : 3*n+15]
	bc := func(q []int8) archsimd.Int16x32 {
		return archsimd.LoadInt8x16((*[16]int8)(q[:16])).Broadcast1To64().AsInt16x32().ShiftAllRight(8)
	}
	one := func(q []int8, t *[2][32]int16) {
		base := bc(q).Mul(c0).Add(bc(q[1:]).Mul(c1))
		b2 := bc(q[2:])
		b2.Mul(c2lo).Add(base).Store(&t[0])
		b2.Mul(c2hi).Add(base).Store(&t[1])
	}
	// Four groups per step (see simdTables3).
	for len(t) >= 4 && len(q) >= 9+18 {
		q4, t4 := (*[9 + 18]int8)(q[:9+18]), (*[4][2][32]int16)(t[:4])
		one(q4[0:], &t4[0])
		one(q4[3:], &t4[1])
		one(q4[6:], &t4[2])
		one(q4[9:], &t4[3])
		q, t = q[12:], t[4:]
	}
	for i := range t {
		one(q, &t[i])
		q = q[3:]
	}
}

// simdTables3 writes, for g < n and e < 32,
//
//	tbl[32g+e] = v0[e]*q[3g] + v1[e]*q[3g+1] + v2[e]*q[3g+2]
//
// from qu = q+128 (three bytes a group, not lutFlip's four) and cbv's
// words 0..95 (see lutPrepared.cbv3): VPMADDUBSW of the unsigned pairs
// (qu[3g], qu[3g+1]) and (qu[3g+2], qu[3g+3]) with the signed value bytes
// (v0[e], v1[e]) and (v2[e], 0), minus the constant 128*(v0[e]+v1[e]+v2[e]).
// qu must hold 3n + 15 bytes at least: each pair is broadcast from a
// 16-byte load (see simdTables).
func simdTables3(qu []uint8, n int, cbv *[128]int16, tbl []int16) {
	c01 := archsimd.LoadInt16x32((*[32]int16)(cbv[0:32])).AsInt8x64()
	c2 := archsimd.LoadInt16x32((*[32]int16)(cbv[32:64])).AsInt8x64()
	k := archsimd.LoadInt16x32((*[32]int16)(cbv[64:96]))
	t := simdRows[[32]int16](tbl[:32*n])
	qu = qu[: 3*n+15 : 3*n+15]
	bc := func(q []uint8) archsimd.Uint8x64 {
		return archsimd.LoadUint8x16((*[16]uint8)(q[:16])).AsUint16x8().Broadcast1To32().AsUint8x64()
	}
	one := func(q []uint8, t *[32]int16) {
		bc(q).DotProductPairsSaturated(c01).Add(bc(q[2:]).DotProductPairsSaturated(c2)).Sub(k).Store(t)
	}
	// Four groups per step: one bounds check for the four (q4, t4 are
	// arrays, their constant-offset slices need none).
	for len(t) >= 4 && len(qu) >= 9+18 {
		q4, t4 := (*[9 + 18]uint8)(qu[:9+18]), (*[4][32]int16)(t[:4])
		one(q4[0:], &t4[0])
		one(q4[3:], &t4[1])
		one(q4[6:], &t4[2])
		one(q4[9:], &t4[3])
		qu, t = qu[12:], t[4:]
	}
	for i := range t {
		one(qu, &t[i])
		qu = qu[3:]
	}
}

// simdLook3 adds word vector x's three base-3 lookups (indices x, x>>5 and
// x>>10, VPERMW reading bits 0..4; the shifts are VPMULHUW by 2^11, 2^6)
// in the tables t0, t1, t2 to a. lut3Chunk shifts by 10 with a VPSRLW
// instead; Go 1.26 compiles ShiftAllRight(10) into a shift by a register
// count loaded on every call, which made archsimd-i8 3-5% slower.
func simdLook3(a, t0, t1, t2 archsimd.Int16x32, x, sh5, sh10 archsimd.Uint16x32) archsimd.Int16x32 {
	a = a.Add(t0.Permute(x))
	a = a.Add(t1.Permute(x.MulHigh(sh5)))
	return a.Add(t2.Permute(x.MulHigh(sh10)))
}

// simdWiden adds the int16 sums a (word 2i row i, word 2i+1 row 16+i) into
// the 32 int32 row sums acc (VPMADDWD with 1 in the even or odd words).
func simdWiden(a archsimd.Int16x32, acc *[2][16]int32, even, odd archsimd.Int16x32) {
	e := a.DotProductPairs(even).Add(archsimd.LoadInt32x16(&acc[0]))
	o := a.DotProductPairs(odd).Add(archsimd.LoadInt32x16(&acc[1]))
	e.Store(&acc[0])
	o.Store(&acc[1])
}

// simdChunk3 is lut3Chunk: it adds to acc[32*4*rb + 32*s + i] (rb <
// len(acc)/128, s < 4, i < 32) the lookups of one chunk of words >= 1 words
// of 3 groups,
//
//	Σ_k Σ_{j<3} tbl[32*(3k+j) + i_j(k, rb, s, i)]
//
// word k's vector of set s being the 32 words at w[((rb*words + k)*4 + s)*32:],
// word pos(i) of it (pos(i) = 2i for i < 16, 2(i-16)+1 otherwise). Sums stay
// in int16 for period >= 1 words at a time (see lut3Period).
func simdChunk3(w []uint16, tbl []int16, words, period int, acc []int32) {
	nrb := len(acc) / lutRowBlock
	wv := simdRows[[lutSets][32]uint16](w[:nrb*words*lutSets*32])
	tv := simdRows[[3][32]int16](tbl[:words*3*32])
	for rb := 0; rb < nrb; rb++ {
		simdRowBlock3(wv[rb*words:(rb+1)*words], tv, period, simdView[[lutSets][2][16]int32](acc[rb*lutRowBlock:]))
	}
}

// simdRowBlock3 is simdChunk3 for one row block: w and tbl hold a word
// each per element (len(w) == len(tbl)), summed in int16 period words at a
// time. It is a
// function of its own, not inlined, with the pointers advanced by
// reslicing: so the register allocator keeps every vector of the word loop
// in registers, and the loads take their constant offsets from one base
// register (inlined into the row block loop it spilled and reloaded
// vectors on every word; indexed by k it recomputed each address with two
// LEAQs).
//
//go:noinline
func simdRowBlock3(w [][lutSets][32]uint16, tbl [][3][32]int16, period int, acc *[lutSets][2][16]int32) {
	sh5, sh10 := archsimd.BroadcastUint16x32(1<<11), archsimd.BroadcastUint16x32(1<<6)
	for len(w) > 0 && len(tbl) > 0 {
		n := min(period, len(w), len(tbl))
		wp, tp := w[:n], tbl[:n]
		w, tbl = w[n:], tbl[n:]
		var a0, a1, a2, a3 archsimd.Int16x32
		for len(wp) > 0 && len(tp) > 0 {
			wk, tk := &wp[0], &tp[0]
			t0 := archsimd.LoadInt16x32(&tk[0])
			t1 := archsimd.LoadInt16x32(&tk[1])
			t2 := archsimd.LoadInt16x32(&tk[2])
			a0 = simdLook3(a0, t0, t1, t2, archsimd.LoadUint16x32(&wk[0]), sh5, sh10)
			a1 = simdLook3(a1, t0, t1, t2, archsimd.LoadUint16x32(&wk[1]), sh5, sh10)
			a2 = simdLook3(a2, t0, t1, t2, archsimd.LoadUint16x32(&wk[2]), sh5, sh10)
			a3 = simdLook3(a3, t0, t1, t2, archsimd.LoadUint16x32(&wk[3]), sh5, sh10)
			wp, tp = wp[1:], tp[1:]
		}
		even, odd := archsimd.BroadcastInt32x16(1).AsInt16x32(), archsimd.BroadcastInt32x16(1<<16).AsInt16x32()
		simdWiden(a0, &acc[0], even, odd)
		simdWiden(a1, &acc[1], even, odd)
		simdWiden(a2, &acc[2], even, odd)
		simdWiden(a3, &acc[3], even, odd)
	}
}

// simdChunk6 is lutChunk: it adds to acc[32*4*rb + 32*s + i] (rb <
// len(acc)/128, s < 4, i < 32) the lookups of one chunk of 4*nper octets of
// 8 groups,
//
//	Σ_o Σ_{k<8} tbl[64*(8o+k) + g_k(o, rb, s, i)]
//
// the octet's vectors A, B, C of set s being the 96 words at
// w[((rb*4*nper + o)*4 + s)*96:], word pos(i) of each. Sums stay in int16 for
// one period of 4 octets (32 lookups of at most 762).
func simdChunk6(w []uint16, tbl []int16, nper int, acc []int32) {
	octets := lutPeriod * nper
	nrb := len(acc) / lutRowBlock
	wv := simdRows[[3][32]uint16](w[:nrb*octets*lutSets*96])
	tv := simdRows[[lutOctet][2][32]int16](tbl[:octets*lutOctet*64])
	for rb := 0; rb < nrb; rb++ {
		simdRowBlock6(wv[rb*octets*lutSets:(rb+1)*octets*lutSets], tv, simdView[[lutSets][2][16]int32](acc[rb*lutRowBlock:]))
	}
}

// simdRowBlock6 is simdChunk6 for one row block: w holds one set's A, B,
// C per element, the four sets of an octet in a row, and tbl an octet's
// tables per element (len(w) == 4*len(tbl), a multiple of 16). The
// assembly keeps all 12 index vectors of an octet in registers; Go
// allocates only 15 vector registers (X0-X14), where that spilled five
// vectors per octet. Here the octet goes in three phases (the groups of A,
// of B, of C), each table loaded once for the four sets as in the
// assembly; g6 and g7 come in the C phase with A and B loaded again.
// Those second loads are masked loads (all lanes): Go merges plain loads
// of the same address, and then kept A and B live, spilled to the stack,
// from their first phase on (12 W loads, 16 table loads, 8 reloads and no
// spills per octet; the assembly has no reloads). Not inlined, for the
// reasons given at simdRowBlock3.
//
//go:noinline
func simdRowBlock6(w [][3][32]uint16, tbl [][lutOctet][2][32]int16, acc *[lutSets][2][16]int32) {
	all := archsimd.Mask16x32FromBits(^uint32(0))
	for len(w) >= lutPeriod*lutSets && len(tbl) >= lutPeriod {
		wp, tp := w[:lutPeriod*lutSets], tbl[:lutPeriod]
		w, tbl = w[lutPeriod*lutSets:], tbl[lutPeriod:]
		var a0, a1, a2, a3 archsimd.Int16x32
		for len(wp) >= lutSets && len(tp) > 0 {
			o, t := (*[lutSets][3][32]uint16)(wp[:lutSets]), &tp[0]
			wp, tp = wp[lutSets:], tp[1:]
			// look adds the lookups of group g (table t[g], VPERMI2W reading
			// bits 0..5 of an index word) for the four sets' indices.
			look := func(g int, i0, i1, i2, i3 archsimd.Uint16x32) {
				lo, hi := archsimd.LoadInt16x32(&t[g][0]), archsimd.LoadInt16x32(&t[g][1])
				a0 = a0.Add(lo.ConcatPermute(hi, i0))
				a1 = a1.Add(lo.ConcatPermute(hi, i1))
				a2 = a2.Add(lo.ConcatPermute(hi, i2))
				a3 = a3.Add(lo.ConcatPermute(hi, i3))
			}
			ld := func(s, v int) archsimd.Uint16x32 { return archsimd.LoadUint16x32(&o[s][v]) }
			// A masked load (all lanes) is another operation to the compiler:
			// it is not merged with the plain load of the same address, which
			// would keep A and B live (spilled) until the C phase.
			ldm := func(s, v int) archsimd.Uint16x32 { return archsimd.LoadMaskedUint16x32(&o[s][v], all) }
			// g0 = A, g1 = A>>6.
			sh := archsimd.BroadcastUint16x32(1 << 10)
			A0, A1, A2, A3 := ld(0, 0), ld(1, 0), ld(2, 0), ld(3, 0)
			look(1, A0.MulHigh(sh), A1.MulHigh(sh), A2.MulHigh(sh), A3.MulHigh(sh))
			look(0, A0, A1, A2, A3)
			// g2 = B, g3 = B>>6.
			B0, B1, B2, B3 := ld(0, 1), ld(1, 1), ld(2, 1), ld(3, 1)
			look(3, B0.MulHigh(sh), B1.MulHigh(sh), B2.MulHigh(sh), B3.MulHigh(sh))
			look(2, B0, B1, B2, B3)
			// g5 = C>>10, g6 = A>>12 | (C>>6)<<4, g7 = B>>12 | (C>>8)<<4, g4 = C.
			C0, C1, C2, C3 := ld(0, 2), ld(1, 2), ld(2, 2), ld(3, 2)
			look(6, ldm(0, 0).ShiftAllRightConcat(12, C0.MulHigh(sh)), ldm(1, 0).ShiftAllRightConcat(12, C1.MulHigh(sh)),
				ldm(2, 0).ShiftAllRightConcat(12, C2.MulHigh(sh)), ldm(3, 0).ShiftAllRightConcat(12, C3.MulHigh(sh)))
			sh = archsimd.BroadcastUint16x32(1 << 8)
			look(7, ldm(0, 1).ShiftAllRightConcat(12, C0.MulHigh(sh)), ldm(1, 1).ShiftAllRightConcat(12, C1.MulHigh(sh)),
				ldm(2, 1).ShiftAllRightConcat(12, C2.MulHigh(sh)), ldm(3, 1).ShiftAllRightConcat(12, C3.MulHigh(sh)))
			sh = archsimd.BroadcastUint16x32(1 << 6)
			look(5, C0.MulHigh(sh), C1.MulHigh(sh), C2.MulHigh(sh), C3.MulHigh(sh))
			look(4, C0, C1, C2, C3)
		}
		even, odd := archsimd.BroadcastInt32x16(1).AsInt16x32(), archsimd.BroadcastInt32x16(1<<16).AsInt16x32()
		simdWiden(a0, &acc[0], even, odd)
		simdWiden(a1, &acc[1], even, odd)
		simdWiden(a2, &acc[2], even, odd)
		simdWiden(a3, &acc[3], even, odd)
	}
}

// simdScale writes y[i] = float32(acc[i]) * inv for i < len(y) (len(acc) ==
// len(y)): VCVTDQ2PS rounds to nearest even, as Go's int32 to float32
// conversion does.
func simdScale(acc []int32, inv float32, y []float32) {
	acc = acc[:len(y)]
	iv := archsimd.BroadcastFloat32x16(inv)
	i := 0
	for ; i+16 <= len(y); i += 16 {
		archsimd.LoadInt32x16((*[16]int32)(acc[i : i+16])).ConvertToFloat32().Mul(iv).Store((*[16]float32)(y[i : i+16]))
	}
	if i < len(y) {
		var a [16]int32
		var t [16]float32
		copy(a[:], acc[i:])
		archsimd.LoadInt32x16(&a).ConvertToFloat32().Mul(iv).Store(&t)
		copy(y[i:], t[:])
	}
}

// simdView returns the first len(A) elements of s as *A, A an array type
// (possibly nested) of E. Slicing s to that length is bounds checked, so a
// view never reaches past the end of s.
func simdView[A any, E any](s []E) *A {
	var e E
	var a A
	n := int(unsafe.Sizeof(a) / unsafe.Sizeof(e))
	return (*A)(unsafe.Pointer(unsafe.SliceData(s[:n:n])))
}

// simdRows returns s as a slice of len(s)*size(E)/size(R) elements of R, an
// array type (possibly nested) of E; len(s) is a multiple of len(R)'s
// element count.
func simdRows[R any, E any](s []E) []R {
	var e E
	var r R
	n := len(s) / int(unsafe.Sizeof(r)/unsafe.Sizeof(e))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*R)(unsafe.Pointer(unsafe.SliceData(s))), n)
}
