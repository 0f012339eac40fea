package kernels

import (
	"fmt"
	"math"
)

// BlockCols is the number of weights in one QK256 block; BlockBytes its size.
const (
	BlockCols  = 256
	BlockBytes = 64
)

// MaxDim bounds rows and cols: sizes never overflow an int, a bad count cannot
// make us allocate without limit, and an i8 row sum (|cb*q| <= 254 per column)
// always fits an int32.
const MaxDim = 1 << 22

// MaxBytes bounds the packed size of one matrix (8 GiB).
const MaxBytes = 1 << 33

// RowStride returns the bytes of one packed row: ceil(cols/256) * 64.
func RowStride(cols int) int { return (cols + BlockCols - 1) / BlockCols * BlockBytes }

// Matrix is a rows×cols QK256 weight matrix (docs/format.md §1): row-major, each row
// ceil(cols/256) blocks of 64 bytes, byte k of a block holding elements
// 4k..4k+3 in bits [1:0], [3:2], [5:4], [7:6]. Codes past Cols in a row's last
// block are padding and never change a result.
//
// A Matrix is read-only once handed to a kernel.
type Matrix struct {
	Rows, Cols int
	Data       []byte // Rows * RowStride(Cols) bytes
	Codebook   Codebook
	Scale      float32 // one scale for the tensor (1 for the seed format)
}

// CheckDims reports zero, negative or oversized dimensions.
func CheckDims(rows, cols int) error {
	if rows <= 0 || cols <= 0 {
		return fmt.Errorf("kernels: shape %dx%d: rows and cols must be positive", rows, cols)
	}
	if rows > MaxDim || cols > MaxDim {
		return fmt.Errorf("kernels: shape %dx%d: rows and cols must be at most %d", rows, cols, MaxDim)
	}
	if b := int64(rows) * int64(RowStride(cols)); b > MaxBytes || b > math.MaxInt {
		return fmt.Errorf("kernels: shape %dx%d: %d bytes of weights, more than the %d this harness handles", rows, cols, b, int64(MaxBytes))
	}
	return nil
}

// NewMatrix returns a matrix whose codes are all 0 (padding included).
func NewMatrix(rows, cols int, cb Codebook, scale float32) (*Matrix, error) {
	if err := CheckDims(rows, cols); err != nil {
		return nil, err
	}
	m := &Matrix{Rows: rows, Cols: cols, Codebook: cb, Scale: scale}
	if err := m.checkHeader(); err != nil {
		return nil, err
	}
	m.Data = make([]byte, rows*RowStride(cols))
	return m, nil
}

// FromCodes packs rows*cols codes (row-major, each 0..3) into a matrix.
func FromCodes(rows, cols int, codes []uint8, cb Codebook, scale float32) (*Matrix, error) {
	if err := CheckDims(rows, cols); err != nil {
		return nil, err
	}
	if int64(len(codes)) != int64(rows)*int64(cols) {
		return nil, fmt.Errorf("kernels: FromCodes %dx%d: got %d codes, want %d", rows, cols, len(codes), int64(rows)*int64(cols))
	}
	m, err := NewMatrix(rows, cols, cb, scale)
	if err != nil {
		return nil, err
	}
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			code := codes[r*cols+c]
			if code > 3 {
				return nil, fmt.Errorf("kernels: FromCodes: code at row %d col %d is %d, want 0..3", r, c, code)
			}
			m.SetCode(r, c, code)
		}
	}
	return m, nil
}

// FromBytes wraps packed data (not copied) and validates it.
func FromBytes(rows, cols int, data []byte, cb Codebook, scale float32) (*Matrix, error) {
	m := &Matrix{Rows: rows, Cols: cols, Data: data, Codebook: cb, Scale: scale}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Matrix) checkHeader() error {
	if err := m.Codebook.Validate(); err != nil {
		return err
	}
	if math.IsNaN(float64(m.Scale)) || math.IsInf(float64(m.Scale), 0) {
		return fmt.Errorf("kernels: matrix scale is %v, want a finite number", m.Scale)
	}
	return nil
}

// Validate checks dims, data length, codebook and scale.
func (m *Matrix) Validate() error {
	if m == nil {
		return fmt.Errorf("kernels: nil matrix")
	}
	if err := CheckDims(m.Rows, m.Cols); err != nil {
		return err
	}
	if err := m.checkHeader(); err != nil {
		return err
	}
	if want := m.Rows * RowStride(m.Cols); len(m.Data) != want {
		return fmt.Errorf("kernels: matrix %dx%d: data is %d bytes, want %d (rows * ceil(cols/256) * 64)", m.Rows, m.Cols, len(m.Data), want)
	}
	return nil
}

// Stride returns RowStride(m.Cols).
func (m *Matrix) Stride() int { return RowStride(m.Cols) }

// Blocks returns the blocks per row.
func (m *Matrix) Blocks() int { return (m.Cols + BlockCols - 1) / BlockCols }

// Row returns the packed bytes of row r (padding included).
func (m *Matrix) Row(r int) []byte {
	s := m.Stride()
	return m.Data[r*s : (r+1)*s : (r+1)*s]
}

// Code returns the code of element (r, c); c may index padding.
func (m *Matrix) Code(r, c int) uint8 {
	b := m.Data[r*m.Stride()+c>>2]
	return b >> (2 * uint(c&3)) & 3
}

// SetCode stores code (0..3) at element (r, c); c may index padding.
func (m *Matrix) SetCode(r, c int, code uint8) {
	i := r*m.Stride() + c>>2
	sh := 2 * uint(c&3)
	m.Data[i] = m.Data[i]&^(3<<sh) | (code&3)<<sh
}

// Weight returns scale * cb[code(r, c)].
func (m *Matrix) Weight(r, c int) float32 { return m.Scale * float32(m.Codebook[m.Code(r, c)]) }

// Unpack returns the rows*cols codes row-major, padding dropped.
func (m *Matrix) Unpack() []uint8 {
	out := make([]uint8, m.Rows*m.Cols)
	for r := 0; r < m.Rows; r++ {
		for c := 0; c < m.Cols; c++ {
			out[r*m.Cols+c] = m.Code(r, c)
		}
	}
	return out
}

// FillPadding sets every padding code (columns cols..blocks*256-1) to code.
// Tests use it to prove that padding never changes a result.
func (m *Matrix) FillPadding(code uint8) {
	padded := m.Blocks() * BlockCols
	for r := 0; r < m.Rows; r++ {
		for c := m.Cols; c < padded; c++ {
			m.SetCode(r, c, code)
		}
	}
}

// Clone returns a deep copy.
func (m *Matrix) Clone() *Matrix {
	c := *m
	c.Data = append([]byte(nil), m.Data...)
	return &c
}

// WeightBytes is rows * rowStride, the bytes a GEMV must read (docs/format.md §5).
func (m *Matrix) WeightBytes() int64 { return int64(m.Rows) * int64(m.Stride()) }

// MACs is rows * cols (docs/format.md §5).
func (m *Matrix) MACs() int64 { return int64(m.Rows) * int64(m.Cols) }

// Shape returns "RxC".
func (m *Matrix) Shape() string { return fmt.Sprintf("%dx%d", m.Rows, m.Cols) }
