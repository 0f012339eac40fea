//go:build !goexperiment.simd || !amd64 || purego

package amd64

import (
	"runtime"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels"
)

// TestArchsimdUnavailable: in a build without GOEXPERIMENT=simd (or on
// another GOARCH, or with purego) archsimd-i8 is registered, says why it
// cannot run, and Prepare refuses it.
func TestArchsimdUnavailable(t *testing.T) {
	if _, err := kernels.Lookup(ArchsimdI8.Info().ID); err != nil {
		t.Fatalf("archsimd-i8 is not registered: %v", err)
	}
	err := ArchsimdI8.Available()
	if err == nil {
		t.Fatal("archsimd-i8 reports itself available in a build without it")
	}
	want := "GOEXPERIMENT=simd"
	if runtime.GOARCH == "amd64" && !asmBuilt {
		want = "purego"
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("Available() = %q, want a reason naming %s", err, want)
	}
	m, merr := kernels.NewMatrix(3, 5, kernels.Ternary, 1)
	if merr != nil {
		t.Fatal(merr)
	}
	if p, perr := ArchsimdI8.Prepare(m); perr == nil || p != nil {
		t.Fatalf("Prepare = %v, %v; want an error", p, perr)
	}
}
