package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

// Fuzz runs a fuzz target over shapes (rows 1..16, cols 1..4400), codebooks
// (each entry in [-2, 2]), scales, seeds and matrix bytes for every usable
// kernel of ks, each checked by its mode's rule with y inside NaN guard bands,
// once over all rows and once over a sub-range. A backend calls it from its
// own fuzz target:
//
//	func FuzzGEMV(f *testing.F) { kerneltest.Fuzz(f, mypkg.MyKernel) }
//
// and runs it with `go test -fuzz FuzzGEMV ./mypkg/`. Without -fuzz the
// seeds added here run as a normal test.
func Fuzz(f *testing.F, ks ...kernels.Kernel) {
	f.Add(uint8(0), uint16(0), uint32(0x04030100), float32(1), uint64(42), []byte{0x1b})
	f.Add(uint8(2), uint16(254), uint32(0x00010203), float32(1), uint64(1), []byte{0xff, 0x00, 0x55})
	f.Add(uint8(7), uint16(3199), uint32(0x02020202), float32(0.0173), uint64(7), []byte{0xe4})
	f.Add(uint8(66), uint16(4095), uint32(0x01030001), float32(-2.5), uint64(3), []byte(nil))
	f.Add(uint8(1), uint16(256), uint32(0x00000000), float32(1), uint64(5), []byte{1, 2, 3})
	f.Add(uint8(3), uint16(4351), uint32(0x04000400), float32(1), uint64(0xfffffffffffffff2), []byte{0xaa, 0xff})
	f.Add(uint8(5), uint16(6), uint32(0x03000104), float32(0), uint64(10), []byte{0x00})
	f.Add(uint8(15), uint16(511), uint32(0x04030100), float32(math.Inf(1)), uint64(11), []byte{0xff})
	f.Fuzz(func(t *testing.T, rows uint8, cols uint16, cbBits uint32, scale float32, seed uint64, data []byte) {
		for _, f := range fuzzCheck(ks, rows, cols, cbBits, scale, seed, data) {
			t.Error(f)
		}
	})
}

// fuzzCheck is the body of Fuzz: it returns the failures of ks on one input.
func fuzzCheck(ks []kernels.Kernel, rows uint8, cols uint16, cbBits uint32, scale float32, seed uint64, data []byte) []Failure {
	m, x := fuzzWorkload(rows, cols, cbBits, scale, seed, data)
	e := expect(m, x)
	var out []Failure
	for _, k := range ks {
		if kernels.Usable(k) != nil {
			continue
		}
		s := newSuite(k, Options{})
		if s.supports(m.Codebook) != nil || !s.shapeOK(m.Rows, m.Cols) {
			continue
		}
		c := &checker{k: k, id: k.Info().ID, mode: k.Info().Mode, part: "fuzz", group: k.Info().ID}
		c.cas = fmt.Sprintf("%s cb=%s scale=%g seed=%d", m.Shape(), m.Codebook.Name(), m.Scale, seed)
		if _, in := c.setup(m, x); in != nil {
			c.gemvCheck(in, newYBuf(m.Rows, 1+int(seed%5), 2), e, 0, m.Rows)
			r0 := int(seed>>8) % (m.Rows + 1)
			r1 := r0 + int(seed>>16)%(m.Rows-r0+1)
			c.gemvCheck(in, newYBuf(m.Rows, 2, 1+int(seed>>24)%5), e, r0, r1)
		}
		out = append(out, c.fails...)
	}
	return out
}

// fuzzWorkload turns fuzz arguments into a valid matrix and x.
func fuzzWorkload(rows uint8, cols uint16, cbBits uint32, scale float32, seed uint64, data []byte) (*kernels.Matrix, []float32) {
	r := 1 + int(rows)%16
	n := 1 + int(cols)%4400
	var cb kernels.Codebook
	for i := range cb {
		cb[i] = int8(cbBits>>(8*i)%5) - 2
	}
	if math.IsNaN(float64(scale)) || math.IsInf(float64(scale), 0) || math.Abs(float64(scale)) > 1e6 {
		scale = 1
	}
	m, err := kernels.NewMatrix(r, n, cb, scale)
	if err != nil {
		panic(err) // r, n are small and cb valid: cannot happen
	}
	g := seed*0x9e3779b97f4a7c15 + 1
	for i := range m.Data {
		g ^= g << 13
		g ^= g >> 7
		g ^= g << 17
		b := byte(g >> 56)
		if len(data) > 0 {
			b = data[i%len(data)]
			if len(data) > 1 {
				b ^= byte(g>>40) & byte(seed>>32) // mostly data, some noise when asked
			}
		}
		m.Data[i] = b
	}
	kind := workloads.Gaussian
	if seed&1 != 0 {
		kind = workloads.Outliers
	}
	x, err := workloads.GenerateX(n, kind, seed)
	if err != nil {
		panic(err) // n in range: cannot happen
	}
	switch seed >> 1 & 3 {
	case 1: // tiny: amax below 1e-5
		for i := range x {
			x[i] *= 1e-7
		}
	case 2: // rounding ties: halves with amax 127 (s = 1), or integers with amax 254 (s = 0.5)
		div, top := float32(2), float32(127)
		if seed>>3&1 != 0 {
			div, top = 1, -254
		}
		for i := range x {
			b := byte(g >> uint(i%57))
			if len(data) > 0 {
				b = data[i%len(data)]
			}
			x[i] = float32(int8(b)) / div
		}
		x[int(seed>>4)%n] = top
	case 3: // zeros
		for i := range x {
			if i%3 != 0 {
				x[i] = 0
			}
		}
	}
	return m, x
}
