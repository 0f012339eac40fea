package main

import (
	"fmt"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

var (
	ymms = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}
	zmms = []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}
)

// doc sets the function's doc comment, one Doc line per text line.
func doc(s string) { Doc(strings.Split(s, "\n")...) }

// op3 emits one three-operand instruction (Go operand order).
type op3 func(a, b, c Op)

func vpaddq(a, b, c Op) { VPADDQ(a, b, c) }
func vpxor(a, b, c Op)  { VPXOR(a, b, c) }
func vpxorq(a, b, c Op) { VPXORQ(a, b, c) }

// amd64Part emits the amd64 loops (avo).
func amd64Part() {
	readLoop("readY", "ymm", ymms, 32, 8, vpaddq, vpxor)
	readLoop("readZ", "zmm", zmms, 64, 8, vpaddq, vpxorq)

	addChain()

	// VPDPBUSD accumulates u8*s8 products straight into int32 lanes.
	computeLoop("vpdpbusdZ", "VPDPBUSD zmm (AVX-512 VNNI)", zmms, 12, 64, vpxorq,
		func(i int, acc []VecPhysical, a, b VecPhysical) { VPDPBUSD(b, a, acc[i]) })
	computeLoop("vpdpbusdY", "VPDPBUSD ymm (AVX-512 VNNI + VL)", ymms, 12, 32, vpxor,
		func(i int, acc []VecPhysical, a, b VecPhysical) { VPDPBUSD(b, a, acc[i]) })

	// VPMADDUBSW into a temporary, then VPADDW into an int16 accumulator.
	computeLoop("maddubswAddwY", "VPMADDUBSW+VPADDW ymm (AVX2)", ymms, 6, 32, vpxor,
		func(i int, acc []VecPhysical, a, b VecPhysical) {
			t := ymms[6+i]
			VPMADDUBSW(b, a, t)
			VPADDW(t, acc[i], acc[i])
		})
	computeLoop("maddubswAddwZ", "VPMADDUBSW+VPADDW zmm (AVX-512 BW)", zmms, 12, 64, vpxorq,
		func(i int, acc []VecPhysical, a, b VecPhysical) {
			t := zmms[12+i]
			VPMADDUBSW(b, a, t)
			VPADDW(t, acc[i], acc[i])
		})

	// VPMADDUBSW, widened to int32 with VPMADDWD by ones, then VPADDD.
	computeLoop("maddubswMaddwdY", "VPMADDUBSW+VPMADDWD+VPADDD ymm (AVX2)", ymms, 6, 32, vpxor,
		func(i int, acc []VecPhysical, a, b VecPhysical) {
			t := ymms[6+i]
			VPMADDUBSW(b, a, t)
			VPMADDWD(a, t, t)
			VPADDD(t, acc[i], acc[i])
		})
	computeLoop("maddubswMaddwdZ", "VPMADDUBSW+VPMADDWD+VPADDD zmm (AVX-512 BW)", zmms, 12, 64, vpxorq,
		func(i int, acc []VecPhysical, a, b VecPhysical) {
			t := zmms[12+i]
			VPMADDUBSW(b, a, t)
			VPMADDWD(a, t, t)
			VPADDD(t, acc[i], acc[i])
		})

	computeLoop("fmaY", "VFMADD231PS ymm (FMA3)", ymms, 12, 8, vpxor,
		func(i int, acc []VecPhysical, a, b VecPhysical) { VFMADD231PS(b, a, acc[i]) })
	computeLoop("fmaZ", "VFMADD231PS zmm (AVX-512 F)", zmms, 12, 16, vpxorq,
		func(i int, acc []VecPhysical, a, b VecPhysical) { VFMADD231PS(b, a, acc[i]) })
}

// readLoop emits func name(p *byte, n, reps int) uint64: it reads the n bytes
// at p (n a positive multiple of readBlock) reps times with vector loads
// added into nacc independent accumulators, and returns the xor of the
// accumulators' 64-bit lanes, so that no load is dead:
//
//	var s [nacc][lanes]uint64
//	for r := 0; r < reps; r++ {
//		for i := 0; i < n/8; i++ { s[(i/lanes)%nacc][i%lanes] += p64[i] }
//	}
//	return xor of every s
func readLoop(name, width string, regs []VecPhysical, vbytes, nacc int,
	add, xor op3) {
	TEXT(name, NOSPLIT, "func(p *byte, n, reps int) uint64")
	doc(fmt.Sprintf("%s reads the n bytes at p reps times with %s loads into %d accumulators\n"+
		"and returns the xor of their 64-bit lanes. n must be a positive multiple of %d\n"+
		"and reps positive.", name, width, nacc, readBlock))
	p := Load(Param("p"), GP64())
	n := Load(Param("n"), GP64())
	reps := Load(Param("reps"), GP64())
	acc := regs[:nacc]
	for _, a := range acc {
		xor(a, a, a)
	}
	ptr, left := GP64(), GP64()
	Label(name + "_pass")
	MOVQ(p, ptr)
	MOVQ(n, left)
	Label(name + "_block")
	for off, i := 0, 0; off < readBlock; off, i = off+vbytes, i+1 {
		a := acc[i%nacc]
		add(Mem{Base: ptr, Disp: off}, a, a)
	}
	ADDQ(U32(readBlock), ptr)
	SUBQ(U32(readBlock), left)
	JNZ(LabelRef(name + "_block"))
	DECQ(reps)
	JNZ(LabelRef(name + "_pass"))
	for _, a := range acc[1:] {
		xor(a, acc[0], acc[0])
	}
	x0, x1 := X0, X1
	if vbytes == 64 {
		VEXTRACTI64X4(U8(1), Z0, Y1)
		VPXOR(Y1, Y0, Y0)
	}
	VEXTRACTI128(U8(1), Y0, x1)
	VPXOR(x1, x0, x0)
	VPSHUFD(U8(0x4e), x0, x1)
	VPXOR(x1, x0, x0)
	r := GP64()
	VMOVQ(x0, r)
	VZEROUPPER()
	Store(r, ReturnIndex(0))
	RET()
}

// computeLoop emits func name(n int) int: n iterations of body over nacc
// independent accumulators (sources a and b are the last two registers of
// regs), returning n*nacc*per, the operations done. body(i, ...) emits the
// instruction chain for accumulator i.
func computeLoop(name, what string, regs []VecPhysical, nacc, per int,
	zero op3, body func(i int, acc []VecPhysical, a, b VecPhysical)) {
	TEXT(name, NOSPLIT, "func(n int) int")
	doc(fmt.Sprintf("%s runs n iterations of %d independent %s chains\n"+
		"(%d operations each) and returns n*%d, the operations done. n must be positive.",
		name, nacc, what, per, nacc*per))
	n := Load(Param("n"), GP64())
	a, b := regs[len(regs)-2], regs[len(regs)-1]
	for _, r := range regs {
		zero(r, r, r)
	}
	cnt := GP64()
	MOVQ(n, cnt)
	Label(name + "_loop")
	for i := 0; i < nacc; i++ {
		body(i, regs[:nacc], a, b)
	}
	DECQ(cnt)
	JNZ(LabelRef(name + "_loop"))
	VZEROUPPER()
	IMUL3Q(U32(nacc*per), n, n)
	Store(n, ReturnIndex(0))
	RET()
}

// addChain emits func addChain(n int) int: n iterations of 32 dependent
// register-register ADDQs, one cycle each, so that adds per second is the
// clock. It returns n*32.
func addChain() {
	const unroll = 32
	TEXT("addChain", NOSPLIT, "func(n int) int")
	doc(fmt.Sprintf("addChain runs n iterations of %d dependent ADDQ reg, reg (one per cycle)\n"+
		"and returns n*%d, the adds done. n must be positive.", unroll, unroll))
	cnt := Load(Param("n"), GP64())
	one, s := GP64(), GP64()
	MOVQ(U32(1), one)
	XORQ(s, s)
	Label("addChain_loop")
	for i := 0; i < unroll; i++ {
		ADDQ(one, s)
	}
	DECQ(cnt)
	JNZ(LabelRef("addChain_loop"))
	// s == n*unroll; returning it keeps the chain live.
	Store(s, ReturnIndex(0))
	RET()
}
