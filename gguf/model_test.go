package gguf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

func TestModelWorkloadsSkipsAndErrors(t *testing.T) {
	dir := t.TempDir()
	wl, _ := workloads.Generate(workloads.Spec{Rows: 3, Cols: 256, Codebook: kernels.QK256, Seed: 2})
	w := NewWriter()
	w.AddTensor("seed.weight", I2S, []uint64{256, 3}, wl.M.Data)
	w.AddTensor("split.weight", I2S, []uint64{256, 3}, wl.M.Data)
	w.AddTensor("split.weight.scales", F32, []uint64{24}, f32bytes(blockScales(768, false)...))
	w.AddTensor("norm", F32, []uint64{4}, f32bytes(1, 2, 3, 4))
	path := filepath.Join(dir, "mixed.gguf")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	var skipped []string
	ws, closeFn, err := ModelWorkloads(path, ModelOptions{All: true, Seed: 5, OnSkip: func(name string, err error) {
		skipped = append(skipped, name+": "+err.Error())
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	if len(ws) != 1 || ws[0].Name != "seed.weight" || len(skipped) != 1 || !strings.Contains(skipped[0], "cannot become one QK256 matrix") {
		t.Fatalf("workloads %d (%v), skipped %q", len(ws), ws, skipped)
	}
	if !strings.Contains(ws[0].Source, path) || !strings.Contains(ws[0].Source, "flavor=GgmlQk256NoScale reading=seed") {
		t.Errorf("source %q", ws[0].Source)
	}
	x, _ := workloads.GenerateX(256, workloads.Gaussian, 5)
	for i := range x {
		if x[i] != ws[0].X[i] {
			t.Fatal("x is not GenerateX(cols, gaussian, seed)")
		}
	}
	if string(ws[0].M.Data) != string(wl.M.Data) {
		t.Error("weights differ")
	}

	// Only unusable tensors: an error that says why.
	w = NewWriter()
	w.AddTensor("split.weight", I2S, []uint64{256, 3}, wl.M.Data)
	w.AddTensor("split.weight.scale", F32, []uint64{24}, f32bytes(blockScales(768, false)...))
	bad := filepath.Join(dir, "bad.gguf")
	w.WriteFile(bad)
	if _, _, err := ModelWorkloads(bad, ModelOptions{}); err == nil || !strings.Contains(err.Error(), "no tensor could become") || !strings.Contains(err.Error(), "split.weight") {
		t.Errorf("unusable model: %v", err)
	}
	// No 2-bit tensors at all.
	w = NewWriter()
	w.AddTensor("norm", F32, []uint64{4}, f32bytes(1, 2, 3, 4))
	none := filepath.Join(dir, "none.gguf")
	w.WriteFile(none)
	if _, _, err := ModelWorkloads(none, ModelOptions{}); err == nil || !strings.Contains(err.Error(), "no I2_S or TQ2_0") {
		t.Errorf("float-only model: %v", err)
	}
	os.WriteFile(bad, []byte("GGUF"), 0o644)
	if _, _, err := ModelWorkloads(bad, ModelOptions{}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("broken file: %v", err)
	}
}
