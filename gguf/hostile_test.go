package gguf

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawFile assembles GGUF bytes field by field, so tests can break any field.
type rawFile struct{ b []byte }

func (r *rawFile) u32(v uint32) *rawFile  { r.b = binary.LittleEndian.AppendUint32(r.b, v); return r }
func (r *rawFile) u64(v uint64) *rawFile  { r.b = binary.LittleEndian.AppendUint64(r.b, v); return r }
func (r *rawFile) str(s string) *rawFile  { r.u64(uint64(len(s))); r.b = append(r.b, s...); return r }
func (r *rawFile) raw(p ...byte) *rawFile { r.b = append(r.b, p...); return r }
func (r *rawFile) pad(a int) *rawFile {
	for len(r.b)%a != 0 {
		r.b = append(r.b, 0)
	}
	return r
}
func hdr(version uint32, nt, nkv uint64) *rawFile {
	r := &rawFile{b: []byte("GGUF")}
	return r.u32(version).u64(nt).u64(nkv)
}

// tensorInfo appends one tensor info.
func (r *rawFile) tensor(name string, typ uint32, off uint64, dims ...uint64) *rawFile {
	r.str(name).u32(uint32(len(dims)))
	for _, d := range dims {
		r.u64(d)
	}
	return r.u32(typ).u64(off)
}

// hostileCases are malformed files and the words their error must contain.
func hostileCases() []struct {
	name string
	b    []byte
	want []string
} {
	okKV := func() *rawFile { return hdr(3, 0, 1).str("k").u32(uint32(TypeUint32)).u32(7) }
	f32 := func(name string, off uint64, dims ...uint64) *rawFile {
		return hdr(3, 1, 0).tensor(name, 0, off, dims...).pad(32)
	}
	_ = okKV
	return []struct {
		name string
		b    []byte
		want []string
	}{
		{"empty", nil, []string{"empty file"}},
		{"short magic", []byte("GG"), []string{"magic", "file ends"}},
		{"bad magic", []byte("GGML\x03\x00\x00\x00"), []string{"bad magic", `"GGML"`}},
		{"version 1", hdr(1, 0, 0).b, []string{"unsupported version 1"}},
		{"version 4", hdr(4, 0, 0).b, []string{"unsupported version 4"}},
		{"no counts", []byte("GGUF\x03\x00\x00\x00"), []string{"tensor count", "file ends"}},
		{"huge tensor count", hdr(3, 1<<60, 0).b, []string{"tensor count", "1152921504606846976"}},
		{"huge kv count", hdr(3, 0, 1<<40).b, []string{"key/value count"}},
		{"key length past end", hdr(3, 0, 1).u64(1 << 50).raw(make([]byte, 40)...).b, []string{"metadata key 0", "past the end"}},
		{"string value past end", hdr(3, 0, 1).str("k").u32(uint32(TypeString)).u64(100).raw('a').b, []string{`value of key "k"`, "length 100"}},
		{"unknown value type", hdr(3, 0, 1).str("k").u32(13).u32(0).b, []string{`key "k"`, "unknown value type 13"}},
		{"unknown array elem", hdr(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(99).u64(0).b, []string{"unknown array element type 99"}},
		{"huge array", hdr(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeUint64)).u64(1 << 61).u64(0).b, []string{"array length", "2305843009213693952"}},
		{"huge string array", hdr(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeString)).u64(1 << 40).b, []string{"array length"}},
		{"bad bool", hdr(3, 0, 1).str("k").u32(uint32(TypeBool)).raw(2).b, []string{"bool byte is 2"}},
		{"duplicate key", hdr(3, 0, 2).str("k").u32(uint32(TypeUint8)).raw(1).str("k").u32(uint32(TypeUint8)).raw(2).b, []string{`"k"`, "twice"}},
		{"bad utf8 key", hdr(3, 0, 1).str("k\xff").u32(uint32(TypeUint8)).raw(1).b, []string{"UTF-8"}},
		{"deep arrays", func() []byte {
			r := hdr(3, 0, 1).str("k").u32(uint32(TypeArray))
			for i := 0; i < 20; i++ {
				r.u32(uint32(TypeArray)).u64(1)
			}
			return r.b
		}(), []string{"nested deeper"}},
		{"alignment type", hdr(3, 0, 1).str("general.alignment").u32(uint32(TypeUint64)).u64(32).b, []string{"general.alignment", "want uint32"}},
		{"alignment 24", hdr(3, 0, 1).str("general.alignment").u32(uint32(TypeUint32)).u32(24).b, []string{"general.alignment is 24"}},
		{"tensor name past end", hdr(3, 1, 0).u64(1000).raw(make([]byte, 40)...).b, []string{"tensor 0 name", "past the end"}},
		{"bad utf8 tensor name", f32("a\xc0", 0, 1).raw(0, 0, 0, 0).b, []string{"tensor 0 name", "UTF-8"}},
		{"too many dims", hdr(3, 1, 0).tensor("t", 0, 0, 1, 1, 1, 1, 1).b, []string{`"t"`, "5 dimensions"}},
		{"zero dim", hdr(3, 1, 0).tensor("t", 0, 0, 4, 0).b, []string{`"t"`, "dimension 1 is 0"}},
		{"dims overflow", hdr(3, 1, 0).tensor("t", 0, 0, 1<<40, 1<<40).b, []string{`"t"`, "overflows"}},
		{"unknown tensor type", hdr(3, 1, 0).tensor("t", 77, 0, 4).b, []string{`"t"`, "unknown ggml type 77"}},
		{"partial block", hdr(3, 1, 0).tensor("t", 8, 0, 33).b, []string{`"t"`, "Q8_0 blocks"}},
		{"duplicate tensor", hdr(3, 2, 0).tensor("t", 0, 0, 1).tensor("t", 0, 32, 1).pad(32).raw(make([]byte, 36)...).b, []string{`"t"`, "twice"}},
		{"offset past end", f32("t", 1<<40, 4).raw(make([]byte, 16)...).b, []string{`"t"`, "past end of file"}},
		{"unaligned offset", f32("t", 4, 1).raw(make([]byte, 16)...).b, []string{`"t"`, "not a multiple of the alignment 32"}},
		{"data truncated", f32("t", 0, 8).raw(make([]byte, 16)...).b, []string{`"t"`, "needs 32 bytes", "end of the file"}},
		{"tensors overlap", hdr(3, 2, 0).tensor("a", 0, 0, 16).tensor("b", 0, 32, 16).pad(32).raw(make([]byte, 96)...).b, []string{`"a"`, "needs 64 bytes", `tensor "b"`}},
		{"data section past end", hdr(3, 1, 0).tensor("t", 0, 0, 1).b, []string{"data section", "past the end"}},
	}
}

func TestHostileFiles(t *testing.T) {
	dir := t.TempDir()
	for _, c := range hostileCases() {
		_, err := OpenBytes(c.b)
		if err == nil {
			t.Errorf("%s: opened without error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.name, err, w)
			}
		}
		// The mapped path gives the same error, naming the file.
		p := filepath.Join(dir, "f.gguf")
		os.WriteFile(p, c.b, 0o644)
		if _, err2 := Open(p); err2 == nil || !strings.Contains(err2.Error(), err.Error()) || !strings.Contains(err2.Error(), p) {
			t.Errorf("%s: Open error %v, want %v naming the file", c.name, err2, err)
		}
	}
}

// TestEveryPrefixFails cuts a valid file at every length: each prefix must be
// an error (the last tensor's data runs to the end), never a panic.
func TestEveryPrefixFails(t *testing.T) {
	b, _ := richFile(t, 3)
	for n := 0; n < len(b); n++ {
		if _, err := OpenBytes(b[:n]); err == nil {
			t.Fatalf("prefix of %d/%d bytes opened", n, len(b))
		}
		if _, err := OpenReaderAt(bytes.NewReader(b[:n]), int64(n)); err == nil {
			t.Fatalf("ReaderAt prefix of %d/%d bytes opened", n, len(b))
		}
	}
	if _, err := OpenBytes(b); err != nil {
		t.Fatal(err)
	}
}

func TestI2SNoFlavorError(t *testing.T) {
	b := hdr(3, 1, 0).tensor("blk.0.attn_q.weight", uint32(I2S), 0, 256, 2).pad(32).raw(make([]byte, 300)...).b
	f, err := OpenBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	ti, _ := f.Tensor("blk.0.attn_q.weight")
	_, _, err = f.DecodeMatrix(ti, Options{})
	want := `gguf: tensor "blk.0.attn_q.weight" (I2_S, 2x256): 300 bytes available match no I2_S flavor (expected, up to 128 bytes more: GgmlQk256NoScale/seed 128, GgmlQk256NoScale/bitnet-cpp 160, Split32WithSibling 128, BitNet32F16 160)`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

// FuzzOpen opens arbitrary bytes and decodes whatever it finds: errors are
// fine, panics and runaway allocations are not.
func FuzzOpen(f *testing.F) {
	for _, c := range hostileCases() {
		f.Add(c.b)
	}
	b, _ := richFile(f, 3)
	f.Add(b)
	b, _ = richFile(f, 2)
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := OpenBytes(data)
		if err != nil {
			return
		}
		checkOpened(t, file, 1<<62)
	})
}
