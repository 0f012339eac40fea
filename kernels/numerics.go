package kernels

import (
	"fmt"
	"math"
)

// QuantizeI8 is docs/format.md §2's per-tensor activation quantizer, the definition of
// bit-exactness for every i8 kernel:
//
//	amax = max |x[c]|;  s = 127 / max(amax, 1e-5)   (float32)
//	q[c] = clamp(roundHalfEven(float32(x[c]*s)), -127, 127)
//
// It writes len(x) values into q (len(q) >= len(x)) and returns s.
func QuantizeI8(x []float32, q []int8) float32 {
	q = q[:len(x)]
	var amax float32
	for _, v := range x {
		if a := float32(math.Abs(float64(v))); a > amax {
			amax = a
		}
	}
	s := float32(127) / max(amax, float32(1e-5))
	for i, v := range x {
		q[i] = QuantizeValue(v, s)
	}
	return s
}

// QuantizeValue is QuantizeI8's step for one value:
// clamp(roundHalfEven(float32(v*s)), -127, 127). Vector quantizers use it for
// their tails, so that every path rounds the same way.
func QuantizeValue(v, s float32) int8 {
	r := math.RoundToEven(float64(float32(v * s)))
	if r > 127 {
		r = 127
	} else if r < -127 {
		r = -127
	}
	return int8(r)
}

// I8Inv returns inv = float32(scale) / s, the factor that turns an exact
// integer row sum into y (docs/format.md §2): y[r] = float32(isum[r]) * inv.
func I8Inv(scale, s float32) float32 { return scale / s }

// Oracle computes y[r] = scale * Σ cb[code(r,c)] * x[c] exactly enough (float64)
// and each row's L1 norm |scale| * Σ |cb*x|, the scale of the f32 tolerance.
func Oracle(m *Matrix, x []float32) (y, l1 []float64) {
	y = make([]float64, m.Rows)
	l1 = make([]float64, m.Rows)
	sc := float64(m.Scale)
	for r := 0; r < m.Rows; r++ {
		var s, a float64
		for c := 0; c < m.Cols; c++ {
			p := float64(m.Codebook[m.Code(r, c)]) * float64(x[c])
			s += p
			a += math.Abs(p)
		}
		y[r] = sc * s
		l1[r] = math.Abs(sc) * a
	}
	return y, l1
}

// RefI8 computes the i8 reference of docs/format.md §2 with plain loops and int64 sums.
func RefI8(m *Matrix, x []float32) []float32 {
	q := make([]int8, len(x))
	inv := I8Inv(m.Scale, QuantizeI8(x, q))
	y := make([]float32, m.Rows)
	for r := 0; r < m.Rows; r++ {
		var isum int64
		for c := 0; c < m.Cols; c++ {
			isum += int64(m.Codebook[m.Code(r, c)]) * int64(q[c])
		}
		y[r] = float32(isum) * inv
	}
	return y
}

// CheckFinite reports the first NaN or Inf in x. The harness validates x once
// before timing; kernels do not.
func CheckFinite(x []float32) error {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("kernels: x[%d] is %v, want a finite number", i, v)
		}
	}
	return nil
}
