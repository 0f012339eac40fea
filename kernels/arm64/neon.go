package arm64

//go:generate sh -c "cd ../_gen && go run ./arm64"

import (
	"fmt"
	"math"

	"github.com/qkbench/qkbench/kernels"
)

func init() {
	kernels.Register(NeonF32)
	kernels.Register(NeonDotI8)
	kernels.Register(NeonI8)
}

// chunkCols is the number of columns one 16-byte vector of codes covers in
// the neon layout; rows are cut into ceil(cols/64) chunks.
const chunkCols = 64

// rowsPerPass is how many rows one call of the assembly computes.
const rowsPerPass = 4

// NeonF32 is neon-f32: float32 FMLA over weights built from the codebook with
// two TBL lookups per 16 codes.
var NeonF32 kernels.Kernel = &neonKernel{
	Base: kernels.Base{I: kernels.Info{
		ID: "neon-f32", Backend: "arm64", ISA: "neon", Mode: kernels.F32,
		Code: "Go asm (generated), NEON: W repacked per 64 columns so byte k holds columns 16j+k in bits 2j, 4 rows interleaved per chunk; " +
			"USHR/AND + 2 TBL give the top two bytes of each weight's float32 bits, ZIP1/ZIP2 build the floats, " +
			"FMLA, 4 rows per pass with 2 accumulators each",
	}},
	feats: []Feature{ASIMD},
}

// NeonDotI8 is neondot-i8: docs/format.md §2's i8 mode (quantizeI8) with TBL
// lookups of the signed codebook and SDOT.
var NeonDotI8 kernels.Kernel = &neonKernel{
	Base: kernels.Base{I: kernels.Info{
		ID: "neondot-i8", Backend: "arm64", ISA: "neon+dotprod", Mode: kernels.I8,
		Code: "Go asm (generated), NEON+dotprod: x quantized with NEON (FMUL+FCVTNS, bit-identical to kernels.QuantizeI8); W repacked per 64 columns so byte k holds columns 16j+k in bits 2j, 4 rows interleaved per chunk; " +
			"USHR/AND + TBL of the signed codebook, SDOT into int32, 4 rows per pass with 2 accumulators each",
	}},
	feats: []Feature{ASIMD, ASIMDDP},
}

// NeonI8 is neon-i8: neondot-i8 for CPUs without dotprod (Cortex-A53,
// A72...): the same layout and lookups, widening multiplies instead of SDOT.
var NeonI8 kernels.Kernel = &neonKernel{
	Base: kernels.Base{I: kernels.Info{
		ID: "neon-i8", Backend: "arm64", ISA: "neon", Mode: kernels.I8,
		Code: "Go asm (generated), NEON: x quantized with NEON (FMUL+FCVTNS, bit-identical to kernels.QuantizeI8); W repacked per 64 columns so byte k holds columns 16j+k in bits 2j, 4 rows interleaved per chunk; " +
			"USHR/AND + TBL of the signed codebook, SMULL+SMLAL2 into int16, SADALP into int32, 4 rows per pass with 2 accumulators each",
	}},
	feats: []Feature{ASIMD},
	nodot: true,
}

type neonKernel struct {
	kernels.Base
	feats []Feature
	nodot bool // i8 without SDOT (neon-i8)
}

func (k *neonKernel) Available() error { return need(k.feats...) }

func (k *neonKernel) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if err := kernels.CheckPrepare(k, m); err != nil {
		return nil, err
	}
	nchunk := (m.Cols + chunkCols - 1) / chunkCols
	p := &neonPrepared{k: k, m: m, nchunk: nchunk, gstride: nchunk * 16 * rowsPerPass, data: repack(m)}
	var err error
	if p.i8tab, p.f32tab, err = tables(m.Codebook); err != nil {
		return nil, fmt.Errorf("kernels: %s: %w", k.I.ID, err)
	}
	return p, nil
}

// tables returns the 16-entry lookup tables of cb, indexed by a 4-bit value
// whose low two bits are the code: i8[i] = int8(cb[i&3]), and f32[i],
// f32[16+i] bytes 2 and 3 of float32(cb[i&3]) (bytes 0 and 1 are zero for
// every integer in [-2, 2]).
func tables(cb kernels.Codebook) (i8 [16]byte, f32 [32]byte, err error) {
	if err := cb.Validate(); err != nil {
		return i8, f32, err
	}
	for i := 0; i < 16; i++ {
		i8[i] = byte(cb[i&3])
		bits := math.Float32bits(float32(cb[i&3]))
		if bits&0xffff != 0 {
			// Unreachable for a valid codebook, but the lookup only
			// rebuilds the top 16 bits.
			return i8, f32, fmt.Errorf("codebook entry %d (%d) has float32 bits %#08x, want the low 16 bits zero", i&3, cb[i&3], bits)
		}
		f32[i] = byte(bits >> 16)
		f32[16+i] = byte(bits >> 24)
	}
	return i8, f32, nil
}

// repack returns m's codes in the neon layout. Rows go in groups of four
// (the last group padded with rows of code 0); group g starts at byte
// g*64*nchunk, and its chunk t (64 bytes) holds columns 64t..64t+63 of its
// four rows, 16 bytes per row. In a row's 16 bytes, byte k holds the codes of
// columns 64t+16j+k (j = 0..3) in bits [2j+1:2j]; codes past Cols are 0.
// Then (byte>>2j) & 3 is stream j, 16 consecutive columns, and a 16-entry
// table indexed by (byte>>2j) & 15 with entry i = f(cb[i&3]) needs a mask only
// for j = 0, 1. One 64-byte load brings a chunk of all four rows.
func repack(m *kernels.Matrix) []byte {
	nchunk := (m.Cols + chunkCols - 1) / chunkCols
	groups := (m.Rows + rowsPerPass - 1) / rowsPerPass
	out := make([]byte, groups*rowsPerPass*nchunk*16)
	for r := 0; r < m.Rows; r++ {
		grp := out[(r/rowsPerPass)*nchunk*16*rowsPerPass:]
		src := m.Row(r)
		for c := 0; c < m.Cols; c++ {
			code := src[c>>2] >> (2 * (c & 3)) & 3
			t, j, k := c/chunkCols, (c%chunkCols)/16, c%16
			grp[16*rowsPerPass*t+16*(r%rowsPerPass)+k] |= code << (2 * j)
		}
	}
	return out
}

type neonPrepared struct {
	k       *neonKernel
	m       *kernels.Matrix
	data    []byte // repacked codes, ceil(rows/4)*gstride bytes
	nchunk  int    // ceil(cols/64) chunks per row
	gstride int    // 64*nchunk bytes per group of 4 rows
	i8tab   [16]byte
	f32tab  [32]byte
}

func (p *neonPrepared) Kernel() kernels.Kernel  { return p.k }
func (p *neonPrepared) Matrix() *kernels.Matrix { return p.m }

func (p *neonPrepared) NewInput() kernels.Input {
	if p.k.I.Mode == kernels.I8 {
		// q is padded with zeros to whole chunks: padding codes meet q = 0.
		return &i8Input{p: p, q: make([]int8, p.nchunk*chunkCols)}
	}
	return &f32Input{p: p, x: kernels.NewChunkedX(p.m.Cols, chunkCols)}
}

type i8Input struct {
	p      *neonPrepared
	q      []int8
	inv    float32
	loaded bool
}

func (in *i8Input) Load(x []float32) error {
	m := in.p.m
	if err := kernels.CheckX(in.p.k.I.ID, m, x); err != nil {
		return err
	}
	s := quantizeI8(x, in.q)
	in.inv = kernels.I8Inv(m.Scale, s)
	in.loaded = true
	return nil
}

func (in *i8Input) GEMV(y []float32, r0, r1 int) error {
	p := in.p
	if err := kernels.CheckGEMV(p.k.I.ID, p.m, y, r0, r1, in.loaded); err != nil {
		return err
	}
	if len(in.q) < p.nchunk*chunkCols || len(p.data) < (r1+rowsPerPass-1)/rowsPerPass*p.gstride {
		// Unreachable (NewInput and repack size them), but the assembly must
		// never read past its buffers.
		return fmt.Errorf("kernels: %s: internal buffers too short (q %d, data %d)", p.k.I.ID, len(in.q), len(p.data))
	}
	if r0 == r1 {
		return nil
	}
	// Each assembly function called directly: through a func value, out
	// escaped to the heap (an allocation per GEMV and thread).
	var out [4]int32
	for g := r0 / rowsPerPass; g*rowsPerPass < r1; g++ {
		if p.k.nodot {
			i8Rows4NoDot(&p.data[g*p.gstride], &in.q[0], p.nchunk, &p.i8tab, &out)
		} else {
			i8Rows4(&p.data[g*p.gstride], &in.q[0], p.nchunk, &p.i8tab, &out)
		}
		// The group may straddle r0 or r1: write only rows in [r0, r1).
		for i := max(r0-g*rowsPerPass, 0); i < rowsPerPass && g*rowsPerPass+i < r1; i++ {
			y[g*rowsPerPass+i] = float32(out[i]) * in.inv
		}
	}
	return nil
}

type f32Input struct {
	p *neonPrepared
	x kernels.ChunkedX // x, or a copy padded to whole chunks
}

func (in *f32Input) Load(x []float32) error {
	if err := kernels.CheckX(in.p.k.I.ID, in.p.m, x); err != nil {
		return err
	}
	in.x.Set(x)
	return nil
}

func (in *f32Input) GEMV(y []float32, r0, r1 int) error {
	p := in.p
	x := in.x.X()
	if err := kernels.CheckGEMV(p.k.I.ID, p.m, y, r0, r1, x != nil); err != nil {
		return err
	}
	if len(x) < p.nchunk*chunkCols || len(p.data) < (r1+rowsPerPass-1)/rowsPerPass*p.gstride {
		// Unreachable (Load pads x, repack pads rows), but the assembly must
		// never read past its buffers.
		return fmt.Errorf("kernels: %s: loaded x has %d values, want %d", p.k.I.ID, len(x), p.nchunk*chunkCols)
	}
	if r0 == r1 {
		return nil
	}
	var out [32]float32
	sc := p.m.Scale
	for g := r0 / rowsPerPass; g*rowsPerPass < r1; g++ {
		f32Rows4(&p.data[g*p.gstride], &x[0], p.nchunk, &p.f32tab, &out)
		// The group may straddle r0 or r1: write only rows in [r0, r1).
		for i := max(r0-g*rowsPerPass, 0); i < rowsPerPass && g*rowsPerPass+i < r1; i++ {
			a := out[8*i : 8*i+8]
			y[g*rowsPerPass+i] = sc * (((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7])))
		}
	}
	return nil
}
