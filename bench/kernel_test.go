package bench

import (
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/reports"
	"github.com/qkbench/qkbench/workloads"
)

type panicky struct {
	kernels.Base
	where string
}

func (k *panicky) Available() error { return nil }

func (k *panicky) Supports(cb kernels.Codebook) error {
	if k.where == "supports" {
		panic("no idea")
	}
	return nil
}

func (k *panicky) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if k.where == "prepare" {
		panic("out of cheese")
	}
	return nil, nil
}

// A Prepare that panicked ended a sweep (it runs on a goroutine of its
// own so that Ctrl-C can interrupt it); check recovered it with code of its
// own. Both now go through Prepare and Runnable.
func TestPrepareAndRunnableRecover(t *testing.T) {
	w, err := workloads.Generate(workloads.SpecFor(workloads.Shape{Rows: 4, Cols: 256}, kernels.Ternary, 1))
	if err != nil {
		t.Fatal(err)
	}
	info := kernels.Info{ID: "panicky-i8", Backend: "test", ISA: "go", Mode: kernels.I8}
	if _, err := Prepare(&panicky{kernels.Base{I: info}, "prepare"}, w.M); err == nil || !strings.Contains(err.Error(), "Prepare panicked: out of cheese") {
		t.Errorf("Prepare: %v", err)
	}
	if _, err := Prepare(&panicky{kernels.Base{I: info}, ""}, w.M); err == nil || !strings.Contains(err.Error(), "neither") {
		t.Errorf("Prepare returning nil, nil: %v", err)
	}
	if st, why := Runnable(&panicky{kernels.Base{I: info}, "supports"}, kernels.Ternary); st != reports.StatusUnsupported || !strings.Contains(why, "Supports panicked") {
		t.Errorf("Runnable: %s %s", st, why)
	}
}
