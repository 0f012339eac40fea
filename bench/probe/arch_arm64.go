//go:build arm64 && !purego

package probe

import "github.com/klauspost/cpuid/v2"

// The loops in probe_arm64.s (declared in probe_stubs_arm64.go).

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
