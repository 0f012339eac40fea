//go:build !cgo || !linux || purego

package plugin

import (
	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/internal/dl"
)

func open(lib *kernels.Library) ([]kernels.Kernel, error) {
	return nil, &Error{Library: lib.Path, Err: dl.Available}
}
