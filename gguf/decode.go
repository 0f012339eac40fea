package gguf

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/qkbench/qkbench/kernels"
)

// TQ2Codebook is TQ2_0's meaning of a code: weight = (code-1) * d.
var TQ2Codebook = kernels.Codebook{-1, 0, 1, 2}

// Float16 converts IEEE 754 half-precision bits to float32.
func Float16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | man<<13)
	case exp == 0:
		// Zero or subnormal: man * 2^-24.
		v := float32(man) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
}

// ToFloat16 converts float32 to half precision, rounding to nearest even.
func ToFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23&0xff) - 127 + 15
	man := b & 0x7fffff
	switch {
	case b&0x7fffffff > 0x7f800000: // NaN
		return sign | 0x7e00
	case exp >= 0x1f: // overflow or Inf
		return sign | 0x7c00
	case exp <= 0:
		if exp < -10 {
			return sign
		}
		man |= 0x800000
		shift := uint32(14 - exp)
		h := man >> shift
		rem := man & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || rem == half && h&1 == 1 {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(exp)<<10 | man>>13
	rem := man & 0x1fff
	if rem > 0x1000 || rem == 0x1000 && h&1 == 1 {
		h++ // may carry into the exponent, which is still right
	}
	return sign | uint16(h)
}

// accessor gives the float weight of flattened element e, and where the
// tensor has one scale per block, the block size and per-block scale.
type accessor struct {
	weight    func(e int64) float32
	code      func(e int64) uint8 // nil for F32/F16
	cb        kernels.Codebook
	block     int64                   // elements per scale block (0: one scale)
	scale     func(blk int64) float32 // scale of block blk
	layout    I2SLayout
	tensorScl float32
}

func (f *File) accessorFor(t *TensorInfo, opt Options) (*accessor, error) {
	data, err := f.TensorData(t)
	if err != nil {
		return nil, err
	}
	n := t.Elems
	switch t.Type {
	case F32:
		return &accessor{weight: func(e int64) float32 {
			return math.Float32frombits(binary.LittleEndian.Uint32(data[4*e:]))
		}}, nil
	case F16:
		return &accessor{weight: func(e int64) float32 {
			return Float16(binary.LittleEndian.Uint16(data[2*e:]))
		}}, nil
	case TQ20:
		a := &accessor{cb: TQ2Codebook, block: 256}
		a.code = func(e int64) uint8 {
			blk, j := e/256, e%256
			half, jj := j/128, j%128
			return data[blk*66+half*32+jj%32] >> (2 * uint(jj/32)) & 3
		}
		a.scale = func(blk int64) float32 { return Float16(binary.LittleEndian.Uint16(data[blk*66+64:])) }
		a.weight = func(e int64) float32 { return float32(TQ2Codebook[a.code(e)]) * a.scale(e/256) }
		return a, nil
	case I2S:
	default:
		return nil, fmt.Errorf("gguf: tensor %q: type %s cannot be decoded (qkbench decodes I2_S, TQ2_0, F32 and F16)", t.Name, t.Type)
	}
	l, err := f.DetectI2S(t, opt)
	if err != nil {
		return nil, err
	}
	a := &accessor{layout: l}
	switch {
	case l.Flavor == GgmlQk256NoScale && l.Reading == ReadingSeed:
		stride := (l.Cols + 255) / 256 * 64
		cols := l.Cols
		a.cb, a.tensorScl = kernels.QK256, 1
		a.code = func(e int64) uint8 {
			r, c := e/cols, e%cols
			return data[r*stride+c/4] >> (2 * uint(c%4)) & 3
		}
	case l.Flavor == GgmlQk256NoScale:
		if n%128 != 0 {
			return nil, fmt.Errorf("gguf: tensor %q (%s): bitnet-cpp reading needs a multiple of 128 elements, has %d (bitnet.cpp's quantize_i2_s drops the last %d weights)", t.Name, t.Shape(), n, n%128)
		}
		a.cb, a.tensorScl = kernels.Ternary, l.Scale
		a.code = func(e int64) uint8 {
			blk, j := e/128, e%128
			return data[blk*32+j%32] >> (6 - 2*uint(j/32)) & 3
		}
	default:
		nblk := (n + 31) / 32
		bb := int64(8)
		if l.Flavor == BitNet32F16 {
			bb = 10
			a.scale = func(blk int64) float32 { return Float16(binary.LittleEndian.Uint16(data[blk*10+8:])) }
		} else {
			sib, _ := f.Tensor(l.Sibling)
			if sib.Type != F32 && sib.Type != F16 {
				return nil, fmt.Errorf("gguf: tensor %q: sibling scale tensor %q is %s, want F32 or F16", t.Name, sib.Name, sib.Type)
			}
			if sib.Elems < nblk {
				return nil, fmt.Errorf("gguf: tensor %q: sibling scale tensor %q has %d scales, want %d (one per 32-weight block)", t.Name, sib.Name, sib.Elems, nblk)
			}
			sd, err := f.TensorData(sib)
			if err != nil {
				return nil, err
			}
			if sib.Type == F32 {
				a.scale = func(blk int64) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(sd[4*blk:])) }
			} else {
				a.scale = func(blk int64) float32 { return Float16(binary.LittleEndian.Uint16(sd[2*blk:])) }
			}
		}
		a.cb, a.block = kernels.QK256, 32
		a.code = func(e int64) uint8 {
			blk, j := e/32, e%32
			return data[blk*bb+j/4] >> (2 * uint(j%4)) & 3
		}
	}
	if a.block == 0 {
		s, cb := a.tensorScl, a.cb
		a.weight = func(e int64) float32 { return s * float32(cb[a.code(e)]) }
	} else {
		cb := a.cb
		a.weight = func(e int64) float32 { return a.scale(e/a.block) * float32(cb[a.code(e)]) }
	}
	return a, nil
}

// MaxDecodeFloat is the most weights DecodeFloat returns (256 MiB of float32):
// a sparse file can claim a tensor of any size.
const MaxDecodeFloat = 1 << 26

// DecodeFloat returns the first maxRows rows (all rows if maxRows <= 0) of
// a tensor as float32 weights, row-major: w[r*cols+c] = weight(r, c). For
// I2_S flavors with per-block scales each weight is its block's scale times
// qk256[code]; for TQ2_0, (code-1)*d.
func (f *File) DecodeFloat(t *TensorInfo, opt Options, maxRows int) (w []float32, rows, cols int, err error) {
	a, err := f.accessorFor(t, opt)
	if err != nil {
		return nil, 0, 0, err
	}
	r64, c64 := t.Rows(), t.Cols()
	if maxRows > 0 && int64(maxRows) < r64 {
		r64 = int64(maxRows)
	}
	n := r64 * c64
	if n > int64(f.Size)*4+1024 {
		return nil, 0, 0, fmt.Errorf("gguf: tensor %q: %d weights to decode is more than this file can hold", t.Name, n)
	}
	if n > MaxDecodeFloat {
		return nil, 0, 0, fmt.Errorf("gguf: tensor %q: %d rows of %d weights is %d weights, more than the %d DecodeFloat returns at once; ask for fewer rows", t.Name, r64, c64, n, MaxDecodeFloat)
	}
	w = make([]float32, n)
	for e := range w {
		w[e] = a.weight(int64(e))
	}
	return w, int(r64), int(c64), nil
}

// DecodeMatrix returns a tensor as a QK256 matrix (docs/format.md §1) and, for I2_S,
// the detected or forced layout. The seed reading returns a view of the file
// (valid until Close, read-only); every other layout is repacked. Tensors
// with per-block scales become a matrix only when all block scales are
// equal; F32 and F16 never do.
func (f *File) DecodeMatrix(t *TensorInfo, opt Options) (*kernels.Matrix, I2SLayout, error) {
	if t.Type == F32 || t.Type == F16 {
		return nil, I2SLayout{}, fmt.Errorf("gguf: tensor %q is %s: float weights cannot become a 2-bit QK256 matrix (use DecodeFloat)", t.Name, t.Type)
	}
	a, err := f.accessorFor(t, opt)
	if err != nil {
		return nil, I2SLayout{}, err
	}
	rows64, cols64 := t.Rows(), t.Cols()
	if err := kernels.CheckDims(int(min(rows64, 1<<40)), int(min(cols64, 1<<40))); err != nil {
		return nil, a.layout, fmt.Errorf("gguf: tensor %q (%s): %w", t.Name, t.Shape(), err)
	}
	rows, cols := int(rows64), int(cols64)
	// Bound memory by the file: a QK256 matrix is never more than 16 times
	// the bytes it decodes from (8 when cols >= 32) plus a little.
	if mb := rows64 * int64(kernels.RowStride(cols)); mb > 16*t.Available+1<<16 {
		return nil, a.layout, fmt.Errorf("gguf: tensor %q (%s): a %d-byte QK256 matrix from %d bytes of data: refusing a shape that expands the data more than 16 times", t.Name, t.Shape(), mb, t.Available)
	}
	scale := a.tensorScl
	if a.block > 0 {
		nblk := (t.Elems + a.block - 1) / a.block
		scale = a.scale(0)
		for b := int64(1); b < nblk; b++ {
			if s := a.scale(b); s != scale && !(s != s && scale != scale) {
				return nil, a.layout, fmt.Errorf("gguf: tensor %q (%s): block scales differ (block 0 has %g, block %d has %g): with one scale per %d weights it cannot become one QK256 matrix (one scale per tensor); use DecodeFloat", t.Name, t.Type, scale, b, s, a.block)
			}
		}
	}
	if math.IsNaN(float64(scale)) || math.IsInf(float64(scale), 0) {
		return nil, a.layout, fmt.Errorf("gguf: tensor %q: scale is %v, want a finite number", t.Name, scale)
	}
	l := a.layout
	if t.Type == I2S && l.Flavor == GgmlQk256NoScale && l.Reading == ReadingSeed {
		data, err := f.TensorData(t)
		if err != nil {
			return nil, l, err
		}
		m, err := kernels.FromBytes(rows, cols, data[:l.Expected:l.Expected], kernels.QK256, 1)
		if err != nil {
			return nil, l, fmt.Errorf("gguf: tensor %q: %w", t.Name, err)
		}
		return m, l, nil
	}
	m, err := kernels.NewMatrix(rows, cols, a.cb, scale)
	if err != nil {
		return nil, l, fmt.Errorf("gguf: tensor %q: %w", t.Name, err)
	}
	if t.Type == I2S && l.Flavor == GgmlQk256NoScale && cols%128 == 0 {
		data, _ := f.TensorData(t)
		repackBitnet(m.Data, data, rows, cols)
		return m, l, nil
	}
	if t.Type == I2S && l.Flavor != GgmlQk256NoScale && cols%32 == 0 {
		data, _ := f.TensorData(t)
		bb := 8
		if l.Flavor == BitNet32F16 {
			bb = 10
		}
		stride := m.Stride()
		per := cols / 32
		for r := 0; r < rows; r++ {
			dst := m.Data[r*stride:]
			for b := 0; b < per; b++ {
				copy(dst[b*8:b*8+8], data[(r*per+b)*bb:])
			}
		}
		return m, l, nil
	}
	for r := 0; r < rows; r++ {
		base := int64(r) * cols64
		for c := 0; c < cols; c++ {
			m.SetCode(r, c, a.code(base+int64(c)))
		}
	}
	return m, l, nil
}

// repackBitnet converts bitnet.cpp's x86 I2_S layout (128-weight blocks of 32
// bytes, byte j = weights j, j+32, j+64, j+96 in bits [7:6], [5:4], [3:2],
// [1:0]) into QK256 seq packing, for cols a multiple of 128 so that no block
// straddles rows. The equivalent loop is
//
//	for each weight e: m.SetCode(e/cols, e%cols, src[e/128*32+e%32] >> (6-2*(e%128/32)) & 3)
//
// A 128-weight block is exactly half a QK256 block (32 bytes): output byte k
// holds weights 4k..4k+3 of the block, all in group g = k/8, taken from input
// bytes 4(k%8)..4(k%8)+3 at shift 6-2g.
func repackBitnet(dst, src []byte, rows, cols int) {
	stride := kernels.RowStride(cols)
	per := cols / 128
	for r := 0; r < rows; r++ {
		drow := dst[r*stride : r*stride+per*32]
		srow := src[r*per*32 : (r+1)*per*32]
		for b := 0; b < per; b++ {
			s := (*[32]byte)(srow[b*32:])
			d := (*[32]byte)(drow[b*32:])
			w0 := binary.LittleEndian.Uint64(s[0:])
			w1 := binary.LittleEndian.Uint64(s[8:])
			w2 := binary.LittleEndian.Uint64(s[16:])
			w3 := binary.LittleEndian.Uint64(s[24:])
			for g := 0; g < 4; g++ {
				sh := 6 - 2*uint(g)
				out := pair(w0, sh) | pair(w1, sh)<<16 | pair(w2, sh)<<32 | pair(w3, sh)<<48
				binary.LittleEndian.PutUint64(d[g*8:g*8+8], out)
			}
		}
	}
}

// pair takes 8 bitnet bytes (m, ..., m+7 of a block), extracts the 2-bit
// field at shift sh from each and packs them seq-style into two bytes: the
// low byte holds the fields of bytes 0..3 in bits [1:0], [3:2], [5:4],
// [7:6], the high byte those of bytes 4..7.
func pair(w uint64, sh uint) uint64 {
	x := w >> sh & 0x0303030303030303
	// Multiplying by 1<<24 | 1<<18 | 1<<12 | 1<<6 moves field k of each
	// 4-byte half to bit 24+2k (low half) or 56+2k (high half); every other
	// partial product lands on its own even bit pair, so nothing carries.
	p := x * 0x1041040
	return p>>24&0xff | p>>48&0xff00
}

// PackBitnet packs a ternary matrix (codes 0, 1, 2 meaning -1, 0, +1) into
// bitnet.cpp's x86 I2_S bytes exactly as bitnet.cpp's quantize_i2_s writes
// them: the rows*cols codes flattened row-major, cut into 128-weight blocks of
// 32 bytes (byte j = weights j, j+32, j+64, j+96 in bits [7:6], [5:4], [3:2],
// [1:0]); the last n%128 weights (if any) are left as zero bytes as bitnet.cpp
// leaves them; then the f32 scale at byte n/4 and zero padding to n/4+32 bytes.
// Code 3 (unused by bitnet.cpp) is an error.
func PackBitnet(m *kernels.Matrix, scale float32) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	n := m.Rows * m.Cols
	out := make([]byte, n/4+32)
	full := n / 128 * 128
	for r := 0; r < m.Rows; r++ {
		row := m.Row(r)
		for c := 0; c < m.Cols; c++ {
			code := row[c>>2] >> (2 * uint(c&3)) & 3
			if code == 3 {
				return nil, fmt.Errorf("gguf: PackBitnet: code 3 at row %d col %d: bitnet.cpp's I2_S holds only codes 0, 1, 2", r, c)
			}
			e := r*m.Cols + c
			if e >= full {
				continue
			}
			j := e % 128
			out[e/128*32+j%32] |= code << (6 - 2*uint(j/32))
		}
	}
	binary.LittleEndian.PutUint32(out[n/4:], math.Float32bits(scale))
	return out, nil
}
