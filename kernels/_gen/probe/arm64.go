package main

import (
	"fmt"
	"strings"

	"github.com/qkbench/qkbench/kernels/_gen/internal/arm64asm"
	"github.com/qkbench/qkbench/kernels/_gen/internal/gen"
)

// The arm64 loops' shapes: readV's block and accumulators, the chains of
// the compute loops.
const (
	readVBlock = 128 // bytes per readV iteration: two 4-register LD1s
	armChains  = 12  // independent accumulators of sdotLoop and fmlaLoop
	addUnroll  = 32  // dependent ADDs per addChain iteration
)

// arm64Part returns probe_arm64.s (its first line header) and the Go
// declarations of its functions.
func arm64Part(header string) ([]byte, []gen.Func) {
	var a arm64asm.Writer
	a.Preamble(header, "arm64 && !purego")
	var funcs []gen.Func
	text := func(name, sig, frame string, doc ...string) {
		funcs = append(funcs, gen.Func{Decl: name + sig, Doc: doc})
		a.Raw("")
		a.Raw("// func " + name + sig)
		a.Raw("TEXT ·" + name + "(SB), NOSPLIT, " + frame)
	}

	text("readV", "(p *byte, n, reps int) uint64", "$0-32",
		"readV reads the n bytes at p reps times with 128-bit LD1 loads added into",
		"8 accumulators and returns the xor of their 64-bit lanes. n must be a",
		fmt.Sprintf("positive multiple of %d and reps positive.", readVBlock))
	a.Op("MOVD\tp+0(FP), R0")
	a.Op("MOVD\tn+8(FP), R1")
	a.Op("MOVD\treps+16(FP), R2")
	a.Zero(16, 17, 18, 19, 20, 21, 22, 23)
	a.Label("readV_pass")
	a.Op("MOVD\tR0, R3")
	a.Op("MOVD\tR1, R4")
	a.Label("readV_block")
	a.Op("VLD1.P\t64(R3), [V0.D2, V1.D2, V2.D2, V3.D2]")
	a.Op("VLD1.P\t64(R3), [V4.D2, V5.D2, V6.D2, V7.D2]")
	for i := 0; i < 8; i++ {
		a.Op("VADD\tV%d.D2, V%d.D2, V%d.D2", i, 16+i, 16+i)
	}
	a.Op("SUBS\t$%d, R4, R4", readVBlock)
	a.Op("BNE\treadV_block")
	a.Op("SUBS\t$1, R2, R2")
	a.Op("BNE\treadV_pass")
	for i := 17; i < 24; i++ {
		a.Op("VEOR\tV%d.B16, V16.B16, V16.B16", i)
	}
	a.Op("VMOV\tV16.D[0], R5")
	a.Op("VMOV\tV16.D[1], R6")
	a.Op("EOR\tR6, R5, R5")
	a.Op("MOVD\tR5, ret+24(FP)")
	a.Op("RET")

	text("addChain", "(n int) int", "$0-16",
		fmt.Sprintf("addChain runs n iterations of %d dependent ADD reg, reg and returns n*%d.", addUnroll, addUnroll))
	a.Op("MOVD\tn+0(FP), R1")
	a.Op("MOVD\t$1, R2")
	a.Op("MOVD\t$0, R3")
	a.Label("addChain_loop")
	for i := 0; i < addUnroll; i++ {
		a.Op("ADD\tR2, R3, R3")
	}
	a.Op("SUBS\t$1, R1, R1")
	a.Op("BNE\taddChain_loop")
	a.Op("MOVD\tR3, ret+8(FP)")
	a.Op("RET")

	// chains emits a compute loop: armChains accumulators V0.. get one
	// instruction each per iteration from V12 and V13.
	chains := func(name, doc string, per int, inst func(acc int)) {
		text(name, "(n int) int", "$0-16", strings.Split(fmt.Sprintf(doc, armChains, per, armChains*per), "\n")...)
		a.Op("MOVD\tn+0(FP), R0")
		a.Op("MOVD\tR0, R1")
		a.Zero(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
		a.Label(name + "_loop")
		for i := 0; i < armChains; i++ {
			inst(i)
		}
		a.Op("SUBS\t$1, R1, R1")
		a.Op("BNE\t%s_loop", name)
		a.Op("MOVD\t$%d, R2", armChains*per)
		a.Op("MUL\tR2, R0, R0")
		a.Op("MOVD\tR0, ret+8(FP)")
		a.Op("RET")
	}
	chains("sdotLoop", "sdotLoop runs n iterations of %d independent SDOT .4S chains (%d MACs\neach) and returns n*%d. It needs the dotprod extension.", 16,
		func(acc int) { a.Word(arm64asm.SDOT(acc, 12, 13)) })
	chains("fmlaLoop", "fmlaLoop runs n iterations of %d independent FMLA .4S chains (%d FMAs\neach) and returns n*%d.", 4,
		func(acc int) { a.Op("VFMLA\tV13.S4, V12.S4, V%d.S4", acc) })

	text("sdotOnce", "(acc *[4]int32, a, b *[16]int8)", "$0-24",
		"sdotOnce computes acc[i] += Σ_{j<4} a[4i+j]*b[4i+j] with one SDOT: it",
		"checks the SDOT encoding against Go.")
	a.Op("MOVD\tacc+0(FP), R0")
	a.Op("MOVD\ta+8(FP), R1")
	a.Op("MOVD\tb+16(FP), R2")
	a.Op("VLD1\t(R0), [V0.S4]")
	a.Op("VLD1\t(R1), [V1.B16]")
	a.Op("VLD1\t(R2), [V2.B16]")
	a.Word(arm64asm.SDOT(0, 1, 2))
	a.Op("VST1\t[V0.S4], (R0)")
	a.Op("RET")
	return a.Bytes(), funcs
}
