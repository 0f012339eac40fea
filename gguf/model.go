package gguf

import (
	"errors"
	"fmt"

	"github.com/qkbench/qkbench/kernels"
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

// ModelMatrix is one weight matrix of a model that can become a workload.
// Its description is known without holding the matrix: Load decodes it (and
// generates x) when it is needed, so that a sweep holds one at a time.
type ModelMatrix struct {
	Name       string // the tensor name
	Rows, Cols int
	Codebook   kernels.Codebook
	Scale      float32
	Source     string // the file and tensor, for receipts
	// Load decodes the matrix and generates x; the matrix may be a view of
	// the mapped file, valid until the plan's close.
	Load func() (*workloads.Workload, error)
}

// ModelPlan opens a GGUF model and lists its own 2-bit weight matrices (I2_S
// and TQ2_0 tensors with two or more dims) as workloads with real weights
// and generated activations, each decoded once to check it and then
// dropped: Load decodes it again. A tensor whose data are cut or
// inconsistent (ErrDamaged) fails the whole call; one that cannot become a
// QK256 matrix is skipped. close releases the file; call it only when done
// with every workload. A model with no usable matrix is an error that says
// why each candidate was skipped.
func ModelPlan(path string, opt ModelOptions) ([]ModelMatrix, func() error, error) {
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
	var out []ModelMatrix
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
		layout := t.Type.String()
		if t.Type == I2S {
			layout = fmt.Sprintf("I2_S flavor=%s reading=%s", l.Flavor, l.Reading)
		}
		mm := ModelMatrix{Name: t.Name, Rows: m.Rows, Cols: m.Cols, Codebook: m.Codebook, Scale: m.Scale,
			Source: fmt.Sprintf("gguf: file=%s tensor=%s type=%s codebook=%s scale=%g activations=%s seed=%d",
				path, t.Name, layout, m.Codebook.Name(), m.Scale, opt.Activations, opt.Seed)}
		mm.Load = func() (*workloads.Workload, error) {
			m, _, err := f.DecodeMatrix(t, opt.I2S)
			if err != nil {
				return nil, err
			}
			x, err := workloads.GenerateX(m.Cols, opt.Activations, opt.Seed)
			if err != nil {
				return nil, err
			}
			return &workloads.Workload{Name: mm.Name, M: m, X: x, Source: mm.Source}, nil
		}
		out = append(out, mm)
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

// ModelWorkloads is ModelPlan with every matrix loaded at once (tests, small
// models). Workload.Name is the tensor name and Source names the file and
// tensor.
func ModelWorkloads(path string, opt ModelOptions) ([]*workloads.Workload, func() error, error) {
	plan, closeFn, err := ModelPlan(path, opt)
	if err != nil {
		return nil, nil, err
	}
	var out []*workloads.Workload
	for _, mm := range plan {
		w, err := mm.Load()
		if err != nil {
			closeFn()
			return nil, nil, err
		}
		out = append(out, w)
	}
	return out, closeFn, nil
}
