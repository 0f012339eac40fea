package gate

import (
	"sync/atomic"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/scalar"
)

// test-gate-broken-i8 is ref-i8 with row 0 wrong, usable only while a test
// switches it on.
var brokenOn atomic.Bool

func init() {
	kernels.Register(&brokenKernel{Base: kernels.Base{I: kernels.Info{ID: "test-gate-broken-i8", Backend: "test", ISA: "go", Mode: kernels.I8, Code: "test: ref-i8 with row 0 wrong"}}})
}

type brokenKernel struct{ kernels.Base }

func (k *brokenKernel) Available() error {
	if !brokenOn.Load() {
		return errOff
	}
	return nil
}

type errString string

func (e errString) Error() string { return string(e) }

const errOff = errString("switched off outside its test")

func (k *brokenKernel) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	p, err := scalar.RefI8.Prepare(m)
	if err != nil {
		return nil, err
	}
	return &brokenPrepared{Prepared: p, k: k}, nil
}

type brokenPrepared struct {
	kernels.Prepared
	k *brokenKernel
}

func (p *brokenPrepared) Kernel() kernels.Kernel { return p.k }
func (p *brokenPrepared) NewInput() kernels.Input {
	return &brokenInput{Input: p.Prepared.NewInput()}
}

type brokenInput struct{ kernels.Input }

func (in *brokenInput) GEMV(y []float32, r0, r1 int) error {
	if err := in.Input.GEMV(y, r0, r1); err != nil {
		return err
	}
	if r0 == 0 && r1 > 0 {
		y[0] += 1
	}
	return nil
}
