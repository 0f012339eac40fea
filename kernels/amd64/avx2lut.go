package amd64

import (
	"unsafe"

	"github.com/qkbench/qkbench/kernels"
)

//go:generate sh -c "cd ../_gen && go run ./amd64 -part avx2lut"

func init() {
	kernels.Register(AVX2LUTI8)
}

// Geometry of avx2lut-i8 around the generator's a2Pairs, a2Halves and
// a2Period (avx2lut_consts.go).
const (
	a2Pass     = a2Pairs * 8        // columns per pass; cols are padded to a multiple
	a2Rows     = 8                  // rows per 32-byte index vector
	a2Block    = a2Halves * a2Rows  // rows per block (the driver's row block)
	a2BlockAcc = 2 * a2Block        // int32 sums per block: two per row, one per lane
	a2Super    = 1024 / a2Block     // blocks per super-block (1024 rows, as lutSuper)
	a2VecBytes = 32                 // bytes per index vector
	a2PassVecs = a2Halves * a2Pairs // index vectors per pass, plane and block
)

// AVX2LUTI8 is the avx2lut-i8 kernel: T-MAC style table lookups with AVX2
// only (VPSHUFB on 4-bit indices), exact in int16/int32.
//
// The codebook is written as digits in {-1, 0, 1}: cb[code] = c + d(code)
// when its values span at most 2 (ternary), else cb[code] = d1(code) +
// d2(code), two digit planes (qk256). For every pair of columns a row's two
// digits are one of 9 states. Per GEMV, each pair's 8 nonzero states get
// exact table entries E = d0*q0 + d1*q1 (|E| <= 254), two pairs to each
// 16-byte lane; a row's index byte is 8h + state, or 0x80 (VPSHUFB's zero)
// for two zero digits. One 32-byte vector of index bytes holds 8 rows × 8
// columns (4 bits per weight, twice QK256's bytes: the index bytes are used
// as stored; unpacking 2-bit codes into index bytes with the pair's half
// and the zero flag took 2-3 more instructions per vector, which measured
// as slow as avx2-i8's direct VPMADDUBSW).
//
// Where E fits a byte, one lookup does: when every |q0| + |q1| of a table
// pair's 4 column pairs (8 columns) is at most 127, VPSHUFB looks up E
// itself, VPMADDUBSW(1, E) adds the two pairs of each word and VPADDW
// accumulates, 3 instructions per 64 weights. Else VPSHUFB looks up |E|
// in one table (Tu) and its sign in another (Ts), and VPMADDUBSW multiplies
// them: 4 instructions. Which table pairs take the short path depends on x:
// on Gaussian activations quantized per tensor about 9 in 10 (every pair
// but those next to the largest values), on activations with outlier
// channels nearly all, on the worst case (every |q| = 127) none. GEMV walks
// a list per chunk, the short pairs first, built at Load, or, when at most
// a third of the chunk's pairs are short, the passes in order with |E| and
// sign for all (a2ListShare).
//
// Sums stay in int16 for 64 table pairs (|sum| <= 32512) and are then
// widened into int32; columns run in chunks of 512 (256 with two planes)
// whose tables (6 KiB) are built by the core that uses them, 32 rows per
// block, blocks in 1024-row super-blocks.
var AVX2LUTI8 kernels.Kernel = &a2Kernel{kernels.Base{I: kernels.Info{
	ID: "avx2lut-i8", Backend: "amd64", ISA: "avx2", Mode: kernels.I8,
	Code: "Go asm (avo), AVX2 only: T-MAC lookup tables for each column pair's 8 nonzero digit states " +
		"(digits in {-1,0,1}: ternary-like codebooks one plane plus an offset, others two planes), built per GEMV and 512-column chunk; " +
		"index bytes stored ready (4 bits/weight), 8 rows x 8 columns per 32-byte vector; " +
		"table pairs whose sums all fit a byte (|q0|+|q1| <= 127, decided per x) look up E: VPSHUFB + VPMADDUBSW(1, E) + VPADDW per 64 weights, " +
		"the others |E| and sign(E): 2 VPSHUFB + VPMADDUBSW + VPADDW (a chunk with at most a third of its pairs short: all of them, pass by pass); " +
		"int16 sums widened every 64 table pairs, 32-row blocks in 1024-row super-blocks",
}}}

type a2Kernel struct{ kernels.Base }

// Available asks for AVX2 only (VPSHUFB, VPSIGNB, VPMADDUBSW on ymm).
func (k *a2Kernel) Available() error { return need(AVX2) }

type a2Prepared struct {
	lutGeom // blocks of a2Block rows; chunks in passes
	k       *a2Kernel
	m       *kernels.Matrix
	planes  int  // digit planes: 1 or 2
	c       int8 // offset: cb[code] = c + Σ_plane d[plane][code]
	passes  int  // cols padded to a2Pass, in passes
	w       []byte
}

// a2DigitPlanes writes cb as digits in {-1, 0, 1}: cb[code] = c +
// d[0][code] (+ d[1][code] when planes == 2). One plane when cb's values
// span at most 2 (c centres them), else two planes (c = 0, cb in [-2, 2]).
func a2DigitPlanes(cb kernels.Codebook) (planes int, d [2][4]int8, c int8) {
	lo, hi := min(cb[0], cb[1], cb[2], cb[3]), max(cb[0], cb[1], cb[2], cb[3])
	if hi-lo <= 2 {
		c = lo
		if hi-lo == 2 {
			c = lo + 1
		}
		for i, v := range cb {
			d[0][i] = v - c
		}
		return 1, d, c
	}
	for i, v := range cb {
		d[0][i] = max(-1, min(1, v))
		d[1][i] = v - d[0][i]
	}
	return 2, d, 0
}

// a2State is the index byte of a column pair's digits (d0, d1), without
// the half: its entry in a2Digits (the tables' order), or 0x80 for (0, 0).
var a2State = func() (s [3][3]byte) {
	s[1][1] = 0x80
	for c, d := range a2Digits {
		s[d[0]+1][d[1]+1] = byte(c)
	}
	return s
}()

func (k *a2Kernel) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if err := kernels.CheckPrepare(k, m); err != nil {
		return nil, err
	}
	p := &a2Prepared{k: k, m: m, lutGeom: newLUTGeom(m.Rows, a2Block, a2BlockAcc, a2Super)}
	var d [2][4]int8
	p.planes, d, p.c = a2DigitPlanes(m.Codebook)
	p.passes = (m.Cols + a2Pass - 1) / a2Pass
	per := a2Period / p.planes
	for u0 := 0; u0 < p.passes; u0 += per {
		p.chunks = append(p.chunks, u0)
	}
	p.chunks = append(p.chunks, p.passes)
	p.repack(d)
	return p, nil
}

// off is the byte offset of block rb's index vectors of chunk [u0, u1) (in
// passes): super-block after super-block, in each chunk after chunk, in
// each its blocks one after the other.
func (p *a2Prepared) off(rb, u0, u1 int) int {
	b0 := rb / a2Super * a2Super
	nb := min(a2Super, p.rowsP/a2Block-b0)
	return (b0*p.passes + u0*nb + (rb-b0)*(u1-u0)) * p.planes * a2PassVecs * a2VecBytes
}

// repack writes, for row r (block rb, half b = r%a2Block/8, j = r%8), plane pl
// and column pair P (cols 2P, 2P+1; pass u = P/16, table pair k = P%16/4,
// lane L = P%4/2, half h = P%2) in chunk [u0, u1), the index byte at
//
//	off(rb, u0, u1) + (((u-u0)*planes + pl)*a2PassVecs + a2Halves*k + b)*32 + 16L + 2*word(j) + h
//
// with word(j) = 2*(j%4) + j/4 (the kernel's row order 0, 4, 1, 5, ...):
// 8h + a2State of the row's two digits, 0x80 when both are 0. Columns past
// cols (their q is zero) and rows past rows have zero digits.
func (p *a2Prepared) repack(d [2][4]int8) {
	m := p.m
	p.w = make([]byte, p.rowsP*p.passes*p.planes*a2Pass/2)
	for i := range p.w {
		p.w[i] = 0x80
	}
	stride := m.Stride()
	for r := 0; r < m.Rows; r++ {
		row := m.Data[r*stride : (r+1)*stride]
		rb, b, j := r/a2Block, r%a2Block/a2Rows, r%a2Rows
		word := 2*(j%4) + j/4
		for ci := 0; ci+1 < len(p.chunks); ci++ {
			u0, u1 := p.chunks[ci], p.chunks[ci+1]
			base := p.off(rb, u0, u1)
			for c := a2Pass * u0; c < min(m.Cols, a2Pass*u1); c += 2 {
				P := c / 2
				u, k, L, h := P/16, P%16/4, P%4/2, P%2
				c0 := row[c>>2] >> (2 * uint(c&3)) & 3
				c1 := uint8(0)
				if c+1 < m.Cols {
					c1 = row[(c+1)>>2] >> (2 * uint((c+1)&3)) & 3
				}
				for pl := 0; pl < p.planes; pl++ {
					d0, d1 := d[pl][c0], d[pl][c1]
					if c+1 >= m.Cols {
						d1 = 0
					}
					idx := a2State[d0+1][d1+1]
					if idx != 0x80 {
						idx += byte(8 * h)
					}
					p.w[base+(((u-u0)*p.planes+pl)*a2PassVecs+a2Halves*k+b)*a2VecBytes+16*L+2*word+h] = idx
				}
			}
		}
	}
}

func (p *a2Prepared) Kernel() kernels.Kernel  { return p.k }
func (p *a2Prepared) Matrix() *kernels.Matrix { return p.m }

func (p *a2Prepared) NewInput() kernels.Input {
	return &a2Input{
		p:     p,
		q:     make([]int8, p.passes*a2Pass), // zero past cols
		run:   lutRun{acc: make([]int32, p.rowsP/a2Block*a2BlockAcc)},
		list:  make([]uint64, p.passes*p.planes*a2Pairs),
		nfast: make([]int, len(p.chunks)-1),
		mask:  make([]uint32, p.passes),
	}
}

type a2Input struct {
	p    *a2Prepared
	q    []int8 // quantized x, zero past cols
	bias int32  // c * Σq: the offset's part of every row sum
	run  lutRun // sums of whole blocks, scale, chunk order
	// list holds, chunk after chunk, avx2LUTChunk's (woff, toff) of every
	// table pair and plane of the chunk, in each chunk first the nfast[ci]
	// whose sums all fit a byte (see a2Lists).
	list  []uint64
	nfast []int
	mask  []uint32 // avx2LUTFast's, a pass each
}

// a2Lists writes in.list and in.nfast for the quantized x in in.q: for
// chunk [u0, u1), pass u, plane pl and table pair k, the index vectors'
// offset woff from the block's first and the tables' toff,
//
//	woff = ((u-u0)*planes + pl)*a2PassVecs*32 + a2Halves*32k, toff = ((u-u0)*a2Pairs + k)*a2Slot,
//
// first those of the pairs whose 8 columns' sums all fit a byte (each |q0|
// + |q1| <= 127, per avx2LUTFast's masks), from the front, then the
// others, from the back.
func (in *a2Input) a2Lists() {
	p := in.p
	avx2LUTFast(&in.q[0], p.passes, &in.mask[0])
	for ci := 0; ci+1 < len(p.chunks); ci++ {
		u0, u1 := p.chunks[ci], p.chunks[ci+1]
		seg := in.list[u0*p.planes*a2Pairs : u1*p.planes*a2Pairs]
		if p.planes == 1 {
			in.nfast[ci] = avx2LUTLists1(&in.mask[u0], u1-u0, &seg[0], len(seg))
		} else {
			in.nfast[ci] = avx2LUTLists(&in.mask[u0], u1-u0, p.planes, &seg[0], len(seg))
		}
	}
}

func (in *a2Input) Load(x []float32) error {
	m := in.p.m
	if err := kernels.CheckX(in.p.k.I.ID, m, x); err != nil {
		return err
	}
	s, qsum := quantizeI8(x, in.q[:m.Cols])
	in.bias = int32(in.p.c) * qsum
	in.a2Lists()
	in.run.load(kernels.I8Inv(m.Scale, s))
	return nil
}

func (in *a2Input) GEMV(y []float32, r0, r1 int) error {
	return in.run.gemv(&in.p.lutGeom, in, in.p.k.I.ID, in.p.m, y, r0, r1)
}

// touch: q is small (one byte a column) and read once per chunk.
func (in *a2Input) touch() {}

func (in *a2Input) tables(u0, u1 int, tbl []int16) {
	avx2LUTTables(&in.q[a2Pass*u0], (u1-u0)*a2Pairs, (*byte)(unsafe.Pointer(&tbl[0])))
}

// a2ListShare: a chunk runs avx2LUTChunk's list when more than this share
// of its table pairs are short, else avx2LUTPasses. Against the pass loop
// the list's short pairs took ~0.8 of the time, its long ones ~1.09 (table
// loads and list entries for every 4 vectors instead of every 16), which
// break even near a third.
const a2ListShare = 1.0 / 3

func (in *a2Input) lookups(rb, u0, u1 int, tbl []int16, acc []int32) {
	p := in.p
	ci := u0 / (a2Period / p.planes)
	list := in.list[u0*p.planes*a2Pairs : u1*p.planes*a2Pairs]
	nf := in.nfast[ci]
	w, t, nblk := &p.w[p.off(rb, u0, u1)], (*byte)(unsafe.Pointer(&tbl[0])), len(acc)/a2BlockAcc
	switch {
	case float64(nf) > a2ListShare*float64(len(list)):
		stride := (u1 - u0) * p.planes * a2PassVecs * a2VecBytes
		avx2LUTChunk(w, t, &list[0], nf, len(list)-nf, stride, nblk, &acc[0])
	case p.planes == 1:
		avx2LUTPasses1(w, t, u1-u0, nblk, &acc[0])
	default:
		avx2LUTPasses2(w, t, u1-u0, nblk, &acc[0])
	}
}

// a2RowSum is the sum of row j of the blocks whose sums acc holds (see
// avx2LUTChunk): its two lanes' parts.
func a2RowSum(acc []int32, j int) int32 {
	h, i := j/a2Rows, j%a2Rows
	a := acc[16*h+8*(i/4)+i%4:]
	return a[0] + a[4]
}

func (in *a2Input) scale(acc []int32, first int, inv float32, y []float32) {
	n := 0
	if first%a2Rows == 0 {
		if n8 := len(y) / a2Rows; n8 > 0 {
			avx2LUTScale(&acc[2*first], n8, in.bias, inv, &y[0])
			n = a2Rows * n8
		}
	}
	for i := n; i < len(y); i++ {
		y[i] = float32(a2RowSum(acc, first+i)+in.bias) * inv
	}
}
