package gguf

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

// smallI2SFiles returns tiny files holding each I2_S flavor, for the fuzz corpus.
func smallI2SFiles(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	wl, _ := workloads.Generate(workloads.Spec{Rows: 2, Cols: 256, Codebook: kernels.Ternary, Seed: 1})
	bn, _ := PackBitnet(wl.M, 0.5)
	add := func(name string, fill func(w *Writer)) {
		w := NewWriter()
		w.Add("general.architecture", String("bitnet"))
		fill(w)
		var b bytesBuffer
		if _, err := w.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		out[name] = b
	}
	add("i2s-bitnet-cpp", func(w *Writer) { w.AddTensor("w", I2S, []uint64{256, 2}, bn) })
	add("i2s-seed", func(w *Writer) { w.AddTensor("w", I2S, []uint64{256, 2}, wl.M.Data) })
	add("i2s-split32", func(w *Writer) {
		w.AddTensor("w", I2S, []uint64{256, 2}, wl.M.Data)
		w.AddTensor("w.scale", F32, []uint64{16}, f32bytes(make([]float32, 16)...))
	})
	add("i2s-bitnet32f16", func(w *Writer) { w.AddTensor("w", I2S, []uint64{256, 2}, make([]byte, 160)) })
	add("tq2", func(w *Writer) { w.AddTensor("w", TQ20, []uint64{256, 2}, make([]byte, 132)) })
	return out
}

// TestWriteFuzzCorpus regenerates testdata/fuzz/FuzzOpen when
// QKBENCH_WRITE_CORPUS=1:
//
//	QKBENCH_WRITE_CORPUS=1 go test -run TestWriteFuzzCorpus ./gguf/
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("QKBENCH_WRITE_CORPUS") != "1" {
		t.Skip("set QKBENCH_WRITE_CORPUS=1 to rewrite testdata/fuzz/FuzzOpen")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzOpen")
	os.MkdirAll(dir, 0o755)
	write := func(name string, b []byte) {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range hostileCases() {
		write("hostile-"+strings.ReplaceAll(c.name, " ", "-"), c.b)
	}
	for name, b := range smallI2SFiles(t) {
		write(name, b)
	}
	b, _ := richFile(t, 3)
	write("rich-v3", b)
	b, _ = richFile(t, 2)
	write("rich-v2", b)
}

// TestCorpusFilesOpen checks the I2_S corpus files decode as intended, so
// the fuzzer starts from files that reach every decoder.
func TestCorpusFilesOpen(t *testing.T) {
	want := map[string]string{"i2s-bitnet-cpp": "bitnet-cpp", "i2s-seed": "seed", "i2s-split32": "Split32WithSibling", "i2s-bitnet32f16": "BitNet32F16"}
	for name, b := range smallI2SFiles(t) {
		f, err := OpenBytes(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ti, _ := f.Tensor("w")
		if ti.Type != I2S {
			continue
		}
		l, err := f.DetectI2S(ti, Options{})
		if err != nil || (l.Reading.String() != want[name] && l.Flavor.String() != want[name]) {
			t.Errorf("%s: %+v %v", name, l, err)
		}
	}
}
