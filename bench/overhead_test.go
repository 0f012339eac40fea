package bench

import (
	"fmt"
	"testing"

	"github.com/qkbench/qkbench/kernels"
)

// noop is a kernel that does no work: timing it through a Runner measures
// the Runner's own cost per GEMV (dispatch and wake-up of the workers).
type noop struct{ kernels.Base }

func (k *noop) Available() error { return nil }
func (k *noop) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if err := kernels.CheckPrepare(k, m); err != nil {
		return nil, err
	}
	return &noopPrepared{k, m}, nil
}

type noopPrepared struct {
	k *noop
	m *kernels.Matrix
}

func (p *noopPrepared) Kernel() kernels.Kernel  { return p.k }
func (p *noopPrepared) Matrix() *kernels.Matrix { return p.m }
func (p *noopPrepared) NewInput() kernels.Input { return noopInput{} }

type noopInput struct{}

func (noopInput) Load([]float32) error               { return nil }
func (noopInput) GEMV(y []float32, r0, r1 int) error { return nil }

// BenchmarkRunnerOverhead is the fixed cost a Runner adds to each GEMV.
func BenchmarkRunnerOverhead(b *testing.B) {
	k := &noop{kernels.Base{I: kernels.Info{ID: "noop-f32", Mode: kernels.F32}}}
	m, err := kernels.NewMatrix(256, 256, kernels.QK256, 1)
	if err != nil {
		b.Fatal(err)
	}
	p, _ := k.Prepare(m)
	x, y := make([]float32, 256), make([]float32, 256)
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("threads=%d", n), func(b *testing.B) {
			r, err := NewRunner(p, n)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			for b.Loop() {
				if err := r.GEMV(x, y); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
