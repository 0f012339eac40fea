package amd64

import (
	"math"
	"unsafe"

	"github.com/qkbench/qkbench/kernels"
)

func init() {
	kernels.Register(AVX512LUTI8)
}

// Geometry of avx512lut-i8 (lutSets comes from the generator, see
// avx512_consts.go; lutChunkOct there fixes the rest).
const (
	lutGroup    = 3                               // activations per table (64 entries)
	lutOctet    = 8                               // groups whose indices fill 3 words a row (2 bits per weight)
	lutRowBlock = 32 * lutSets                    // rows per pass
	lutPeriod   = 4                               // octets between int16 -> int32 widenings (32 lookups)
	lutPadCols  = lutGroup * lutOctet * lutPeriod // columns are padded to a multiple of this (96)
	lutChunkPer = 4                               // periods per column chunk: 128 tables = 16 KiB, L1-resident
)

// Geometry of the base-3 path, for codebooks of at most three distinct
// values (lut3PeriodWords, the words between int16 -> int32 widenings,
// comes from the generator; lut3Chunk there fixes the rest).
const (
	lut3Word     = 9                          // columns per index word (3 groups of 3)
	lut3PadCols  = lut3Word * lut3PeriodWords // columns are padded to a multiple of this (108)
	lut3ChunkPer = 4                          // periods per column chunk: 144 tables = 9 KiB
)

// AVX512LUTI8 is the avx512lut-i8 kernel (T-MAC style): one exact int16
// table of Σ_j cb[c_j]*q_j per group of three quantized activations,
// shared by every row and built in GEMV per column chunk by the core that
// uses it; 32 rows side by side, so one table lookup serves 32 rows.
//
// A codebook with at most three distinct values (ternary) takes the base-3
// path: a group's index is d0 + 3d1 + 9d2 < 27 (d the digit of the weight's
// value), three groups fill one 16-bit word a row (1.78 bits per weight),
// and VPERMW looks up a one-register 32-entry table. Other codebooks take
// 6-bit indices (8 groups in three words a row, 2 bits per weight) and
// VPERMI2W over 64-entry tables. Sums stay in int16 for 72 lookups of at
// most 381 (base-3 with every |value| <= 1, ternary), 36 of 762 (other
// base-3) or 32 (6-bit) and are then widened into int32; columns run in
// 432 (384) column chunks whose tables (9 KiB, 16 KiB) stay in L1, 128
// rows per pass.
// W is stored in super-blocks of 1024 rows, chunk-major inside, so that a
// core's row range is one stream.
var AVX512LUTI8 kernels.Kernel = &lutKernel{kernels.Base{I: kernels.Info{
	ID: "avx512lut-i8", Backend: "amd64", ISA: "avx512bw+vbmi2", Mode: kernels.I8,
	Code: "Go asm (avo): T-MAC lookup tables of 3 q values built per GEMV and column chunk, 32 rows interleaved; " +
		"<= 3-valued codebooks: base-3 indices (3 groups a word: 1.78 bits/weight), VPERMW on 32-entry tables, 432-column chunks; " +
		"others: 6-bit indices (8 groups in 3 words: 2 bits/weight), VPERMI2W on 64-entry tables, 384-column chunks; " +
		"int16 sums widened every 72 (|values| <= 1), 36 or 32 lookups, 128 rows per pass, W in 1024-row super-blocks, prefetched 8 KiB ahead",
}}}

type lutKernel struct{ kernels.Base }

// Available asks for what the table lookups use: AVX-512 F/BW/VL
// (VPERMW, VPERMI2W, VPMADDUBSW) and VBMI2 (VPSHRDW); no VNNI, no VBMI.
func (k *lutKernel) Available() error { return need(AVX512F, AVX512BW, AVX512VL, AVX512VBMI2) }

type lutPrepared struct {
	lutGeom // blocks of lutRowBlock rows; chunks in octets (base-3 path: words)
	k       *lutKernel
	m       *kernels.Matrix
	colsP   int // cols padded to lutPadCols
	octets  int // colsP / 24
	w       []byte
	cbv     [128]int16
	// tern selects the base-3 path: the codebook has at most three
	// distinct values, so a group of 3 weights has at most 27 index values
	// (5 bits) and 3 groups fit one word (1.78 bits per weight).
	tern bool
	cbv3 [128]int16
	per3 int // base-3 path: words lut3Chunk sums in int16 (lut3Period)
}

func (k *lutKernel) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if err := kernels.CheckPrepare(k, m); err != nil {
		return nil, err
	}
	p := &lutPrepared{k: k, m: m, lutGeom: newLUTGeom(m.Rows, lutRowBlock, lutRowBlock, lutSuper)}
	cb := m.Codebook
	if vals, digit, ok := cb.Digits(); ok {
		p.tern = true
		p.per3 = lut3Period(vals)
		p.colsP = (m.Cols + lut3PadCols - 1) / lut3PadCols * lut3PadCols
		words := p.colsP / lut3Word
		for k0 := 0; k0 < words; k0 += lut3ChunkPer * lut3PeriodWords {
			p.chunks = append(p.chunks, k0)
		}
		p.chunks = append(p.chunks, words)
		// The tables' constants: bytes v0[e], v1[e] in word e; for
		// archsimd-i8's simdTables3, bytes v2[e], 0 in word 32+e and
		// 128*(v0[e]+v1[e]+v2[e]) in word 64+e; for lut3Tables, bytes v2[e],
		// -(v0[e]+v1[e]+v2[e]) in word 96+e.
		for e := 0; e < 27; e++ {
			v0, v1, v2 := vals[e%3], vals[e/3%3], vals[e/9]
			sum := int16(v0) + int16(v1) + int16(v2)
			p.cbv3[e] = int16(uint16(uint8(v0)) | uint16(uint8(v1))<<8)
			p.cbv3[32+e] = int16(uint8(v2))
			p.cbv3[64+e] = 128 * sum
			p.cbv3[96+e] = int16(uint16(uint8(v2)) | uint16(uint8(int8(-sum)))<<8)
		}
		p.repack3(digit)
		return p, nil
	}
	p.colsP = (m.Cols + lutPadCols - 1) / lutPadCols * lutPadCols
	p.octets = p.colsP / (lutGroup * lutOctet)
	for o0 := 0; o0 < p.octets; o0 += lutChunkPer * lutPeriod {
		p.chunks = append(p.chunks, o0)
	}
	p.chunks = append(p.chunks, p.octets)
	for e := 0; e < 32; e++ {
		p.cbv[e] = int16(cb[e&3])
		p.cbv[32+e] = int16(cb[(e>>2)&3])
		p.cbv[64+e] = int16(cb[e>>4])
		p.cbv[96+e] = int16(cb[(e+32)>>4])
	}
	p.repack()
	return p, nil
}

// lut3Period returns the words whose lookups lut3Chunk may sum in int16
// before widening them for a codebook of values vals: the most whole
// lut3PeriodWords periods whose 3 lookups a word, each of at most
// 3*127*max|v|, cannot overflow. For ternary (|v| <= 1) that is two
// periods (72 lookups of at most 381), for |v| = 2 one (36 of 762).
func lut3Period(vals [3]int8) int {
	m := 1
	for _, v := range vals {
		m = max(m, int(v), -int(v))
	}
	per := lut3PeriodWords
	for 3*(per+lut3PeriodWords)*3*127*m <= math.MaxInt16 {
		per += lut3PeriodWords
	}
	return per
}

// lutSuper is the number of row blocks whose words are stored together,
// chunk after chunk: a range of whole super-blocks reads its part of W as
// one stream instead of one piece per column chunk (with one row range per
// core, each core's half of a 2048-row W is contiguous). Each jump between
// pieces cost the hardware prefetchers their stream: at 2048x4096 ternary
// on 2 threads the chunk-major layout took ~10% longer.
const lutSuper = 8

// off is the byte offset of row block rb's words (octets on the 6-bit
// path) of chunk [u0, u1): super-block after super-block, in each chunk
// after chunk, in each its row blocks one after the other.
func (p *lutPrepared) off(rb, u0, u1 int) int {
	units, size := p.octets, lutSets*192
	if p.tern {
		units, size = p.colsP/lut3Word, lutSets*64
	}
	b0 := rb / lutSuper * lutSuper
	nb := min(lutSuper, p.rowsP/lutRowBlock-b0)
	return (b0*units + u0*nb + (rb-b0)*(u1-u0)) * size
}

// repack3 writes the base-3 layout: for chunk [k0, k1) of words, row block
// rb, word k, set s and word position i, at byte offset
//
//	off(rb, k0, k1) + ((k-k0)*lutSets + s)*64 + 2i
//
// the word of row R = 128rb + 32s + i/2 + 16*(i&1) (see lut3Chunk):
// i0 | i1<<5 | i2<<10 with ij = idx(R, 3k+j), idx(R, g) = d(R, 3g) +
// 3d(R, 3g+1) + 9d(R, 3g+2), d the digit of the weight's code. Weights
// past cols (their q is zero) and rows past rows are digit 0.
func (p *lutPrepared) repack3(digit [4]uint8) {
	m := p.m
	words := p.colsP / lut3Word
	p.w = make([]byte, 2*p.rowsP*words)
	stride := m.Stride()
	d := make([]uint16, p.colsP) // one row's digits; zero past cols
	for r := 0; r < m.Rows; r++ {
		row := m.Data[r*stride : (r+1)*stride]
		for c := 0; c < m.Cols; c++ {
			d[c] = uint16(digit[row[c>>2]>>(2*uint(c&3))&3])
		}
		rb, s, i := r/lutRowBlock, r%lutRowBlock/32, r%32
		pos := 2*(i%16) + i/16
		for ci := 0; ci+1 < len(p.chunks); ci++ {
			k0, k1 := p.chunks[ci], p.chunks[ci+1]
			off := p.off(rb, k0, k1) + s*64 + 2*pos
			for k := k0; k < k1; k++ {
				g := d[lut3Word*k : lut3Word*k+9 : lut3Word*k+9]
				wd := (g[0] + 3*g[1] + 9*g[2]) | (g[3]+3*g[4]+9*g[5])<<5 | (g[6]+3*g[7]+9*g[8])<<10
				p.w[off] = byte(wd)
				p.w[off+1] = byte(wd >> 8)
				off += lutSets * 64
			}
		}
	}
}

// repack writes, for chunk [o0, o1) of octets, row block rb, octet o, set
// s, vector v (A, B, C) and word position i, at byte offset
//
//	off(rb, o0, o1) + ((o-o0)*lutSets + s)*192 + 64v + 2i
//
// the word of row R = 128rb + 32s + i/2 + 16*(i&1) (see lutChunkOct):
//
//	A = g0 | g1<<6 | (g6&15)<<12, B = g2 | g3<<6 | (g7&15)<<12,
//	C = g4 | (g6>>4)<<6 | (g7>>4)<<8 | g5<<10
//
// with gk = idx(R, 8o+k), idx(R, g) = code(R, 3g) | code(R, 3g+1)<<2 |
// code(R, 3g+2)<<4. Codes past cols (their q is zero) and rows past rows
// (never written to y) are 0.
func (p *lutPrepared) repack() {
	m := p.m
	p.w = make([]byte, 6*p.rowsP*p.octets)
	stride := m.Stride()
	codes := make([]byte, p.colsP) // one row's codes; zero past cols
	idx := make([]uint16, p.colsP/lutGroup)
	for r := 0; r < m.Rows; r++ {
		row := m.Data[r*stride : (r+1)*stride]
		for c := 0; c < m.Cols; c++ {
			codes[c] = row[c>>2] >> (2 * uint(c&3)) & 3
		}
		for g := range idx {
			c := codes[lutGroup*g : lutGroup*g+3 : lutGroup*g+3]
			idx[g] = uint16(c[0] | c[1]<<2 | c[2]<<4)
		}
		rb, s, i := r/lutRowBlock, r%lutRowBlock/32, r%32
		pos := 2*(i%16) + i/16
		for ci := 0; ci+1 < len(p.chunks); ci++ {
			o0, o1 := p.chunks[ci], p.chunks[ci+1]
			off := p.off(rb, o0, o1) + s*192 + 2*pos
			for o := o0; o < o1; o++ {
				g := idx[8*o : 8*o+8 : 8*o+8]
				words := [3]uint16{
					g[0] | g[1]<<6 | (g[6]&15)<<12,
					g[2] | g[3]<<6 | (g[7]&15)<<12,
					g[4] | (g[6]>>4)<<6 | (g[7]>>4)<<8 | g[5]<<10,
				}
				for v, wd := range words {
					p.w[off+64*v] = byte(wd)
					p.w[off+64*v+1] = byte(wd >> 8)
				}
				off += lutSets * 192
			}
		}
	}
}

func (p *lutPrepared) Kernel() kernels.Kernel  { return p.k }
func (p *lutPrepared) layout() *lutPrepared    { return p }
func (p *lutPrepared) Matrix() *kernels.Matrix { return p.m }

func (p *lutPrepared) NewInput() kernels.Input {
	in := &lutInput{
		p:   p,
		q:   make([]int8, p.colsP+1), // lutTables reads one byte past the last group
		run: lutRun{acc: make([]int32, p.rowsP)},
	}
	if p.tern {
		// lutFlip turns 48 q into 64 qu at a time, reading 16 q past them;
		// q past cols stays 0 and qu 0x80 (q = 0, and every group's fourth
		// byte) up to the last group lut3Tables reads.
		n16 := lutFlipBlocks(p.m.Cols)
		in.q = make([]int8, 48*n16+16)
		in.qu = make([]uint8, max(64*n16, 4*p.colsP/3))
		for i := range in.qu {
			in.qu[i] = 0x80
		}
	}
	return in
}

// lutFlipBlocks is the number of lutFlip's blocks (16 groups, 48 columns)
// that cover cols columns.
func lutFlipBlocks(cols int) int { return (cols + 47) / 48 }

type lutInput struct {
	p   *lutPrepared
	q   []int8  // quantized x, zero past cols
	qu  []uint8 // base-3 path: lut3Tables' unsigned side, q+128 in 4-byte groups (lutFlip)
	run lutRun  // row sums of whole row blocks, scale, chunk order
}

func (in *lutInput) Load(x []float32) error {
	m := in.p.m
	if err := kernels.CheckX(in.p.k.I.ID, m, x); err != nil {
		return err
	}
	s, _ := avx512Quantize(x, in.q[:m.Cols])
	if in.p.tern {
		lutFlip(&in.qu[0], &in.q[0], lutFlipBlocks(m.Cols))
	}
	in.run.load(kernels.I8Inv(m.Scale, s))
	return nil
}

func (in *lutInput) GEMV(y []float32, r0, r1 int) error {
	return in.run.gemv(&in.p.lutGeom, in, in.p.k.I.ID, in.p.m, y, r0, r1)
}

func (in *lutInput) touch() {
	if in.p.tern {
		lutPrefetch((*int8)(unsafe.Pointer(&in.qu[0])), (len(in.qu)+63)/64)
	} else {
		lutPrefetch(&in.q[0], (len(in.q)+63)/64)
	}
}

func (in *lutInput) tables(u0, u1 int, tbl []int16) {
	if p := in.p; p.tern {
		lut3Tables(&in.qu[4*3*u0], (u1-u0)*3, &p.cbv3, &tbl[0])
	} else {
		lutTables(&in.q[lutGroup*lutOctet*u0], (u1-u0)*lutOctet, &p.cbv, &tbl[0])
	}
}

func (in *lutInput) lookups(rb, u0, u1 int, tbl []int16, acc []int32) {
	p := in.p
	w, nrb := &p.w[p.off(rb, u0, u1)], len(acc)/lutRowBlock
	if p.tern {
		lut3Chunk(w, &tbl[0], u1-u0, p.per3, nrb, &acc[0])
	} else {
		lutChunk(w, &tbl[0], (u1-u0)/lutPeriod, nrb, &acc[0])
	}
}

func (in *lutInput) scale(acc []int32, first int, inv float32, y []float32) {
	acc = acc[first : first+len(y)]
	n16 := len(y) / 16
	if n16 > 0 {
		lutScale(&acc[0], n16, inv, &y[0])
	}
	for i := 16 * n16; i < len(y); i++ {
		y[i] = float32(acc[i]) * inv
	}
}
