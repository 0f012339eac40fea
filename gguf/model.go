package gguf

import (
	"errors"
	"fmt"

	"github.com/qkbench/qkbench/workloads"
)

// ModelOptions says which of a model's tensors become workloads.
type ModelOptions struct {
	// All makes every decodable weight matrix a workload; by default each
	// distinct rows×cols shape appears once (its first tensor in file order).
	All bool
	// Seed and Activations choose the generated x (workloads.GenerateX);
	// Activations "" means Gaussian.
	Seed        uint64
	Activations workloads.Activations
	// I2S forces an I2_S flavor and reading for every I2_S tensor.
	I2S Options
	// OnSkip, if set, hears about each 2-D weight tensor that cannot become
	// one QK256 matrix (per-block scales that differ, a bad size, ...).
	OnSkip func(tensor string, err error)
}

// ModelWorkloads opens a GGUF model and returns its own 2-bit weight matrices
// (I2_S and TQ2_0 tensors with two or more dims) as workloads with real
// weights and generated activations. A tensor whose data are cut or
// inconsistent (ErrDamaged) fails the whole call; one that cannot become a
// QK256 matrix is skipped. Workload.Name is the tensor name and
// Source names the file and tensor. close releases the file: the matrices of
// the seed reading are views of the mapped file, so call close only when done
// with the workloads. A model with no usable matrix is an error that says
// why each candidate was skipped.
func ModelWorkloads(path string, opt ModelOptions) ([]*workloads.Workload, func() error, error) {
	f, err := Open(path)
	if err != nil {
		return nil, nil, err
	}
	if opt.Activations == "" {
		opt.Activations = workloads.Gaussian
	}
	// Every I2_S tensor is checked, not only the ones that become
	// workloads: a cut file is an error even when the cut tensor's shape
	// was already taken.
	for i := range f.Tensors {
		if t := &f.Tensors[i]; t.Type == I2S {
			if _, err := f.DetectI2S(t, opt.I2S); errors.Is(err, ErrDamaged) {
				f.Close()
				return nil, nil, fmt.Errorf("gguf: %s: %w", path, err)
			}
		}
	}
	var out []*workloads.Workload
	var skipped []error
	seen := map[[2]int64]bool{}
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if (t.Type != I2S && t.Type != TQ20) || len(t.Dims) < 2 {
			continue
		}
		shape := [2]int64{t.Rows(), t.Cols()}
		if !opt.All && seen[shape] {
			continue
		}
		m, l, err := f.DecodeMatrix(t, opt.I2S)
		if err != nil {
			skipped = append(skipped, err)
			if opt.OnSkip != nil {
				opt.OnSkip(t.Name, err)
			}
			continue
		}
		seen[shape] = true
		x, err := workloads.GenerateX(m.Cols, opt.Activations, opt.Seed)
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		layout := t.Type.String()
		if t.Type == I2S {
			layout = fmt.Sprintf("I2_S flavor=%s reading=%s", l.Flavor, l.Reading)
		}
		out = append(out, &workloads.Workload{
			Name: t.Name, M: m, X: x,
			Source: fmt.Sprintf("gguf: file=%s tensor=%s type=%s codebook=%s scale=%g activations=%s seed=%d",
				path, t.Name, layout, m.Codebook.Name(), m.Scale, opt.Activations, opt.Seed),
		})
	}
	if len(out) == 0 {
		f.Close()
		if len(skipped) > 0 {
			return nil, nil, fmt.Errorf("gguf: %s: no tensor could become a QK256 matrix: %w", path, errors.Join(skipped...))
		}
		return nil, nil, fmt.Errorf("gguf: %s: no I2_S or TQ2_0 weight matrix in the file (%d tensors)", path, len(f.Tensors))
	}
	return out, f.Close, nil
}
