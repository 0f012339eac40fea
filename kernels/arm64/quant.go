package arm64

import (
	"math"

	"github.com/qkbench/qkbench/kernels"
)

// quantizeI8 is kernels.QuantizeI8 with the bulk of x (whole groups of 16)
// done in NEON assembly; the result is bit-identical (quant_test.go):
//
//	amax = max |x[c]|;  s = 127 / max(amax, 1e-5)   (float32)
//	q[c] = clamp(roundHalfEven(float32(x[c]*s)), -127, 127)
//
// The clamp is never needed: |x[c]| <= amax, so |x[c]*s| <= 127 times
// (1+2^-24)^2 after two roundings, which rounds to at most 127 (and when
// amax < 1e-5, |x[c]*s| < 127). x must be finite (the harness validates it).
// It writes len(x) values into q (len(q) >= len(x)) and returns s.
func quantizeI8(x []float32, q []int8) float32 {
	q = q[:len(x)]
	n := len(x) / 16
	var amax float32
	if n > 0 {
		amax = absMax16(&x[0], n)
	}
	for _, v := range x[16*n:] {
		if a := float32(math.Abs(float64(v))); a > amax {
			amax = a
		}
	}
	s := float32(127) / max(amax, float32(1e-5))
	if n > 0 {
		quant16(&x[0], n, s, &q[0])
	}
	for i := 16 * n; i < len(x); i++ {
		q[i] = kernels.QuantizeValue(x[i], s)
	}
	return s
}
