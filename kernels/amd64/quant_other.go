//go:build !amd64 || purego

package amd64

// Stubs of the assembly in quant_amd64.s for builds without it. quantizeI8
// never calls them there: quantAsm is false (need fails without asmBuilt).

func absMaxAVX2(x []float32) float32 { panic("amd64: absMaxAVX2 called without amd64 assembly") }

func quantAVX2(x []float32, q []int8, s float32) int32 {
	panic("amd64: quantAVX2 called without amd64 assembly")
}
