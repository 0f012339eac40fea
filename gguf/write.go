package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"unicode/utf8"

	"github.com/qkbench/qkbench/internal/atomicfile"
)

// Writer builds a GGUF file: metadata in the order added, then tensor infos,
// then each tensor's data at the next multiple of the alignment (zero padded).
//
//	w := gguf.NewWriter()
//	w.Add("general.architecture", gguf.String("bitnet"))
//	w.AddTensor("blk.0.attn_q.weight", gguf.I2S, []uint64{cols, rows}, data)
//	_, err := w.WriteTo(out)
type Writer struct {
	Version   uint32 // 3 unless set (2 is also accepted)
	Alignment int64  // from general.alignment if added, else 32
	kvs       []KV
	tensors   []wtensor
	keys      map[string]bool
	names     map[string]bool
}

type wtensor struct {
	name string
	typ  TensorType
	dims []uint64
	data []byte
	size int64
	fill func() ([]byte, error) // nil when data is given
}

// NewWriter returns an empty version-3 writer.
func NewWriter() *Writer {
	return &Writer{Version: 3, Alignment: DefaultAlignment, keys: map[string]bool{}, names: map[string]bool{}}
}

// Add appends a metadata pair. Adding general.alignment (uint32, a power of
// two) also sets the data alignment.
func (w *Writer) Add(key string, v Value) error {
	if !utf8.ValidString(key) || key == "" {
		return fmt.Errorf("gguf: writer: metadata key %q must be non-empty UTF-8", key)
	}
	if w.keys[key] {
		return fmt.Errorf("gguf: writer: metadata key %q added twice", key)
	}
	if err := checkValue(v, 0); err != nil {
		return fmt.Errorf("gguf: writer: key %q: %w", key, err)
	}
	if key == "general.alignment" {
		if v.Type != TypeUint32 || v.Uint == 0 || v.Uint&(v.Uint-1) != 0 || v.Uint > 1<<20 {
			return fmt.Errorf("gguf: writer: general.alignment must be a uint32 power of two up to 1 MiB, got %s %s", v.Type, v)
		}
		w.Alignment = int64(v.Uint)
	}
	w.keys[key] = true
	w.kvs = append(w.kvs, KV{key, v})
	return nil
}

func checkValue(v Value, depth int) error {
	if !v.Type.valid() {
		return fmt.Errorf("unknown value type %d", v.Type)
	}
	if v.Type != TypeArray {
		return nil
	}
	if depth >= MaxArrayDepth || !v.Elem.valid() {
		return fmt.Errorf("array element type %d or nesting depth %d not allowed", v.Elem, depth+1)
	}
	for i, it := range v.Items {
		if it.Type != v.Elem {
			return fmt.Errorf("array of %s: item %d has type %s", v.Elem, i, it.Type)
		}
		if err := checkValue(it, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// AddTensor appends a tensor. dims are innermost first ([cols, rows]); data
// must have the type's exact size for fixed-geometry types (I2_S: any size,
// the caller packs a flavor).
func (w *Writer) AddTensor(name string, typ TensorType, dims []uint64, data []byte) error {
	return w.addTensor(wtensor{name: name, typ: typ, dims: dims, data: data, size: int64(len(data))})
}

// AddTensorFunc appends a tensor of size bytes whose data fill produces
// while the file is written, so only one tensor's bytes are in memory at a
// time. fill must return exactly size bytes.
func (w *Writer) AddTensorFunc(name string, typ TensorType, dims []uint64, size int64, fill func() ([]byte, error)) error {
	if size < 0 || fill == nil {
		return fmt.Errorf("gguf: writer: tensor %q: size %d and fill %v", name, size, fill != nil)
	}
	return w.addTensor(wtensor{name: name, typ: typ, dims: dims, size: size, fill: fill})
}

func (w *Writer) addTensor(t wtensor) error {
	name, typ, dims := t.name, t.typ, t.dims
	if !utf8.ValidString(name) || name == "" {
		return fmt.Errorf("gguf: writer: tensor name %q must be non-empty UTF-8", name)
	}
	if w.names[name] {
		return fmt.Errorf("gguf: writer: tensor %q added twice", name)
	}
	if !typ.Known() {
		return fmt.Errorf("gguf: writer: tensor %q: unknown type %d", name, typ)
	}
	if len(dims) > MaxDims {
		return fmt.Errorf("gguf: writer: tensor %q: %d dims, want at most %d", name, len(dims), MaxDims)
	}
	n := int64(1)
	for _, d := range dims {
		if d == 0 || d > 1<<40 || uint64(n) > (1<<62)/d {
			return fmt.Errorf("gguf: writer: tensor %q: dims %v out of range", name, dims)
		}
		n *= int64(d)
	}
	if typ != I2S {
		want, ok := typ.nbytes(n)
		if !ok || t.size != want {
			return fmt.Errorf("gguf: writer: tensor %q (%s, dims %v): %d data bytes, want %d", name, typ, dims, t.size, want)
		}
	}
	w.names[name] = true
	t.dims = append([]uint64(nil), dims...)
	w.tensors = append(w.tensors, t)
	return nil
}

type ewriter struct {
	w   *bufio.Writer
	n   int64
	err error
}

func (e *ewriter) bytes(b []byte) {
	if e.err != nil {
		return
	}
	k, err := e.w.Write(b)
	e.n += int64(k)
	e.err = err
}

func (e *ewriter) u32(v uint32) { e.bytes(binary.LittleEndian.AppendUint32(nil, v)) }
func (e *ewriter) u64(v uint64) { e.bytes(binary.LittleEndian.AppendUint64(nil, v)) }
func (e *ewriter) str(s string) { e.u64(uint64(len(s))); e.bytes([]byte(s)) }
func (e *ewriter) pad(a int64) {
	if r := e.n % a; r != 0 {
		e.bytes(make([]byte, a-r))
	}
}

func (e *ewriter) value(v Value) {
	switch v.Type {
	case TypeUint8:
		e.bytes([]byte{uint8(v.Uint)})
	case TypeInt8:
		e.bytes([]byte{uint8(v.Int)})
	case TypeUint16:
		e.bytes(binary.LittleEndian.AppendUint16(nil, uint16(v.Uint)))
	case TypeInt16:
		e.bytes(binary.LittleEndian.AppendUint16(nil, uint16(v.Int)))
	case TypeUint32:
		e.u32(uint32(v.Uint))
	case TypeInt32:
		e.u32(uint32(v.Int))
	case TypeUint64:
		e.u64(v.Uint)
	case TypeInt64:
		e.u64(uint64(v.Int))
	case TypeFloat32:
		e.u32(math.Float32bits(float32(v.Float)))
	case TypeFloat64:
		e.u64(math.Float64bits(v.Float))
	case TypeBool:
		b := byte(0)
		if v.Bool {
			b = 1
		}
		e.bytes([]byte{b})
	case TypeString:
		e.str(v.Str)
	case TypeArray:
		e.u32(uint32(v.Elem))
		e.u64(uint64(len(v.Items)))
		for _, it := range v.Items {
			e.value(it)
		}
	}
}

// WriteTo writes the file.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	if w.Version != 2 && w.Version != 3 {
		return 0, fmt.Errorf("gguf: writer: version %d, want 2 or 3", w.Version)
	}
	e := &ewriter{w: bufio.NewWriterSize(out, 1<<20)}
	e.bytes([]byte(Magic))
	e.u32(w.Version)
	e.u64(uint64(len(w.tensors)))
	e.u64(uint64(len(w.kvs)))
	for _, kv := range w.kvs {
		e.str(kv.Key)
		e.u32(uint32(kv.Value.Type))
		e.value(kv.Value)
	}
	off := int64(0)
	for _, t := range w.tensors {
		e.str(t.name)
		e.u32(uint32(len(t.dims)))
		for _, d := range t.dims {
			e.u64(d)
		}
		e.u32(uint32(t.typ))
		e.u64(uint64(off))
		off = alignUp(off+t.size, w.Alignment)
	}
	if len(w.tensors) > 0 {
		e.pad(w.Alignment)
	}
	for i, t := range w.tensors {
		data := t.data
		if t.fill != nil && e.err == nil {
			d, err := t.fill()
			if err == nil && int64(len(d)) != t.size {
				err = fmt.Errorf("gguf: writer: tensor %q: fill gave %d bytes, want %d", t.name, len(d), t.size)
			}
			if err != nil {
				return e.n, err
			}
			data = d
		}
		e.bytes(data)
		if i+1 < len(w.tensors) {
			e.pad(w.Alignment)
		}
	}
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.n, e.err
}

// WriteFile writes the file at path (replacing it).
func (w *Writer) WriteFile(path string) error {
	// Through a temporary file: an interrupted write leaves no truncated GGUF.
	if err := atomicfile.Write(path, func(f io.Writer) error {
		_, err := w.WriteTo(f)
		return err
	}); err != nil {
		return fmt.Errorf("gguf: writing %s: %w", path, err)
	}
	return nil
}
