package gguf

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"sync"
	"unicode/utf8"
)

// MaxArrayDepth bounds nested arrays (arrays of arrays of ...).
const MaxArrayDepth = 8

// MaxMetadataItems bounds the metadata keys and array items a file holds
// together. Each decoded item costs about 100 bytes of memory whatever its
// size in the file (a uint8 array costs 1 byte an item there), so the
// file-size bound alone would let a hostile file of a few hundred MB ask for
// tens of GB. Real models hold well under a million (a 150k-token vocabulary
// with its scores, token types and merges).
const MaxMetadataItems = 4 << 20

// MaxTensors bounds the tensor count. A tensor info takes 24 bytes in the file
// but about 200 in memory; real models have a few thousand tensors.
const MaxTensors = 1 << 20

// MaxStringBytes bounds the bytes of all strings of a header together (keys,
// string values, tensor names). A sparse file can claim gigabytes of string
// that read back as zeros; real headers (a vocabulary, a chat template, an
// embedded tokenizer) hold tens of MB.
const MaxStringBytes = 256 << 20

// File is an opened GGUF file. Its methods are safe for concurrent use; the
// slices TensorData returns are valid until Close.
type File struct {
	Path      string // "" when not opened from a path
	Version   uint32
	Metadata  []KV // in file order
	Tensors   []TensorInfo
	Alignment int64
	// DataOffset is the absolute offset of the tensor data section.
	DataOffset int64
	Size       int64 // file size in bytes

	data   []byte      // whole file when mapped or in memory
	ra     io.ReaderAt // otherwise
	closer func() error
	kv     map[string]int
	tensor map[string]int
	// read is what the file says about its I2_S readings (DetectI2S).
	readOnce sync.Once
	read     *fileReadings
}

// Open opens a GGUF file, memory-mapping it read-only where the OS allows.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("gguf: %w", err)
	}
	if !st.Mode().IsRegular() {
		fh.Close()
		return nil, fmt.Errorf("gguf: %s: not a regular file", path)
	}
	size := st.Size()
	var f *File
	if data, unmap, merr := mmapFile(fh, size); merr == nil {
		fh.Close()
		f, err = parse(bytes.NewReader(data), data, size)
		if err != nil {
			unmap()
		} else {
			f.closer = unmap
		}
	} else {
		f, err = parse(fh, nil, size)
		if err != nil {
			fh.Close()
		} else {
			f.closer = fh.Close
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	f.Path = path
	return f, nil
}

// OpenBytes reads a GGUF file held in memory; tensor data are views of b.
func OpenBytes(b []byte) (*File, error) {
	return parse(bytes.NewReader(b), b, int64(len(b)))
}

// OpenReaderAt reads a GGUF file of size bytes through r; TensorData copies.
func OpenReaderAt(r io.ReaderAt, size int64) (*File, error) {
	if size < 0 {
		return nil, fmt.Errorf("gguf: negative size %d", size)
	}
	return parse(r, nil, size)
}

// Close releases the mapping or file handle. Tensor data views die with it.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	c := f.closer
	f.closer = nil
	f.data = nil
	return c()
}

// KV returns the value of a metadata key.
func (f *File) KV(key string) (Value, bool) {
	i, ok := f.kv[key]
	if !ok {
		return Value{}, false
	}
	return f.Metadata[i].Value, true
}

// Tensor returns a tensor's info by name.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.tensor[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// Mapped reports whether tensor data are views of memory (no copies).
func (f *File) Mapped() bool { return f.data != nil }

// TensorData returns a tensor's Available bytes: a view when Mapped, a copy
// otherwise.
func (f *File) TensorData(t *TensorInfo) ([]byte, error) {
	return f.bytesAt(t.Name, t.Start, t.Available)
}

func (f *File) bytesAt(name string, off, n int64) ([]byte, error) {
	if off < 0 || n < 0 || off > f.Size || n > f.Size-off {
		return nil, fmt.Errorf("gguf: tensor %q: bytes [%d, %d) outside the file (size %d)", name, off, off+n, f.Size)
	}
	if f.data != nil {
		return f.data[off : off+n : off+n], nil
	}
	if f.ra == nil {
		return nil, fmt.Errorf("gguf: tensor %q: file is closed", name)
	}
	b := make([]byte, n)
	if _, err := f.ra.ReadAt(b, off); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		return nil, fmt.Errorf("gguf: tensor %q: reading %d bytes at offset %d: %w", name, n, off, err)
	}
	return b, nil
}

// label names a header field in error messages. It is formatted only when
// an error needs it: formatting one for every field of every tensor cost
// more than reading them.
type label struct {
	f          string // format: the string argument first, then the number
	s          string
	n          int64
	hasS, hasN bool
	suffix     string
}

func lit(s string) label { return label{f: s} }

// with returns the label with suffix added.
func (l label) with(suffix string) label { l.suffix += suffix; return l }

func (l label) String() string {
	var base string
	switch {
	case l.hasS && l.hasN:
		base = fmt.Sprintf(l.f, l.s, l.n)
	case l.hasS:
		base = fmt.Sprintf(l.f, l.s)
	case l.hasN:
		base = fmt.Sprintf(l.f, l.n)
	default:
		base = l.f
	}
	return base + l.suffix
}

// decoder reads the header sequentially and knows how many bytes remain, so
// every count is checked against the file before anything is allocated.
type decoder struct {
	r    *bufio.Reader
	pos  int64
	size int64
	buf  [8]byte
	// items counts the metadata keys and array items decoded so far
	// (MaxMetadataItems); strs the string bytes (MaxStringBytes).
	items, strs int64
}

func (d *decoder) remaining() int64 { return d.size - d.pos }

func (d *decoder) read(n int, what label) ([]byte, error) {
	if int64(n) > d.remaining() {
		return nil, fmt.Errorf("gguf: %s at offset %d: need %d bytes, file ends after %d", what, d.pos, n, d.remaining())
	}
	b := d.buf[:n]
	if _, err := io.ReadFull(d.r, b); err != nil {
		return nil, fmt.Errorf("gguf: %s at offset %d: %w", what, d.pos, err)
	}
	d.pos += int64(n)
	return b, nil
}

func (d *decoder) u32(what label) (uint32, error) {
	b, err := d.read(4, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (d *decoder) u64(what label) (uint64, error) {
	b, err := d.read(8, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// count reads a v3 (u64) or v2 (u64 as well: v1 used u32 and is rejected)
// count and checks that count*minSize bytes can follow.
func (d *decoder) count(what label, minSize int64) (int64, error) {
	at := d.pos
	n, err := d.u64(what)
	if err != nil {
		return 0, err
	}
	if minSize < 1 {
		minSize = 1
	}
	if n > uint64(d.remaining()/minSize) {
		return 0, fmt.Errorf("gguf: %s at offset %d is %d, but only %d bytes follow (at least %d per item)", what, at, n, d.remaining(), minSize)
	}
	return int64(n), nil
}

func (d *decoder) str(what label) (string, error) {
	at := d.pos
	n, err := d.u64(what.with(" length"))
	if err != nil {
		return "", err
	}
	if n > uint64(d.remaining()) {
		return "", fmt.Errorf("gguf: %s at offset %d: length %d runs past the end of the file (%d bytes left)", what, at, n, d.remaining())
	}
	if d.strs += int64(n); d.strs > MaxStringBytes {
		return "", fmt.Errorf("gguf: %s at offset %d: length %d brings the header's strings past %d bytes in all; qkbench refuses to decode more", what, at, n, MaxStringBytes)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		return "", fmt.Errorf("gguf: %s at offset %d: %w", what, at, err)
	}
	d.pos += int64(n)
	return string(b), nil
}

func (d *decoder) value(t ValueType, what label, depth int) (Value, error) {
	v := Value{Type: t}
	switch t {
	case TypeUint8, TypeUint16, TypeUint32, TypeUint64, TypeInt8, TypeInt16, TypeInt32, TypeInt64, TypeFloat32, TypeFloat64, TypeBool:
		b, err := d.read(t.size(), what)
		if err != nil {
			return v, err
		}
		switch t {
		case TypeUint8:
			v.Uint = uint64(b[0])
		case TypeInt8:
			v.Int = int64(int8(b[0]))
		case TypeUint16:
			v.Uint = uint64(binary.LittleEndian.Uint16(b))
		case TypeInt16:
			v.Int = int64(int16(binary.LittleEndian.Uint16(b)))
		case TypeUint32:
			v.Uint = uint64(binary.LittleEndian.Uint32(b))
		case TypeInt32:
			v.Int = int64(int32(binary.LittleEndian.Uint32(b)))
		case TypeUint64:
			v.Uint = binary.LittleEndian.Uint64(b)
		case TypeInt64:
			v.Int = int64(binary.LittleEndian.Uint64(b))
		case TypeFloat32:
			v.Float = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		case TypeFloat64:
			v.Float = math.Float64frombits(binary.LittleEndian.Uint64(b))
		case TypeBool:
			if b[0] > 1 {
				return v, fmt.Errorf("gguf: %s at offset %d: bool byte is %d, want 0 or 1", what, d.pos-1, b[0])
			}
			v.Bool = b[0] == 1
		}
	case TypeString:
		s, err := d.str(what)
		if err != nil {
			return v, err
		}
		v.Str = s
	case TypeArray:
		if depth >= MaxArrayDepth {
			return v, fmt.Errorf("gguf: %s at offset %d: arrays nested deeper than %d", what, d.pos, MaxArrayDepth)
		}
		at := d.pos
		et, err := d.u32(what.with(" element type"))
		if err != nil {
			return v, err
		}
		elem := ValueType(et)
		if !elem.valid() {
			return v, fmt.Errorf("gguf: %s at offset %d: unknown array element type %d (want 0..12)", what, at, et)
		}
		n, err := d.count(what.with(" array length"), elem.minSize())
		if err != nil {
			return v, err
		}
		if d.items += int64(n); d.items > MaxMetadataItems {
			return v, fmt.Errorf("gguf: %s at offset %d: metadata arrays hold more than %d items in all; qkbench refuses to decode more", what, at, MaxMetadataItems)
		}
		v.Elem = elem
		v.Items = make([]Value, n)
		for i := range v.Items {
			it, err := d.value(elem, what, depth+1)
			if err != nil {
				return v, fmt.Errorf("%w (item %d of the array)", err, i)
			}
			v.Items[i] = it
		}
	default:
		return v, fmt.Errorf("gguf: %s at offset %d: unknown value type %d (want 0..12)", what, d.pos-4, uint32(t))
	}
	return v, nil
}

// parse reads the header, metadata and tensor infos and checks every tensor
// against the file.
func parse(ra io.ReaderAt, data []byte, size int64) (*File, error) {
	d := &decoder{r: bufio.NewReaderSize(io.NewSectionReader(ra, 0, size), 1<<16), size: size}
	if size == 0 {
		return nil, fmt.Errorf("gguf: empty file, want a GGUF header (magic %q)", Magic)
	}
	m, err := d.read(4, lit("magic"))
	if err != nil {
		return nil, err
	}
	if string(m) != Magic {
		return nil, fmt.Errorf("gguf: bad magic %q at offset 0, want %q", m, Magic)
	}
	ver, err := d.u32(lit("version"))
	if err != nil {
		return nil, err
	}
	if ver != 2 && ver != 3 {
		return nil, fmt.Errorf("gguf: unsupported version %d at offset 4, want 2 or 3", ver)
	}
	f := &File{Version: ver, Size: size, Alignment: DefaultAlignment, data: data, kv: map[string]int{}, tensor: map[string]int{}}
	if data == nil {
		f.ra = ra
	}
	// Smallest tensor info: name length, n_dims, type, offset; smallest KV:
	// key length, value type, one byte of value.
	nt, err := d.count(lit("tensor count"), 8+4+4+8)
	if err != nil {
		return nil, err
	}
	if nt > MaxTensors {
		return nil, fmt.Errorf("gguf: tensor count at offset 16 is %d; qkbench reads at most %d tensors", nt, MaxTensors)
	}
	nkv, err := d.count(lit("metadata key/value count"), 8+4+1)
	if err != nil {
		return nil, err
	}
	if nkv > MaxMetadataItems {
		return nil, fmt.Errorf("gguf: metadata key/value count at offset 24 is %d; qkbench reads at most %d", nkv, MaxMetadataItems)
	}
	// The counts are only claims (a sparse file has any size it likes):
	// the slices grow as entries are really read, never from a count.
	for i := int64(0); i < nkv; i++ {
		at := d.pos
		if d.items++; d.items > MaxMetadataItems {
			return nil, fmt.Errorf("gguf: metadata key %d at offset %d: keys and array items number more than %d in all; qkbench refuses to decode more", i, at, MaxMetadataItems)
		}
		key, err := d.str(label{f: "metadata key %d", n: i, hasN: true})
		if err != nil {
			return nil, err
		}
		if !utf8.ValidString(key) {
			return nil, fmt.Errorf("gguf: metadata key %d at offset %d is not valid UTF-8 (%q)", i, at, key)
		}
		if _, dup := f.kv[key]; dup {
			return nil, fmt.Errorf("gguf: metadata key %q at offset %d appears twice", key, at)
		}
		tat := d.pos
		t, err := d.u32(label{f: "type of key %q", s: key, hasS: true})
		if err != nil {
			return nil, err
		}
		if !ValueType(t).valid() {
			return nil, fmt.Errorf("gguf: metadata key %q at offset %d: unknown value type %d (want 0..12)", key, tat, t)
		}
		v, err := d.value(ValueType(t), label{f: "value of key %q", s: key, hasS: true}, 0)
		if err != nil {
			return nil, err
		}
		f.kv[key] = len(f.Metadata)
		f.Metadata = append(f.Metadata, KV{key, v})
	}
	if v, ok := f.KV("general.alignment"); ok {
		if v.Type != TypeUint32 {
			return nil, fmt.Errorf("gguf: general.alignment has type %s, want uint32", v.Type)
		}
		if v.Uint == 0 || v.Uint&(v.Uint-1) != 0 || v.Uint > 1<<20 {
			return nil, fmt.Errorf("gguf: general.alignment is %d, want a power of two up to 1 MiB", v.Uint)
		}
		f.Alignment = int64(v.Uint)
	}
	for i := int64(0); i < nt; i++ {
		at := d.pos
		name, err := d.str(label{f: "tensor %d name", n: i, hasN: true})
		if err != nil {
			return nil, err
		}
		if !utf8.ValidString(name) {
			return nil, fmt.Errorf("gguf: tensor %d name at offset %d is not valid UTF-8 (%q)", i, at, name)
		}
		if _, dup := f.tensor[name]; dup {
			return nil, fmt.Errorf("gguf: tensor name %q at offset %d appears twice", name, at)
		}
		nd, err := d.u32(label{f: "tensor %q dimension count", s: name, hasS: true})
		if err != nil {
			return nil, err
		}
		if nd > MaxDims {
			return nil, fmt.Errorf("gguf: tensor %q at offset %d has %d dimensions, want at most %d", name, at, nd, MaxDims)
		}
		t := TensorInfo{Name: name, Dims: make([]uint64, nd), Elems: 1}
		for j := range t.Dims {
			dim, err := d.u64(label{f: "tensor %q dimension %d", s: name, hasS: true, n: int64(j), hasN: true})
			if err != nil {
				return nil, err
			}
			if dim == 0 || dim > 1<<40 {
				return nil, fmt.Errorf("gguf: tensor %q: dimension %d is %d, want 1..2^40", name, j, dim)
			}
			if uint64(t.Elems) > (1<<62)/dim {
				return nil, fmt.Errorf("gguf: tensor %q: dims %v: element count overflows", name, t.Dims[:j+1])
			}
			t.Dims[j] = dim
			t.Elems *= int64(dim)
		}
		ty, err := d.u32(label{f: "tensor %q type", s: name, hasS: true})
		if err != nil {
			return nil, err
		}
		t.Type = TensorType(ty)
		if !t.Type.Known() {
			return nil, fmt.Errorf("gguf: tensor %q: unknown ggml type %d", name, ty)
		}
		if t.Offset, err = d.u64(label{f: "tensor %q offset", s: name, hasS: true}); err != nil {
			return nil, err
		}
		t.Size = -1
		if t.Type != I2S {
			n, ok := t.Type.nbytes(t.Elems)
			if !ok {
				return nil, fmt.Errorf("gguf: tensor %q: %d elements (dims %v) is not a whole number of %s blocks of %d", name, t.Elems, t.Dims, t.Type, ggmlTypes[t.Type].blockSize)
			}
			t.Size = n
		}
		f.tensor[name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
	}
	f.DataOffset = alignUp(d.pos, f.Alignment)
	return f, f.layout()
}

func alignUp(n, a int64) int64 { return (n + a - 1) / a * a }

// layout checks offsets and sets Start, Available.
func (f *File) layout() error {
	if len(f.Tensors) == 0 {
		return nil
	}
	if f.DataOffset > f.Size {
		return fmt.Errorf("gguf: tensor data section starts at %d, past the end of the file (size %d)", f.DataOffset, f.Size)
	}
	order := make([]int, len(f.Tensors))
	for i := range order {
		order[i] = i
	}
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if t.Offset%uint64(f.Alignment) != 0 {
			return fmt.Errorf("gguf: tensor %q: data offset %#x is not a multiple of the alignment %d", t.Name, t.Offset, f.Alignment)
		}
		if t.Offset > uint64(f.Size-f.DataOffset) {
			return fmt.Errorf("gguf: tensor %q: data offset %#x (absolute %#x) past end of file (size %#x)", t.Name, t.Offset, uint64(f.DataOffset)+t.Offset, f.Size)
		}
		t.Start = f.DataOffset + int64(t.Offset)
	}
	sort.SliceStable(order, func(a, b int) bool { return f.Tensors[order[a]].Start < f.Tensors[order[b]].Start })
	for k, i := range order {
		t := &f.Tensors[i]
		end := f.Size
		if k+1 < len(order) {
			end = f.Tensors[order[k+1]].Start
		}
		t.Available = end - t.Start
		if t.Size >= 0 && t.Size > t.Available {
			what := "the end of the file"
			if k+1 < len(order) {
				what = fmt.Sprintf("tensor %q", f.Tensors[order[k+1]].Name)
			}
			return fmt.Errorf("gguf: tensor %q (%s, dims %v): needs %d bytes at %#x, but %s starts %d bytes later", t.Name, t.Type, t.Dims, t.Size, t.Start, what, t.Available)
		}
	}
	return nil
}
