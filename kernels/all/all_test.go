package all

import (
	"testing"

	"github.com/qkbench/qkbench/kernels"
)

// TestRequired: with every backend linked in, each kernel QKBENCH_REQUIRE
// names is registered and usable here. The backends' own tests enforce it
// for their kernels; this one also catches an id nobody registers (a typo,
// or a kernel left out of this build).
func TestRequired(t *testing.T) {
	if err := kernels.CheckRequired(); err != nil {
		t.Fatal(err)
	}
}
