// Package gguf reads and writes GGUF v2/v3 files and decodes the weight
// tensors qkbench cares about — I2_S (ggml type 36, every flavor and reading of
// docs/format.md §4), TQ2_0 (type 35), F32 and F16 — into QK256 matrices
// (kernels.Matrix) or per-element float32 weights.
//
// Open memory-maps a file read-only where the OS allows it, so a multi-GB model
// opens at once and tensor data are views into the mapping (valid until
// Close); elsewhere it reads through io.ReaderAt. OpenBytes and OpenReaderAt
// read from memory or any io.ReaderAt (tests, fuzzing).
//
// Every count, length, dimension and offset read from a file is checked
// against the file's size before it is used: a hostile file gives an error
// naming what is wrong and where, never a panic, and memory stays bounded by a
// small multiple of the file size.
//
// What each flavor decodes to:
//
//   - I2_S GgmlQk256NoScale, reading "seed": a QK256 matrix with the qk256
//     codebook and scale 1 whose Data is a view of the file (no copy).
//   - I2_S GgmlQk256NoScale, reading "bitnet-cpp": repacked into a QK256
//     matrix with the ternary codebook and the tensor's trailing f32 scale.
//   - I2_S Split32WithSibling and BitNet32F16: per-block scales, so DecodeFloat
//     gives per-element float weights (scale_of_block * qk256[code]); a QK256
//     matrix (qk256 codebook, that scale) only when every block scale is equal,
//     otherwise DecodeMatrix returns an error saying so.
//   - TQ2_0: per-256-block f16 d, weight (code-1)*d; a QK256 matrix with the
//     ternary codebook when every d is equal.
//   - F32, F16: DecodeFloat only.
package gguf

import (
	"fmt"
	"math"
	"strings"
)

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// DefaultAlignment is the tensor data alignment when general.alignment is absent.
const DefaultAlignment = 32

// MaxDims is the most dimensions a tensor may have (ggml's GGML_MAX_DIMS).
const MaxDims = 4

// ValueType is a GGUF metadata value type.
type ValueType uint32

// The GGUF metadata value types.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"}

func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("ValueType(%d)", uint32(t))
}

// valid reports a known value type.
func (t ValueType) valid() bool { return t <= TypeFloat64 }

// size returns the encoded size of a scalar type (0 for string and array).
func (t ValueType) size() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// minSize is the fewest bytes one encoded value of type t takes: an array
// element count is checked against it before anything is allocated.
func (t ValueType) minSize() int64 {
	switch t {
	case TypeString:
		return 8 // length
	case TypeArray:
		return 12 // element type + count
	}
	return int64(t.size())
}

// Value is one metadata value. Integers live in Int (signed types
// sign-extended) or Uint, floats in Float, bools in Bool, strings in Str;
// an array has Elem (its element type) and Items.
type Value struct {
	Type  ValueType
	Uint  uint64
	Int   int64
	Float float64
	Bool  bool
	Str   string
	Elem  ValueType
	Items []Value
}

// Constructors for writers and tests.
func Uint8(v uint8) Value     { return Value{Type: TypeUint8, Uint: uint64(v)} }
func Int8(v int8) Value       { return Value{Type: TypeInt8, Int: int64(v)} }
func Uint16(v uint16) Value   { return Value{Type: TypeUint16, Uint: uint64(v)} }
func Int16(v int16) Value     { return Value{Type: TypeInt16, Int: int64(v)} }
func Uint32(v uint32) Value   { return Value{Type: TypeUint32, Uint: uint64(v)} }
func Int32(v int32) Value     { return Value{Type: TypeInt32, Int: int64(v)} }
func Uint64(v uint64) Value   { return Value{Type: TypeUint64, Uint: v} }
func Int64(v int64) Value     { return Value{Type: TypeInt64, Int: v} }
func Float32(v float32) Value { return Value{Type: TypeFloat32, Float: float64(v)} }
func Float64(v float64) Value { return Value{Type: TypeFloat64, Float: v} }
func Bool(v bool) Value       { return Value{Type: TypeBool, Bool: v} }
func String(v string) Value   { return Value{Type: TypeString, Str: v} }

// Array returns an array of elem-typed items (each item's Type must be elem).
func Array(elem ValueType, items ...Value) Value {
	if items == nil {
		items = []Value{}
	}
	return Value{Type: TypeArray, Elem: elem, Items: items}
}

// Strings returns an array of strings.
func Strings(s ...string) Value {
	items := make([]Value, len(s))
	for i, v := range s {
		items[i] = String(v)
	}
	return Array(TypeString, items...)
}

// AsInt returns an integer value (any integer type) as int64.
func (v Value) AsInt() (int64, bool) {
	switch v.Type {
	case TypeUint8, TypeUint16, TypeUint32, TypeUint64:
		if v.Uint > math.MaxInt64 {
			return 0, false
		}
		return int64(v.Uint), true
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64:
		return v.Int, true
	}
	return 0, false
}

// String formats a value for people: arrays longer than 8 items are cut.
func (v Value) String() string {
	switch v.Type {
	case TypeUint8, TypeUint16, TypeUint32, TypeUint64:
		return fmt.Sprint(v.Uint)
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64:
		return fmt.Sprint(v.Int)
	case TypeFloat32:
		return fmt.Sprint(float32(v.Float))
	case TypeFloat64:
		return fmt.Sprint(v.Float)
	case TypeBool:
		return fmt.Sprint(v.Bool)
	case TypeString:
		return fmt.Sprintf("%q", v.Str)
	case TypeArray:
		var b strings.Builder
		fmt.Fprintf(&b, "[%s × %d:", v.Elem, len(v.Items))
		for i, it := range v.Items {
			if i == 8 {
				b.WriteString(" ...")
				break
			}
			b.WriteString(" ")
			b.WriteString(it.String())
		}
		b.WriteString("]")
		return b.String()
	}
	return fmt.Sprintf("<%s>", v.Type)
}

// KV is one metadata key/value pair.
type KV struct {
	Key   string
	Value Value
}

// TensorType is a ggml tensor type id.
type TensorType uint32

// The ggml tensor types qkbench decodes.
const (
	F32  TensorType = 0
	F16  TensorType = 1
	TQ20 TensorType = 35 // llama.cpp's TQ2_0
	I2S  TensorType = 36 // bitnet.cpp's I2_S
)

type typeInfo struct {
	name      string
	blockSize int64 // weights per block
	typeSize  int64 // bytes per block
}

// ggmlTypes lists every ggml type id this reader knows, with its block
// geometry (I2_S has none: its size depends on the flavor).
var ggmlTypes = map[TensorType]typeInfo{
	0: {"F32", 1, 4}, 1: {"F16", 1, 2},
	2: {"Q4_0", 32, 18}, 3: {"Q4_1", 32, 20},
	6: {"Q5_0", 32, 22}, 7: {"Q5_1", 32, 24},
	8: {"Q8_0", 32, 34}, 9: {"Q8_1", 32, 36},
	10: {"Q2_K", 256, 84}, 11: {"Q3_K", 256, 110}, 12: {"Q4_K", 256, 144},
	13: {"Q5_K", 256, 176}, 14: {"Q6_K", 256, 210}, 15: {"Q8_K", 256, 292},
	16: {"IQ2_XXS", 256, 66}, 17: {"IQ2_XS", 256, 74}, 18: {"IQ3_XXS", 256, 98},
	19: {"IQ1_S", 256, 50}, 20: {"IQ4_NL", 32, 18}, 21: {"IQ3_S", 256, 110},
	22: {"IQ2_S", 256, 82}, 23: {"IQ4_XS", 256, 136},
	24: {"I8", 1, 1}, 25: {"I16", 1, 2}, 26: {"I32", 1, 4}, 27: {"I64", 1, 8},
	28: {"F64", 1, 8}, 29: {"IQ1_M", 256, 56}, 30: {"BF16", 1, 2},
	34: {"TQ1_0", 256, 54}, 35: {"TQ2_0", 256, 66},
	36: {"I2_S", 0, 0},
	39: {"MXFP4", 32, 17},
}

// String returns ggml's name for the type.
func (t TensorType) String() string {
	if ti, ok := ggmlTypes[t]; ok {
		return ti.name
	}
	return fmt.Sprintf("type%d", uint32(t))
}

// Known reports whether the reader knows type t.
func (t TensorType) Known() bool { _, ok := ggmlTypes[t]; return ok }

// nbytes returns the data size of n elements of a fixed-geometry type and
// whether the type has one (false for I2_S and for n not a whole number of
// blocks).
func (t TensorType) nbytes(n int64) (int64, bool) {
	ti, ok := ggmlTypes[t]
	if !ok || ti.blockSize == 0 || n%ti.blockSize != 0 {
		return 0, false
	}
	return n / ti.blockSize * ti.typeSize, true
}

// TensorInfo describes one tensor. Dims are innermost first, as in the file:
// a rows×cols weight has Dims [cols, rows].
type TensorInfo struct {
	Name   string
	Dims   []uint64
	Type   TensorType
	Offset uint64 // from the start of the data section, as stored
	// Start is the absolute file offset of the data; Available the bytes from
	// Start to the next tensor's start (or the end of the file) — docs/format.md §4.
	Start, Available int64
	// Size is the data size for fixed-geometry types, or -1 (I2_S: it depends
	// on the flavor; see DetectI2S).
	Size int64
	// Elems is the product of Dims.
	Elems int64
}

// Rows returns the product of every dim but the first (1 for a vector).
func (t *TensorInfo) Rows() int64 {
	if len(t.Dims) == 0 {
		return 1
	}
	return t.Elems / int64(t.Dims[0])
}

// Cols returns Dims[0] (1 for a scalar).
func (t *TensorInfo) Cols() int64 {
	if len(t.Dims) == 0 {
		return 1
	}
	return int64(t.Dims[0])
}

// Shape returns "rows×cols" in qkbench's order.
func (t *TensorInfo) Shape() string { return fmt.Sprintf("%dx%d", t.Rows(), t.Cols()) }
