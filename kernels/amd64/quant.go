package amd64

import (
	"math"

	"github.com/qkbench/qkbench/kernels"
)

//go:generate sh -c "cd ../_gen && go run ./amd64 -part quant"

// quantAsm is true when quantizeI8 may use the AVX2 assembly.
var quantAsm = need(AVX2) == nil

// quantizeI8 is kernels.QuantizeI8 vectorized, bit for bit the same: for
// amax = max |x[c]| and s = 127 / max(amax, 1e-5) (float32),
//
//	for c := range x {
//		q[c] = int8(clamp(math.RoundToEven(float64(float32(x[c]*s))), -127, 127))
//		qsum += int32(q[c])
//	}
//
// It needs len(q) >= len(x) and leaves q[len(x):] alone. The AVX2 code does
// whole groups of 32 values; the last len(x)%32 go through the Go loop, as does
// everything on a CPU without AVX2 (so that callers never get a different q).
// qsum is exact: |qsum| <= 127 * len(x) fits an int32 for len(x) <= kernels.MaxDim.
func quantizeI8(x []float32, q []int8) (s float32, qsum int32) {
	q = q[:len(x)]
	n := 0
	var amax float32
	if quantAsm {
		n = len(x) &^ 31
		amax = absMaxAVX2(x)
	}
	for _, v := range x[n:] {
		if a := float32(math.Abs(float64(v))); a > amax {
			amax = a
		}
	}
	s = float32(127) / max(amax, float32(1e-5))
	if n > 0 {
		qsum = quantAVX2(x, q, s)
	}
	for i := n; i < len(x); i++ {
		q[i] = kernels.QuantizeValue(x[i], s)
		qsum += int32(q[i])
	}
	return s, qsum
}
