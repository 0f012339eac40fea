// Package scalar holds the portable Go kernels: ref-f32 and ref-i8, the plain
// loops every other kernel is checked against, and go-f32 and go-i8, the
// fastest portable Go, which every machine without assembly gets.
package scalar

import (
	"github.com/qkbench/qkbench/kernels"
)

func init() {
	kernels.Register(RefF32)
	kernels.Register(RefI8)
}

// RefF32 is the plain f32 loop: y[r] = scale * Σ cb[code(r,c)] * x[c], one
// float32 accumulator per 256-column block.
var RefF32 kernels.Kernel = &refKernel{kernels.Base{I: kernels.Info{
	ID: "ref-f32", Backend: "scalar", ISA: "go", Mode: kernels.F32,
	Code: "Go: plain loop, one float32 accumulator per 256-column block",
}}}

// RefI8 is the plain i8 loop of docs/format.md §2: QuantizeI8, exact int32 sums.
var RefI8 kernels.Kernel = &refKernel{kernels.Base{I: kernels.Info{
	ID: "ref-i8", Backend: "scalar", ISA: "go", Mode: kernels.I8,
	Code: "Go: plain loop over kernels.QuantizeI8 codes, int32 sums",
}}}

type refKernel struct{ kernels.Base }

func (k *refKernel) Available() error { return nil }

func (k *refKernel) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if err := kernels.CheckPrepare(k, m); err != nil {
		return nil, err
	}
	return &refPrepared{k: k, m: m}, nil
}

type refPrepared struct {
	k *refKernel
	m *kernels.Matrix
}

func (p *refPrepared) Kernel() kernels.Kernel  { return p.k }
func (p *refPrepared) Matrix() *kernels.Matrix { return p.m }
func (p *refPrepared) NewInput() kernels.Input { return &refInput{p: p} }

type refInput struct {
	p   *refPrepared
	x   []float32
	q   []int8
	inv float32
}

func (in *refInput) Load(x []float32) error {
	m := in.p.m
	if err := kernels.CheckX(in.p.k.I.ID, m, x); err != nil {
		return err
	}
	in.x = x
	if in.p.k.I.Mode == kernels.I8 {
		if in.q == nil {
			in.q = make([]int8, m.Cols)
		}
		in.inv = kernels.I8Inv(m.Scale, kernels.QuantizeI8(x, in.q))
	}
	return nil
}

func (in *refInput) GEMV(y []float32, r0, r1 int) error {
	m := in.p.m
	if err := kernels.CheckGEMV(in.p.k.I.ID, m, y, r0, r1, in.x != nil); err != nil {
		return err
	}
	cb := m.Codebook
	for r := r0; r < r1; r++ {
		if in.p.k.I.Mode == kernels.I8 {
			var isum int32
			for c := 0; c < m.Cols; c++ {
				isum += int32(cb[m.Code(r, c)]) * int32(in.q[c])
			}
			y[r] = float32(isum) * in.inv
			continue
		}
		var total float32
		for b := 0; b < m.Cols; b += kernels.BlockCols {
			var acc float32
			for c := b; c < min(b+kernels.BlockCols, m.Cols); c++ {
				acc += float32(cb[m.Code(r, c)]) * in.x[c]
			}
			total += acc
		}
		y[r] = m.Scale * total
	}
	return nil
}
