package gguf

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels"
)

// writeSparse writes head to a new file and extends it to size bytes
// without writing the rest: a sparse file whose apparent size passes every
// count-against-size check while holding only zeros.
func writeSparse(tb testing.TB, head []byte, size int64) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "sparse.gguf")
	if err := os.WriteFile(p, head, 0o644); err != nil {
		tb.Fatal(err)
	}
	if size > int64(len(head)) {
		if err := os.Truncate(p, size); err != nil {
			tb.Skipf("cannot make a sparse file here: %v", err)
		}
	}
	return p
}

// allocated returns the bytes f allocates (the Go heap's running total).
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// A few KB of header in a 16 GiB sparse file: counts, string lengths and
// tensor sizes that the apparent size allows must not turn into allocations
// before the entries are really read.
func TestSparseFilesAllocateLittle(t *testing.T) {
	const big = 16 << 30
	cases := []struct {
		name string
		head []byte
		want string
	}{
		// The file: 2^30 metadata keys claimed.
		{"2^30 keys", hdr(3, 0, 1<<30).b, "reads at most"},
		// Counts under the caps: zeros read back as empty, duplicate names.
		{"4M keys", hdr(3, 0, MaxMetadataItems).b, "appears twice"},
		{"1M tensors", hdr(3, MaxTensors, 0).b, "appears twice"},
		{"2^25 tensors", hdr(3, 1<<25, 0).b, "reads at most"},
		// An 8 GiB key.
		{"8 GiB key", hdr(3, 0, 1).u64(8 << 30).b, "strings past"},
		// An 8 GiB string value.
		{"8 GiB value", hdr(3, 0, 1).str("k").u32(uint32(TypeString)).u64(8 << 30).b, "strings past"},
	}
	for _, c := range cases {
		p := writeSparse(t, c.head, big)
		var err error
		n := allocated(func() { _, err = Open(p) })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Open: %v, want an error containing %q", c.name, err, c.want)
		}
		if n > 64<<20 {
			t.Errorf("%s: Open allocated %d MB before failing, want < 64 MB", c.name, n>>20)
		}
	}
}

// A sparse file may hold a tensor of any size: DecodeFloat (inspect
// --tensor) must refuse a few rows of billions of weights, not allocate them.
func TestSparseHugeRowDecodeFloat(t *testing.T) {
	head := hdr(3, 1, 0).tensor("huge", uint32(F32), 0, 1<<32, 1).pad(32).b
	p := writeSparse(t, head, int64(len(head))+4<<32)
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ti, _ := f.Tensor("huge")
	n := allocated(func() { _, _, _, err = f.DecodeFloat(ti, Options{}, 4) })
	if err == nil || !strings.Contains(err.Error(), "ask for fewer rows") {
		t.Fatalf("DecodeFloat of a 2^32-weight row: %v, want a refusal", err)
	}
	if n > 1<<20 {
		t.Fatalf("DecodeFloat allocated %d MB before refusing", n>>20)
	}
}

// checkOpened exercises everything a command does with an opened file:
// layout bounds, flavor detection, decoding to a matrix (of at most
// maxMatrix bytes, to keep fuzzing fast) and to floats. Errors are fine;
// panics, out-of-range tensors, invalid matrices and a step that allocates
// more than 1 GiB plus twice the matrix it built are not.
func checkOpened(t *testing.T, file *File, maxMatrix int64) {
	step := func(what string, ti *TensorInfo, f func() int64) {
		var built int64
		n := allocated(func() { built = f() })
		if limit := uint64(1<<30 + 2*built); n > limit {
			t.Fatalf("tensor %q: %s allocated %d MB (matrix %d MB), want at most %d MB", ti.Name, what, n>>20, built>>20, limit>>20)
		}
	}
	for i := range file.Tensors {
		ti := &file.Tensors[i]
		if ti.Start+ti.Available > file.Size || ti.Available < 0 {
			t.Fatalf("tensor %q: bytes [%d, +%d) outside %d", ti.Name, ti.Start, ti.Available, file.Size)
		}
		for _, opt := range []Options{{}, {Flavor: GgmlQk256NoScale, Reading: ReadingBitnetCpp}, {Flavor: BitNet32F16}, {Flavor: Split32WithSibling}} {
			if ti.Type == I2S {
				step("DetectI2S", ti, func() int64 { file.DetectI2S(ti, opt); return 0 })
			}
			if ti.Rows()*int64(kernels.RowStride(int(min(ti.Cols(), 1<<40)))) <= maxMatrix {
				step("DecodeMatrix", ti, func() int64 {
					m, _, err := file.DecodeMatrix(ti, opt)
					if err != nil {
						return 0
					}
					if err := m.Validate(); err != nil {
						t.Fatalf("tensor %q: invalid matrix: %v", ti.Name, err)
					}
					return m.WeightBytes()
				})
			}
			step("DecodeFloat", ti, func() int64 { file.DecodeFloat(ti, opt, 4); return 0 })
		}
	}
	_ = fmt.Sprint(file.Metadata)
}

// FuzzOpenFile goes through the file-reading path commands use (Open on a
// real file, memory-mapped), and extends the file sparsely by 2^grow bytes
// when grow > 0, so that counts and sizes can claim gigabytes that read back
// as zeros. Opening must stay within 1 GiB, and each decoding step within
// 1 GiB plus twice the matrix it built.
func FuzzOpenFile(f *testing.F) {
	for _, c := range hostileCases() {
		f.Add(c.b, uint8(0))
		f.Add(c.b, uint8(34))
	}
	for _, b := range smallI2SFiles(f) {
		f.Add(b, uint8(0))
		f.Add(b, uint8(20))
	}
	b, _ := richFile(f, 3)
	f.Add(b, uint8(0))
	f.Add(hdr(3, 0, 1<<30).b, uint8(34))
	f.Add(hdr(3, 1<<19, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeString)).u64(1<<22).b, uint8(34))
	f.Add(hdr(3, 1, 0).tensor("w", uint32(I2S), 0, 1<<20, 1<<12).pad(32).b, uint8(31))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, grow uint8) {
		p := filepath.Join(dir, "f.gguf")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if grow > 0 {
			if err := os.Truncate(p, int64(len(data))+1<<(grow%36)); err != nil {
				t.Skip(err)
			}
		}
		var file *File
		n := allocated(func() {
			var err error
			if file, err = Open(p); err != nil {
				file = nil
			}
		})
		if n > 1<<30 {
			t.Fatalf("Open allocated %d MB, want at most 1 GiB", n>>20)
		}
		if file != nil {
			defer file.Close()
			checkOpened(t, file, 64<<20)
		}
	})
}
