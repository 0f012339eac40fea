//go:build !goexperiment.simd || !amd64 || purego

package amd64

import (
	"errors"
	"runtime"

	"github.com/qkbench/qkbench/kernels"
)

// Available explains why archsimd-i8 cannot run in this build: it exists
// only with GOEXPERIMENT=simd on amd64, without the purego tag.
func (k *simdKernel) Available() error {
	switch {
	case runtime.GOARCH != "amd64":
		return errors.New("needs amd64 (this build is GOARCH=" + runtime.GOARCH + ") and GOEXPERIMENT=simd")
	case !asmBuilt:
		return errors.New("disabled by the purego build tag")
	}
	return errors.New("built without GOEXPERIMENT=simd (simd/archsimd is needed; build or test with GOEXPERIMENT=simd)")
}

// Prepare always fails here (CheckPrepare reports Available's reason).
func (k *simdKernel) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if err := kernels.CheckPrepare(k, m); err != nil {
		return nil, err
	}
	return nil, errors.New("kernels: archsimd-i8: unavailable in this build")
}
