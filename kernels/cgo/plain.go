package cgo

import "github.com/qkbench/qkbench/kernels"

func init() { kernels.Register(CPlainF32) }

// CPlainF32 is the plain C loop of docs/format.md §2 (one float accumulator per row,
// gcc -O2): the baseline the Foundation issue's 10× target is measured
// against. It reads W in the QK256 layout as is.
var CPlainF32 kernels.Kernel = &plainKernel{kernels.Base{I: kernels.Info{
	ID: "c-plain-f32", Backend: "cgo", ISA: "c", Mode: kernels.F32,
	Code: "C (gcc -O2, no intrinsics): plain loop, one float accumulator per row, codes unpacked one at a time",
}}}

type plainKernel struct{ kernels.Base }

func (k *plainKernel) Available() error { return plainAvailable() }

func (k *plainKernel) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if err := kernels.CheckPrepare(k, m); err != nil {
		return nil, err
	}
	p := &plainPrepared{k: k, m: m}
	for i, v := range m.Codebook {
		p.cb[i] = v
	}
	return p, nil
}

type plainPrepared struct {
	k  *plainKernel
	m  *kernels.Matrix
	cb [4]int8
}

func (p *plainPrepared) Kernel() kernels.Kernel  { return p.k }
func (p *plainPrepared) Matrix() *kernels.Matrix { return p.m }
func (p *plainPrepared) NewInput() kernels.Input { return &plainInput{p: p} }

type plainInput struct {
	p *plainPrepared
	x []float32
}

func (in *plainInput) Load(x []float32) error {
	if err := kernels.CheckX(in.p.k.I.ID, in.p.m, x); err != nil {
		return err
	}
	in.x = x
	return nil
}

func (in *plainInput) GEMV(y []float32, r0, r1 int) error {
	if err := kernels.CheckGEMV(in.p.k.I.ID, in.p.m, y, r0, r1, in.x != nil); err != nil {
		return err
	}
	if r1 > r0 {
		plainGEMV(in.p, in.x, y[r0:r1], r0)
	}
	return nil
}
