package gguf

import (
	"os"
	"reflect"
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
