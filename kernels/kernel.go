// Package kernels is the contract between qkbench's packages: the QK256 matrix
// (docs/format.md §1), codebooks, the i8 activation quantizer and float64 oracle
// (docs/format.md §2), agreement metrics (docs/format.md §3), the Kernel interface and the
// registry that every backend adds itself to.
//
// A GEMV through a kernel goes in three steps:
//
//	p, err := k.Prepare(m)      // once per matrix; may repack W (reported apart)
//	in := p.NewInput()          // once per caller; owns per-x buffers
//	err = in.Load(x)            // once per x: quantize / permute x (part of GEMV time)
//	err = in.GEMV(y, 0, m.Rows) // y[r] for r in [r0, r1); disjoint ranges may run concurrently
package kernels

import (
	"fmt"
)

// Mode is the activation mode of docs/format.md §2.
type Mode int

const (
	// F32 kernels use x as given; agreement within 1e-4 of the row's L1 norm.
	F32 Mode = iota + 1
	// I8 kernels quantize x per tensor (QuantizeI8) and must match ref-i8 bit for bit.
	I8
	// Peer kernels compute with their own numerics (for example ggml's Q8_K);
	// agreement is cosine >= 0.99 against the oracle.
	Peer
)

func (m Mode) String() string {
	switch m {
	case F32:
		return "f32"
	case I8:
		return "i8"
	case Peer:
		return "peer"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Info describes a kernel.
type Info struct {
	ID      string // "<impl>-<mode>", e.g. "go-i8", "avx512vnni-i8", "ggml-tq2_0-zen4"
	Backend string // the package that implements it: "scalar", "amd64", "arm64", "cgo", or "plugin"
	ISA     string // the instruction set it needs: "go", "avx2", "avx512vnni+vbmi", "neon", ...
	Mode    Mode
	// Code says what computes the result, for receipts: algorithm, layout and
	// blocking, e.g. "Go: 4-column lookup tables rebuilt per 64 columns, 2 rows per pass".
	Code string
	// Library is the shared library a plugin kernel was loaded from
	// (backend "plugin"); nil for kernels built into qkbench.
	Library *Library
}

// Library identifies the file a plugin kernel came from, for receipts.
type Library struct {
	Path   string // absolute
	SHA256 string // hex digest of the file when it was loaded
}

// Kernel is one QK256 GEMV implementation.
type Kernel interface {
	Info() Info
	// Available returns nil when this kernel can run in this process, or an
	// error saying why not (CPU lacks AVX-512 VNNI, built with purego, peer
	// library missing, disabled by QKBENCH_DISABLE...). Kernels never fall
	// back to other code: an unavailable kernel does not run.
	Available() error
	// Supports returns nil when the kernel computes with this codebook.
	Supports(cb Codebook) error
	// Prepare validates m and brings it into the kernel's layout. It fails
	// when the kernel is unavailable or does not support m's codebook.
	Prepare(m *Matrix) (Prepared, error)
}

// Prepared is a matrix in a kernel's layout. It is read-only and may be shared
// by several goroutines, each with its own Input.
type Prepared interface {
	Kernel() Kernel
	Matrix() *Matrix
	// NewInput returns a buffer for one activation vector at a time.
	NewInput() Input
}

// Input is a prepared matrix paired with one activation vector.
type Input interface {
	// Load takes x (len == cols): validates its length and does the per-x work
	// (quantization, permutation, tables). It must not run concurrently with
	// GEMV on the same Input. The Input may keep a reference to x until the
	// next Load.
	Load(x []float32) error
	// GEMV computes y[r] for r0 <= r < r1 and writes no other element of y
	// (len(y) == rows). Calls on disjoint ranges may run concurrently.
	GEMV(y []float32, r0, r1 int) error
}

// CheckX reports a length mismatch between x and the matrix.
func CheckX(id string, m *Matrix, x []float32) error {
	if x == nil {
		return fmt.Errorf("kernels: %s: x is nil, want %d values", id, m.Cols)
	}
	if len(x) != m.Cols {
		return fmt.Errorf("kernels: %s: len(x)=%d, want %d (cols of %s)", id, len(x), m.Cols, m.Shape())
	}
	return nil
}

// CheckY reports a bad y length or row range.
func CheckY(id string, m *Matrix, y []float32, r0, r1 int) error {
	if y == nil {
		return fmt.Errorf("kernels: %s: y is nil, want %d values", id, m.Rows)
	}
	if len(y) != m.Rows {
		return fmt.Errorf("kernels: %s: len(y)=%d, want %d (rows of %s)", id, len(y), m.Rows, m.Shape())
	}
	if r0 < 0 || r1 > m.Rows || r0 > r1 {
		return fmt.Errorf("kernels: %s: row range [%d, %d) outside [0, %d)", id, r0, r1, m.Rows)
	}
	return nil
}

// CheckGEMV is the common start of every GEMV: CheckY, then ErrNotLoaded
// when no x was loaded yet.
func CheckGEMV(id string, m *Matrix, y []float32, r0, r1 int, loaded bool) error {
	if err := CheckY(id, m, y, r0, r1); err != nil {
		return err
	}
	if !loaded {
		return ErrNotLoaded
	}
	return nil
}

// CheckPrepare is the common part of every Prepare: the kernel is available,
// the matrix valid and its codebook supported.
func CheckPrepare(k Kernel, m *Matrix) error {
	id := k.Info().ID
	if err := Usable(k); err != nil {
		return fmt.Errorf("kernels: %s is unavailable: %w", id, err)
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("kernels: %s: %w", id, err)
	}
	if err := k.Supports(m.Codebook); err != nil {
		return fmt.Errorf("kernels: %s: %w", id, err)
	}
	return nil
}

// ErrNotLoaded is returned by GEMV before any Load.
var ErrNotLoaded = fmt.Errorf("kernels: GEMV called before Load")

// GEMV runs one whole GEMV through p: y = W x.
func GEMV(p Prepared, x, y []float32) error {
	in := p.NewInput()
	if err := in.Load(x); err != nil {
		return err
	}
	return in.GEMV(y, 0, p.Matrix().Rows)
}

// Run prepares m for k and runs one GEMV.
func Run(k Kernel, m *Matrix, x, y []float32) error {
	p, err := k.Prepare(m)
	if err != nil {
		return err
	}
	return GEMV(p, x, y)
}

// Base implements Info, and Supports for every codebook; kernels embed it.
type Base struct{ I Info }

// Info returns the kernel's description.
func (b *Base) Info() Info { return b.I }

// Supports accepts every valid codebook.
func (b *Base) Supports(cb Codebook) error { return cb.Validate() }

// ChunkedX holds the x a kernel reads in whole chunks of n columns: x itself
// when cols is a multiple of n, else a copy zero-padded to the next multiple,
// so that the kernel never reads past x and padding codes meet x = 0.
type ChunkedX struct {
	pad []float32 // nil when cols is a multiple of n
	x   []float32 // what the kernel reads: x itself or pad; nil before Set
}

// NewChunkedX returns the holder for cols columns read in chunks of n >= 1.
func NewChunkedX(cols, n int) ChunkedX {
	if cols%n == 0 {
		return ChunkedX{}
	}
	return ChunkedX{pad: make([]float32, (cols+n-1)/n*n)}
}

// Set makes x (or its padded copy) what the kernel reads; x has cols values
// (the caller checked it with CheckX).
func (c *ChunkedX) Set(x []float32) {
	c.x = x
	if c.pad != nil {
		copy(c.pad, x)
		c.x = c.pad
	}
}

// X returns what the kernel reads: nil before the first Set.
func (c *ChunkedX) X() []float32 { return c.x }
