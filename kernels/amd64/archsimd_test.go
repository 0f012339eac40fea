package amd64

import (
	"testing"

	"github.com/qkbench/qkbench/kernels/kerneltest"
)

// TestArchsimdI8 runs the conformance suite on archsimd-i8. Without
// GOEXPERIMENT=simd (or on another GOARCH, or with purego) it is skipped as
// unavailable after the suite checks that Prepare refuses it, unless
// QKBENCH_REQUIRE names it.
func TestArchsimdI8(t *testing.T) { kerneltest.Run(t, ArchsimdI8) }
