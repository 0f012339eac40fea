package bench

import (
	"fmt"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/reports"
)

// Runnable says whether k can compute with codebook cb here: "" when it
// can, else reports.StatusUnavailable (the kernel cannot run on this
// machine or build) or reports.StatusUnsupported (it does not compute with
// cb), with the reason. The sweep, check and the benchmarks all ask it.
func Runnable(k kernels.Kernel, cb kernels.Codebook) (status, reason string) {
	if err := kernels.Usable(k); err != nil {
		return reports.StatusUnavailable, err.Error()
	}
	if err := supports(k, cb); err != nil {
		return reports.StatusUnsupported, err.Error()
	}
	return "", ""
}

// supports calls k.Supports, turning a panic into an error.
func supports(k kernels.Kernel, cb kernels.Codebook) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%s: Supports panicked: %v", k.Info().ID, v)
		}
	}()
	return k.Supports(cb)
}

// Prepare calls k.Prepare, turning a panic into an error: a broken kernel
// fails its cells, it does not end the run.
func Prepare(k kernels.Kernel, m *kernels.Matrix) (p kernels.Prepared, err error) {
	defer func() {
		if v := recover(); v != nil {
			p, err = nil, fmt.Errorf("%s: Prepare panicked: %v", k.Info().ID, v)
		}
	}()
	p, err = k.Prepare(m)
	if err == nil && p == nil {
		err = fmt.Errorf("%s: Prepare returned neither a matrix nor an error", k.Info().ID)
	}
	return p, err
}

// DescribeKernel is k as a receipt records it: what it is, what computes,
// and whether it can run here (with the reason when not).
func DescribeKernel(k kernels.Kernel) reports.KernelInfo {
	i := k.Info()
	ki := reports.KernelInfo{ID: i.ID, Backend: i.Backend, ISA: i.ISA, Mode: i.Mode.String(), Code: i.Code, Available: true,
		Required: Required(i.ID)}
	if i.Library != nil {
		ki.Library, ki.LibrarySHA256 = i.Library.Path, i.Library.SHA256
	}
	if err := kernels.Usable(k); err != nil {
		ki.Available, ki.Reason = false, err.Error()
	}
	return ki
}
