// Package all links every kernel backend into a program: import it for its
// side effects (each backend registers its kernels in package kernels).
package all

import (
	_ "github.com/qkbench/qkbench/kernels/amd64"
	_ "github.com/qkbench/qkbench/kernels/arm64"
	_ "github.com/qkbench/qkbench/kernels/cgo"
	_ "github.com/qkbench/qkbench/kernels/scalar"
)
