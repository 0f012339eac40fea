//go:build amd64 && !purego

package probe

import "github.com/klauspost/cpuid/v2"

func archRead() []readLoop {
	return []readLoop{
		{width: "ymm", isa: "avx2", instr: "VPADDQ m256 into 8 ymm accumulators, 1 KiB per iteration",
			avail: need(cpuid.AVX, cpuid.AVX2), run: readY},
		{width: "zmm", isa: "avx512f", instr: "VPADDQ m512 into 8 zmm accumulators, 1 KiB per iteration",
			avail: need(cpuid.AVX512F), run: readZ},
	}
}

func archCompute() []computeLoop {
	return []computeLoop{
		{name: "ADDQ chain (clock)", kind: KindClock, isa: "amd64", unit: "GHz", avail: need(), run: addChain,
			instr: "dependent ADDQ reg, reg: one per cycle"},
		{name: "VPDPBUSD zmm", kind: KindInt8, isa: "avx512vnni", unit: "GMAC/s",
			avail: need(cpuid.AVX512F, cpuid.AVX512VNNI), run: vpdpbusdZ,
			instr: "VPDPBUSD zmm, 12 accumulators (64 MAC each)"},
		{name: "VPDPBUSD ymm", kind: KindInt8, isa: "avx512vnni+vl", unit: "GMAC/s",
			avail: need(cpuid.AVX512F, cpuid.AVX512VNNI, cpuid.AVX512VL), run: vpdpbusdY,
			instr: "VPDPBUSD ymm (EVEX), 12 accumulators (32 MAC each)"},
		{name: "VPMADDUBSW+VPADDW ymm", kind: KindInt8, isa: "avx2", unit: "GMAC/s",
			avail: need(cpuid.AVX, cpuid.AVX2), run: maddubswAddwY,
			instr: "VPMADDUBSW then VPADDW into int16, 6 accumulators (32 MAC per pair)"},
		{name: "VPMADDUBSW+VPADDW zmm", kind: KindInt8, isa: "avx512bw", unit: "GMAC/s",
			avail: need(cpuid.AVX512F, cpuid.AVX512BW), run: maddubswAddwZ,
			instr: "VPMADDUBSW then VPADDW into int16, 12 accumulators (64 MAC per pair)"},
		{name: "VPMADDUBSW+VPMADDWD+VPADDD ymm", kind: KindInt8, isa: "avx2", unit: "GMAC/s",
			avail: need(cpuid.AVX, cpuid.AVX2), run: maddubswMaddwdY,
			instr: "VPMADDUBSW, VPMADDWD (ones), VPADDD into int32, 6 accumulators (32 MAC per triple)"},
		{name: "VPMADDUBSW+VPMADDWD+VPADDD zmm", kind: KindInt8, isa: "avx512bw", unit: "GMAC/s",
			avail: need(cpuid.AVX512F, cpuid.AVX512BW), run: maddubswMaddwdZ,
			instr: "VPMADDUBSW, VPMADDWD (ones), VPADDD into int32, 12 accumulators (64 MAC per triple)"},
		{name: "VFMADD231PS ymm", kind: KindF32, isa: "fma3", unit: "GFMA/s",
			avail: need(cpuid.AVX, cpuid.FMA3), run: fmaY,
			instr: "VFMADD231PS ymm, 12 accumulators (8 FMA each)"},
		{name: "VFMADD231PS zmm", kind: KindF32, isa: "avx512f", unit: "GFMA/s",
			avail: need(cpuid.AVX512F), run: fmaZ,
			instr: "VFMADD231PS zmm, 12 accumulators (16 FMA each)"},
	}
}
