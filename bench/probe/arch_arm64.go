//go:build arm64 && !purego

package probe

import "github.com/klauspost/cpuid/v2"

// The loops in probe_arm64.s.

// readV reads the n bytes at p reps times with 128-bit LD1 loads added into
// 8 accumulators and returns the xor of their 64-bit lanes. n must be a
// positive multiple of 128 and reps positive.
//
//go:noescape
func readV(p *byte, n, reps int) uint64

// addChain runs n iterations of 32 dependent ADD reg, reg and returns n*32.
func addChain(n int) int

// sdotLoop runs n iterations of 12 independent SDOT .4S chains (16 MACs
// each) and returns n*192. It needs the dotprod extension.
func sdotLoop(n int) int

// fmlaLoop runs n iterations of 12 independent FMLA .4S chains (4 FMAs
// each) and returns n*48.
func fmlaLoop(n int) int

// sdotOnce computes acc[i] += Σ_{j<4} a[4i+j]*b[4i+j] with one SDOT: it
// checks the SDOT encoding against Go.
//
//go:noescape
func sdotOnce(acc *[4]int32, a, b *[16]int8)

func archRead() []readLoop {
	return []readLoop{
		{width: "neon", isa: "neon", instr: "LD1 4x128-bit, ADD .2D into 8 accumulators",
			avail: need(cpuid.ASIMD), run: readV},
	}
}

func archCompute() []computeLoop {
	return []computeLoop{
		{name: "ADD chain (clock)", kind: KindClock, isa: "arm64", unit: "GHz", avail: need(), run: addChain,
			instr: "dependent ADD reg, reg: one per cycle"},
		{name: "SDOT .4S", kind: KindInt8, isa: "neon+dotprod", unit: "GMAC/s",
			avail: need(cpuid.ASIMD, cpuid.ASIMDDP), run: sdotLoop,
			instr: "SDOT Vd.4S, Vn.16B, Vm.16B, 12 accumulators (16 MAC each)"},
		{name: "FMLA .4S", kind: KindF32, isa: "neon", unit: "GFMA/s",
			avail: need(cpuid.ASIMD), run: fmlaLoop,
			instr: "FMLA Vd.4S, Vn.4S, Vm.4S, 12 accumulators (4 FMA each)"},
	}
}
