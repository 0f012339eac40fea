package gguf

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	parser "github.com/gpustack/gguf-parser-go"
)

// richKVs covers every value type, arrays of strings and nested arrays.
func richKVs() []KV {
	return []KV{
		{"general.architecture", String("bitnet")},
		{"general.alignment", Uint32(64)},
		{"u8", Uint8(250)}, {"i8", Int8(-7)},
		{"u16", Uint16(65000)}, {"i16", Int16(-32000)},
		{"u32", Uint32(4e9)}, {"i32", Int32(-2e9)},
		{"u64", Uint64(1 << 63)}, {"i64", Int64(-1 << 62)},
		{"f32", Float32(3.25)}, {"f64", Float64(-1e300)},
		{"bool", Bool(true)}, {"str", String("héllo")}, {"empty", String("")},
		{"tokens", Strings("<s>", "</s>", "a b", "")},
		{"ints", Array(TypeInt32, Int32(1), Int32(-2), Int32(3))},
		{"nested", Array(TypeArray, Array(TypeUint8, Uint8(1), Uint8(2)), Array(TypeUint8), Array(TypeUint8, Uint8(9)))},
		{"deep", Array(TypeArray, Array(TypeArray, Strings("x", "yz")))},
		{"none", Array(TypeFloat64)},
	}
}

func f32bytes(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// richFile writes a file with every metadata type and a few tensors.
func richFile(t testing.TB, version uint32) ([]byte, *Writer) {
	t.Helper()
	w := NewWriter()
	w.Version = version
	for _, kv := range richKVs() {
		if err := w.Add(kv.Key, kv.Value); err != nil {
			t.Fatal(err)
		}
	}
	q8 := make([]byte, 2*34)
	for i := range q8 {
		q8[i] = byte(i * 7)
	}
	f16 := make([]byte, 6*2)
	for i := 0; i < 6; i++ {
		binary.LittleEndian.PutUint16(f16[2*i:], ToFloat16(float32(i)-2.5))
	}
	tensors := []struct {
		name string
		typ  TensorType
		dims []uint64
		data []byte
	}{
		{"a.f32", F32, []uint64{3, 2}, f32bytes(1, 2, 3, -4, 5.5, 6)},
		{"b.f16", F16, []uint64{6}, f16},
		{"c.q8_0", 8, []uint64{64}, q8},
		{"d.tq2", TQ20, []uint64{256, 1}, make([]byte, 66)},
		{"e.f32.3d", F32, []uint64{1, 2, 2}, f32bytes(1, 2, 3, 4)},
	}
	for _, tt := range tensors {
		if err := w.AddTensor(tt.name, tt.typ, tt.dims, tt.data); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w
}

func checkRich(t *testing.T, f *File, w *Writer, version uint32) {
	t.Helper()
	if f.Version != version || f.Alignment != 64 {
		t.Fatalf("version %d alignment %d, want %d and 64", f.Version, f.Alignment, version)
	}
	if !reflect.DeepEqual(f.Metadata, w.kvs) {
		t.Fatalf("metadata differs:\n got %v\nwant %v", f.Metadata, w.kvs)
	}
	if len(f.Tensors) != len(w.tensors) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(w.tensors))
	}
	for i, wt := range w.tensors {
		ti := &f.Tensors[i]
		if ti.Name != wt.name || ti.Type != wt.typ || !reflect.DeepEqual(ti.Dims, wt.dims) {
			t.Fatalf("tensor %d: got %s %s %v, want %s %s %v", i, ti.Name, ti.Type, ti.Dims, wt.name, wt.typ, wt.dims)
		}
		if ti.Start%64 != 0 {
			t.Errorf("tensor %s starts at %d, not aligned to 64", ti.Name, ti.Start)
		}
		d, err := f.TensorData(ti)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(wt.data)) != ti.Size || !bytes.Equal(d[:ti.Size], wt.data) {
			t.Fatalf("tensor %s data differs", ti.Name)
		}
	}
	if v, ok := f.KV("nested"); !ok || len(v.Items) != 3 || v.Items[2].Items[0].Uint != 9 {
		t.Fatalf("nested = %v", v)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, version := range []uint32{2, 3} {
		b, w := richFile(t, version)
		f, err := OpenBytes(b)
		if err != nil {
			t.Fatalf("v%d: %v", version, err)
		}
		checkRich(t, f, w, version)
		f2, err := OpenReaderAt(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if f2.Mapped() {
			t.Fatal("OpenReaderAt claims mapped data")
		}
		checkRich(t, f2, w, version)
		path := filepath.Join(t.TempDir(), "x.gguf")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		f3, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		checkRich(t, f3, w, version)
		if err := f3.Close(); err != nil {
			t.Fatal(err)
		}
		// Decoding through each source agrees.
		for _, ff := range []*File{f, f2} {
			ti, _ := ff.Tensor("a.f32")
			got, r, c, err := ff.DecodeFloat(ti, Options{}, 0)
			if err != nil || r != 2 || c != 3 || !reflect.DeepEqual(got, []float32{1, 2, 3, -4, 5.5, 6}) {
				t.Fatalf("DecodeFloat a.f32 = %v %dx%d %v", got, r, c, err)
			}
			ti, _ = ff.Tensor("b.f16")
			got, _, _, err = ff.DecodeFloat(ti, Options{}, 0)
			if err != nil || !reflect.DeepEqual(got, []float32{-2.5, -1.5, -0.5, 0.5, 1.5, 2.5}) {
				t.Fatalf("DecodeFloat b.f16 = %v %v", got, err)
			}
		}
	}
}

// TestIndependentReader reads our files with github.com/gpustack/gguf-parser-go.
func TestIndependentReader(t *testing.T) {
	for _, version := range []uint32{2, 3} {
		b, w := richFile(t, version)
		path := filepath.Join(t.TempDir(), "rich.gguf")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		pf, err := parser.ParseGGUFFile(path)
		if err != nil {
			t.Fatalf("gguf-parser-go: %v", err)
		}
		if uint32(pf.Header.Version) != version || pf.Header.TensorCount != uint64(len(w.tensors)) || pf.Header.MetadataKVCount != uint64(len(w.kvs)) {
			t.Fatalf("header: %+v", pf.Header)
		}
		for i, kv := range w.kvs {
			pkv := pf.Header.MetadataKV[i]
			if pkv.Key != kv.Key || uint32(pkv.ValueType) != uint32(kv.Value.Type) {
				t.Fatalf("kv %d: %s %v, want %s %v", i, pkv.Key, pkv.ValueType, kv.Key, kv.Value.Type)
			}
			if got := fromParser(pkv.Value); !reflect.DeepEqual(got, toPlain(kv.Value)) {
				t.Errorf("kv %s: gguf-parser-go read %#v, want %#v", kv.Key, got, toPlain(kv.Value))
			}
		}
		for i, wt := range w.tensors {
			pt := pf.TensorInfos[i]
			f, _ := OpenBytes(b)
			ti := &f.Tensors[i]
			if pt.Name != wt.name || uint32(pt.Type) != uint32(wt.typ) || !reflect.DeepEqual(pt.Dimensions, wt.dims) || pt.Offset != ti.Offset {
				t.Fatalf("tensor %d: gguf-parser-go read %s %v %v @%d, want %s %v %v @%d", i, pt.Name, pt.Type, pt.Dimensions, pt.Offset, wt.name, wt.typ, wt.dims, ti.Offset)
			}
			if pt.Bytes() != uint64(len(wt.data)) {
				t.Errorf("tensor %s: gguf-parser-go size %d, want %d", wt.name, pt.Bytes(), len(wt.data))
			}
		}
		if pf.Size != 0 && int64(pf.Size) != int64(len(b)) {
			t.Logf("gguf-parser-go size %d vs %d", pf.Size, len(b))
		}
	}
}

// toPlain turns a Value into the plain Go values gguf-parser-go uses.
func toPlain(v Value) any {
	switch v.Type {
	case TypeUint8:
		return uint8(v.Uint)
	case TypeInt8:
		return int8(v.Int)
	case TypeUint16:
		return uint16(v.Uint)
	case TypeInt16:
		return int16(v.Int)
	case TypeUint32:
		return uint32(v.Uint)
	case TypeInt32:
		return int32(v.Int)
	case TypeUint64:
		return v.Uint
	case TypeInt64:
		return v.Int
	case TypeFloat32:
		return float32(v.Float)
	case TypeFloat64:
		return v.Float
	case TypeBool:
		return v.Bool
	case TypeString:
		return v.Str
	}
	items := []any{}
	for _, it := range v.Items {
		items = append(items, toPlain(it))
	}
	return items
}

func fromParser(v any) any {
	if av, ok := v.(parser.GGUFMetadataKVArrayValue); ok {
		items := []any{}
		for _, it := range av.Array {
			items = append(items, fromParser(it))
		}
		return items
	}
	return v
}

// TestTypeTableMatchesIndependent compares our ggml block geometry with
// gguf-parser-go's for every type we know except I2_S (36 is a different,
// deprecated type upstream).
func TestTypeTableMatchesIndependent(t *testing.T) {
	for id, ti := range ggmlTypes {
		if id == I2S {
			continue
		}
		tr, ok := parser.GGMLType(id).Trait()
		if !ok || int64(tr.BlockSize) != ti.blockSize || int64(tr.TypeSize) != ti.typeSize {
			t.Errorf("type %d %s: ours %d/%d, gguf-parser-go %+v %v", id, ti.name, ti.blockSize, ti.typeSize, tr, ok)
		}
	}
}

func TestWriterRejects(t *testing.T) {
	w := NewWriter()
	if err := w.AddTensor("x", F32, []uint64{3}, make([]byte, 8)); err == nil || !strings.Contains(err.Error(), "want 12") {
		t.Errorf("short F32 data: %v", err)
	}
	if err := w.AddTensor("x", F32, []uint64{0}, nil); err == nil {
		t.Error("zero dim accepted")
	}
	if err := w.Add("general.alignment", Uint32(48)); err == nil {
		t.Error("alignment 48 accepted")
	}
	if err := w.Add("k", Array(TypeUint8, Int8(1))); err == nil {
		t.Error("mixed array accepted")
	}
	w.Add("k", Uint8(1))
	if err := w.Add("k", Uint8(2)); err == nil {
		t.Error("duplicate key accepted")
	}
	w.AddTensorFunc("f", I2S, []uint64{128}, 64, func() ([]byte, error) { return make([]byte, 63), nil })
	if _, err := w.WriteTo(new(bytesBuffer)); err == nil || !strings.Contains(err.Error(), "fill gave 63 bytes, want 64") {
		t.Errorf("short fill: %v", err)
	}
}
