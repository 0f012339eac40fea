package gguf

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestHuggingFaceWriterFixtures reads files written by an independent writer,
// the npm package @huggingface/gguf 0.4.6 (serializeGgufMetadata); see
// testdata/hfgguf/make.mjs for the exact command. The values below are the
// ones that script asks for.
func TestHuggingFaceWriterFixtures(t *testing.T) {
	want := []KV{
		{"general.architecture", String("bitnet")},
		{"general.name", String("hf-gguf fixture ü")},
		{"t.u8", Uint8(200)}, {"t.i8", Int8(-100)},
		{"t.u16", Uint16(60000)}, {"t.i16", Int16(-30000)},
		{"t.u32", Uint32(4000000000)}, {"t.i32", Int32(-2000000000)},
		{"t.f32", Float32(1.5)}, {"t.bool", Bool(true)},
		{"t.u64", Uint64(18000000000000000000)}, {"t.i64", Int64(-9000000000000000000)},
		{"t.f64", Float64(-2.25)}, {"t.empty", String("")},
		{"t.tokens", Strings("<s>", "</s>", "hello", "wörld")},
		{"t.scores", Array(TypeFloat32, Float32(0.5), Float32(-1.25), Float32(3))},
		{"t.ids", Array(TypeInt32, Int32(1), Int32(2), Int32(3), Int32(4), Int32(5))},
		{"t.flags", Array(TypeBool, Bool(true), Bool(false))},
		{"t.none", Array(TypeUint16)},
		{"bitnet.block_count", Uint32(30)},
	}
	for _, v := range []uint32{2, 3} {
		path := map[uint32]string{2: "testdata/hfgguf/meta-v2.gguf", 3: "testdata/hfgguf/meta-v3.gguf"}[v]
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if f.Version != v || len(f.Tensors) != 0 {
			t.Fatalf("%s: version %d, %d tensors", path, f.Version, len(f.Tensors))
		}
		if !reflect.DeepEqual(f.Metadata, want) {
			t.Fatalf("%s:\n got %v\nwant %v", path, f.Metadata, want)
		}
		// Our writer produces the same bytes for the same metadata (the
		// package pads the header to 32 bytes even with no tensors; we don't).
		w := NewWriter()
		w.Version = v
		for _, kv := range want {
			if err := w.Add(kv.Key, kv.Value); err != nil {
				t.Fatal(err)
			}
		}
		var b bytesBuffer
		if _, err := w.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		theirs, _ := os.ReadFile(path)
		if len(theirs) < len(b) || !reflect.DeepEqual(theirs[:len(b)], []byte(b)) {
			t.Fatalf("%s: our writer's bytes differ from the independent writer's", path)
		}
		for _, c := range theirs[len(b):] {
			if c != 0 {
				t.Fatalf("%s: non-zero padding", path)
			}
		}
		f.Close()
	}
}

type bytesBuffer []byte

func (b *bytesBuffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

// TestGGMLWriterFixture reads a file written by ggml's own GGUF writer
// (libggml-base.so from the npm package @node-llama-cpp/linux-x64@3.21.1;
// see testdata/ggml/make.c for the exact commands): metadata, tensor
// layout and data (ggml drops trailing dims of 1), F16 values from ggml's fp32->fp16 and TQ2_0 decoding.
func TestGGMLWriterFixture(t *testing.T) {
	f, err := Open("testdata/ggml/ggml-written.gguf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := []KV{
		{"general.architecture", String("bitnet")},
		{"t.u8", Uint8(200)}, {"t.i8", Int8(-100)},
		{"t.u16", Uint16(60000)}, {"t.i16", Int16(-30000)},
		{"t.u32", Uint32(4000000000)}, {"t.i32", Int32(-2000000000)},
		{"t.f32", Float32(1.5)},
		{"t.u64", Uint64(18000000000000000000)}, {"t.i64", Int64(-9000000000000000000)},
		{"t.f64", Float64(-2.25)}, {"t.bool", Bool(true)},
		{"t.tokens", Strings("<s>", "</s>", "hello", "wörld")},
		{"t.ids", Array(TypeInt32, Int32(1), Int32(-2), Int32(3))},
		{"t.scores", Array(TypeFloat32, Float32(0.5), Float32(-1.25))},
	}
	if f.Version != 3 || !reflect.DeepEqual(f.Metadata, want) {
		t.Fatalf("v%d metadata:\n got %v\nwant %v", f.Version, f.Metadata, want)
	}
	type ti struct {
		name  string
		typ   TensorType
		dims  []uint64
		off   uint64
		size  int64
		avail int64
	}
	wantT := []ti{
		{"a.f32", F32, []uint64{3, 2}, 0, 24, 32},
		{"b.f16", F16, []uint64{6}, 32, 12, 32},
		{"c.q8_0", 8, []uint64{64}, 64, 68, 96},
		{"d.tq2_0", TQ20, []uint64{256, 2}, 160, 132, f.Size - f.DataOffset - 160},
	}
	for i, w := range wantT {
		g := f.Tensors[i]
		if g.Name != w.name || g.Type != w.typ || !reflect.DeepEqual(g.Dims, w.dims) || g.Offset != w.off || g.Size != w.size || g.Available != w.avail {
			t.Errorf("tensor %d: got %s %s %v off %d size %d avail %d, want %+v", i, g.Name, g.Type, g.Dims, g.Offset, g.Size, g.Available, w)
		}
	}
	dec := func(name string) []float32 {
		ti, _ := f.Tensor(name)
		w, _, _, err := f.DecodeFloat(ti, Options{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	if got := dec("a.f32"); !reflect.DeepEqual(got, []float32{1, 2, 3, -4, 5.5, 6}) {
		t.Errorf("a.f32 = %v", got)
	}
	if got := dec("b.f16"); !reflect.DeepEqual(got, []float32{-2.5, -1.5, -0.5, 0.5, 1.5, Float16(ToFloat16(1.0 / 3))}) || got[5] != 0.33325195 {
		t.Errorf("b.f16 = %v", got)
	}
	tq := dec("d.tq2_0")
	for e, v := range tq {
		if want := float32((e*5/3)%4-1) * 0.5; v != want {
			t.Fatalf("d.tq2_0[%d] = %g, want %g", e, v, want)
		}
	}
	q8, _ := f.Tensor("c.q8_0")
	data, _ := f.TensorData(q8)
	for i := 0; i < 68; i++ {
		if data[i] != byte(7*i) {
			t.Fatalf("c.q8_0 byte %d = %d", i, data[i])
		}
	}
	// ggml's reader rejects this one too: offsets laid out at 32, alignment 64.
	_, err = Open("testdata/ggml/ggml-align64-bad.gguf")
	if err == nil || !strings.Contains(err.Error(), `tensor "b.f16": data offset 0x20 is not a multiple of the alignment 64`) {
		t.Errorf("misaligned ggml file: %v", err)
	}
}
