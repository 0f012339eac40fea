package gguf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

// bitnetFile writes I2_S tensors in the bitnet-cpp reading, with the
// ReadingKey when withKey, and returns the file's bytes.
func bitnetFile(t *testing.T, withKey bool, shapes ...[2]int) []byte {
	t.Helper()
	w := NewWriter()
	if withKey {
		w.Add(ReadingKey, String("bitnet-cpp"))
	}
	for i, s := range shapes {
		wl, err := workloads.Generate(workloads.Spec{Rows: s[0], Cols: s[1], Codebook: kernels.Ternary, Seed: uint64(i + 1)})
		if err != nil {
			t.Fatal(err)
		}
		b, err := PackBitnet(wl.M, 0.75)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddTensor("blk."+string(rune('0'+i))+".w", I2S, []uint64{uint64(s[1]), uint64(s[0])}, b); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A bitnet-cpp file cut by 1..32 bytes: its last tensor fits the seed
// reading (32 bytes smaller) and used to be read that way, with other
// weights. Through the key, the other tensors, or the tensor scale left
// where seed sees padding, the cut is found.
func TestCutFileIsAnError(t *testing.T) {
	cases := []struct {
		name   string
		b      []byte
		maxCut int // cuts up to this are found
	}{
		{"key", bitnetFile(t, true, [2]int{16, 512}, [2]int{8, 1024}), 32},
		{"other tensors", bitnetFile(t, false, [2]int{16, 512}, [2]int{8, 1024}), 32},
		// Alone and without a key only the tensor scale tells: a cut
		// through the scale (29..32 bytes) leaves a valid seed tensor.
		{"scale", bitnetFile(t, false, [2]int{8, 1024}), 28},
	}
	dir := t.TempDir()
	for _, c := range cases {
		for cut := 1; cut <= c.maxCut; cut++ {
			p := filepath.Join(dir, "cut.gguf")
			if err := os.WriteFile(p, c.b[:len(c.b)-cut], 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			last := &f.Tensors[len(f.Tensors)-1]
			l, err := f.DetectI2S(last, Options{})
			if !errors.Is(err, ErrDamaged) {
				t.Errorf("%s, cut by %d: DetectI2S = %s/%s, %v; want ErrDamaged", c.name, cut, l.Flavor, l.Reading, err)
			}
			// Forcing a reading still reads it.
			if _, err := f.DetectI2S(last, Options{Flavor: GgmlQk256NoScale, Reading: ReadingSeed}); err != nil {
				t.Errorf("%s, cut by %d: forced seed: %v", c.name, cut, err)
			}
			f.Close()
			if _, _, err := ModelWorkloads(p, ModelOptions{}); !errors.Is(err, ErrDamaged) {
				t.Errorf("%s, cut by %d: ModelWorkloads: %v, want ErrDamaged", c.name, cut, err)
			}
		}
		// The whole file reads as bitnet-cpp without complaint.
		f, err := OpenBytes(c.b)
		if err != nil {
			t.Fatal(err)
		}
		for i := range f.Tensors {
			if l, err := f.DetectI2S(&f.Tensors[i], Options{}); err != nil || l.Reading != ReadingBitnetCpp {
				t.Errorf("%s, whole file: %s: %s, %v", c.name, f.Tensors[i].Name, l.Reading, err)
			}
		}
	}
}

// A reading key that names no reading is an error, not ignored.
func TestReadingKeyMustBeAReading(t *testing.T) {
	w := NewWriter()
	w.Add(ReadingKey, String("bitnet"))
	w.AddTensor("w", I2S, []uint64{256, 2}, make([]byte, 128))
	var buf bytes.Buffer
	w.WriteTo(&buf)
	f, err := OpenBytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.DetectI2S(&f.Tensors[0], Options{}); err == nil || !strings.Contains(err.Error(), ReadingKey) {
		t.Fatalf("DetectI2S: %v, want an error naming %s", err, ReadingKey)
	}
}
