package amd64

import "github.com/qkbench/qkbench/kernels"

func init() {
	kernels.Register(ArchsimdI8)
}

// ArchsimdI8 is the archsimd-i8 kernel: avx512lut-i8's algorithm on
// avx512lut-i8's repacked W (Prepare is the same code), with the per-GEMV
// work (quantizer, table builds, chunk lookups, final scale) written with
// Go's experimental SIMD package simd/archsimd instead of assembly. It
// shows how close Go's own SIMD API gets to the hand-written kernel.
//
// It runs only in builds with GOEXPERIMENT=simd on amd64 (without the
// purego tag); everywhere else it is registered but unavailable, with the
// reason.
var ArchsimdI8 kernels.Kernel = &simdKernel{kernels.Base{I: kernels.Info{
	ID: "archsimd-i8", Backend: "amd64", ISA: "avx512bw+vbmi2 (archsimd)", Mode: kernels.I8,
	Code: "Go simd/archsimd (GOEXPERIMENT=simd): avx512lut-i8's algorithm, Prepare and repacked W; " +
		"quantizer (VRNDSCALEPS + truncating convert), table builds, VPERMW (base-3, <= 3-valued codebooks) " +
		"and VPERMI2W (6-bit, octets in three phases: Go allocates 15 vector registers) chunk lookups and the scale " +
		"in archsimd, one non-inlined function per row block; no software prefetch of W (archsimd has none)",
}}}

type simdKernel struct{ kernels.Base }
