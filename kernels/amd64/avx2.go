package amd64

import (
	"fmt"

	"github.com/qkbench/qkbench/kernels"
)

//go:generate sh -c "cd ../_gen && go run ./amd64 -part avx2"

func init() {
	kernels.Register(AVX2F32)
	kernels.Register(AVX2I8)
}

// AVX2F32 is avx2-f32: float32 FMA over codes mapped through the codebook
// with VPERMILPS.
var AVX2F32 kernels.Kernel = &avx2Kernel{
	Base: kernels.Base{I: kernels.Info{
		ID: "avx2-f32", Backend: "amd64", ISA: "avx2+fma", Mode: kernels.F32,
		Code: "Go asm (avo), AVX2+FMA: W repacked at 4 bits per weight (2x the QK256 bytes) so a 32-byte load at byte offset 0..3 " +
			"has 8 consecutive columns' codes in its dwords' low bits, another 8 after VPSRLD 4; VPERMILPS codebook lookup (no masks), " +
			"VFMADD231PS, 4 rows per pass with 2 accumulators each",
	}},
	feats: []Feature{AVX2, FMA3},
}

// AVX2I8 is avx2-i8: docs/format.md §2's i8 mode with VPSHUFB lookups of u = cb+2 and
// VPMADDUBSW against the quantized activations. When the codebook spans at
// most 3 (max(cb) - min(cb) <= 3, as ternary does), Prepare stores
// v = cb[code] - min(cb) in place of the codes and the kernel needs no lookup
// (i8DirRows*); it is the same computation, exact either way.
var AVX2I8 kernels.Kernel = &avx2Kernel{
	Base: kernels.Base{I: kernels.Info{
		ID: "avx2-i8", Backend: "amd64", ISA: "avx2", Mode: kernels.I8,
		Code: "Go asm (avo), AVX2: x quantized with AVX2 (quantizeI8); W repacked per 128 columns so byte k holds columns 32j+k in bits 2j; " +
			"VPSHUFB nibble lookup of u=cb+2, VPMADDUBSW+VPADDW, VPMADDWD widening every 1024 columns, 4 rows per pass (each prefetched 384 bytes ahead), minus 2*sum(q) per row; " +
			"codebooks with max-min <= 3 (ternary) store v=cb-min instead of codes: no lookup, AND 3/AND 12 on b and b>>4, the 4x-scaled sums kept apart",
	}},
	feats: []Feature{AVX2},
}

type avx2Kernel struct {
	kernels.Base
	feats []Feature
}

func (k *avx2Kernel) Available() error { return need(k.feats...) }

func (k *avx2Kernel) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if err := kernels.CheckPrepare(k, m); err != nil {
		return nil, err
	}
	p := &avx2Prepared{k: k, m: m, stride: m.Stride(), nchunk: (m.Cols + chunkCols - 1) / chunkCols}
	cb := m.Codebook
	if k.I.Mode == kernels.I8 {
		cmin, cmax := min(cb[0], cb[1], cb[2], cb[3]), max(cb[0], cb[1], cb[2], cb[3])
		if span := int(cmax) - int(cmin); span <= 3 {
			// The codebook's values fit 2 bits once shifted by cmin: store
			// them instead of the codes and skip the lookup.
			p.direct, p.cmin = true, int32(cmin)
			p.group = 8
			if span == 3 {
				p.group = 4
			}
			p.data = i8DirRepack(m)
			return p, nil
		}
		p.data = i8Repack(m)
		for i := 0; i < 16; i++ {
			p.i8tab[i] = byte(cb[i&3] + 2)
			p.i8tab[16+i] = byte(cb[i>>2] + 2)
		}
	} else {
		p.data = f32Repack(m)
		p.stride = 2 * m.Stride()
		for i := range p.f32tab {
			p.f32tab[i] = float32(cb[i&3])
		}
	}
	return p, nil
}

// i8Repack returns m's codes in the avx2-i8 layout: rows keep their stride;
// within a row, chunk t (bytes 32t..32t+31) holds columns 128t..128t+127,
// byte k the codes of columns 128t+32j+k (j = 0..3) in bits [2j+1:2j]. Then a
// byte's low nibble holds the codes of streams 0 and 1 and its high nibble
// those of streams 2 and 3, and stream j lines up with 32 consecutive q.
func i8Repack(m *kernels.Matrix) []byte {
	out := make([]byte, len(m.Data))
	stride := m.Stride()
	for r := 0; r < m.Rows; r++ {
		row := out[r*stride : (r+1)*stride]
		for t := 0; t < stride/32; t++ {
			for k := 0; k < 32; k++ {
				var b byte
				for j := 0; j < 4; j++ {
					b |= m.Code(r, chunkCols*t+32*j+k) << (2 * j)
				}
				row[32*t+k] = b
			}
		}
	}
	return out
}

// i8DirRepack returns m's weights in the avx2-i8 direct layout: i8Repack's
// layout with v = cb[code] - min(cb) in each 2-bit field instead of the code.
// It needs max(cb) - min(cb) <= 3.
func i8DirRepack(m *kernels.Matrix) []byte {
	cb := m.Codebook
	cmin := min(cb[0], cb[1], cb[2], cb[3])
	var v [4]byte
	for i := range v {
		v[i] = byte(cb[i]-cmin) & 3
	}
	out := make([]byte, len(m.Data))
	stride := m.Stride()
	for r := 0; r < m.Rows; r++ {
		row := out[r*stride : (r+1)*stride]
		for t := 0; t < stride/32; t++ {
			for k := 0; k < 32; k++ {
				var b byte
				for j := 0; j < 4; j++ {
					b |= v[m.Code(r, chunkCols*t+32*j+k)] << (2 * j)
				}
				row[32*t+k] = b
			}
		}
	}
	return out
}

// f32Repack returns m's codes in the avx2-f32 layout, 4 bits per weight:
// row r starts at byte r*2*stride; chunk t of a row (64 bytes from 64t)
// holds columns 128t..128t+127 in two halves of 32 bytes. Byte 4i+o of half
// h (i = 0..7, o = 0..3) holds the code of column 128t+8g+i in bits [1:0]
// and that of column 128t+8(g+1)+i in bits [5:4], g = 8h+2o; its other bits
// are zero. A 32-byte load at offset o of a half then has, in the low bits of
// each dword, the codes of 8 consecutive columns (VPERMILPS's index), and
// after a shift by 4 those of the next 8. The buffer has f32Slack bytes more,
// because the loads at offsets 1..3 of the last half read up to 3 bytes past it.
func f32Repack(m *kernels.Matrix) []byte {
	stride := 2 * m.Stride()
	out := make([]byte, m.Rows*stride+f32Slack)
	for r := 0; r < m.Rows; r++ {
		row := out[r*stride : (r+1)*stride]
		for t := 0; t < stride/64; t++ {
			for h := 0; h < 2; h++ {
				for o := 0; o < 4; o++ {
					g := 8*h + 2*o
					for i := 0; i < 8; i++ {
						c := chunkCols*t + 8*g + i
						row[64*t+32*h+4*i+o] = m.Code(r, c) | m.Code(r, c+8)<<4
					}
				}
			}
		}
	}
	return out
}

// i8Batch is how many rows avx2-i8 computes per assembly call (a multiple
// of 4).
const i8Batch = 64

// f32Slack is the padding after the avx2-f32 layout (see f32Repack).
const f32Slack = 32

type avx2Prepared struct {
	k      *avx2Kernel
	m      *kernels.Matrix
	data   []byte // repacked codes, rows*stride bytes
	stride int
	nchunk int // ceil(cols/128) chunks per row are computed
	// direct: data is in the i8 direct layout (i8DirRepack), v = cb - cmin,
	// summed by i8DirRows*G<group>; else in the i8 layout with i8tab.
	direct bool
	cmin   int32
	group  int
	i8tab  [32]byte
	f32tab [8]float32
}

func (p *avx2Prepared) Kernel() kernels.Kernel  { return p.k }
func (p *avx2Prepared) Matrix() *kernels.Matrix { return p.m }

func (p *avx2Prepared) NewInput() kernels.Input {
	if p.k.I.Mode == kernels.I8 {
		// q is padded with zeros to whole chunks: padding codes meet q = 0.
		return &avx2I8Input{p: p, q: make([]int8, p.nchunk*chunkCols)}
	}
	return &avx2F32Input{p: p, x: kernels.NewChunkedX(p.m.Cols, chunkCols)}
}

type avx2I8Input struct {
	p      *avx2Prepared
	q      []int8
	inv    float32
	bias   int32 // Σ (cb+2)*q - bias = Σ cb*q (lookup), Σ (cb-cmin)*q - bias (direct)
	loaded bool
}

func (in *avx2I8Input) Load(x []float32) error {
	m := in.p.m
	if err := kernels.CheckX(in.p.k.I.ID, m, x); err != nil {
		return err
	}
	s, qsum := quantizeI8(x, in.q)
	in.inv = kernels.I8Inv(m.Scale, s)
	in.bias = 2 * qsum
	if in.p.direct {
		in.bias = -in.p.cmin * qsum
	}
	in.loaded = true
	return nil
}

func (in *avx2I8Input) GEMV(y []float32, r0, r1 int) error {
	p := in.p
	if err := kernels.CheckGEMV(p.k.I.ID, p.m, y, r0, r1, in.loaded); err != nil {
		return err
	}
	r := r0
	// Up to i8Batch rows per call, so that one call's setup is shared by many
	// rows; the sums land in a stack buffer (GEMV may run concurrently on
	// other row ranges of the same input).
	var buf [i8Batch]int32
	for r < r1 {
		n := min(r1-r, i8Batch)
		p.i8Sums(r, n, in.q, buf[:n])
		for i, v := range buf[:n] {
			y[r+i] = float32(v-in.bias) * in.inv
		}
		r += n
	}
	return nil
}

// i8Sums sets out[i] to row r+i's sum over q for i < n (n <= i8Batch, rows
// r..r+n-1 exist): 4 rows per pass, then one at a time.
func (p *avx2Prepared) i8Sums(r, n int, q []int8, out []int32) {
	nblk, rest := n/4, n%4
	if nblk > 0 {
		w := &p.data[r*p.stride]
		switch {
		case !p.direct:
			i8Rows4AVX2(w, p.stride, &q[0], p.nchunk, nblk, &p.i8tab, &out[0])
		case p.group == 8:
			i8DirRows4G8AVX2(w, p.stride, &q[0], p.nchunk, nblk, &out[0])
		default:
			i8DirRows4G4AVX2(w, p.stride, &q[0], p.nchunk, nblk, &out[0])
		}
	}
	if rest > 0 {
		w := &p.data[(r+4*nblk)*p.stride]
		switch {
		case !p.direct:
			i8Rows1AVX2(w, p.stride, &q[0], p.nchunk, rest, &p.i8tab, &out[4*nblk])
		case p.group == 8:
			i8DirRows1G8AVX2(w, p.stride, &q[0], p.nchunk, rest, &out[4*nblk])
		default:
			i8DirRows1G4AVX2(w, p.stride, &q[0], p.nchunk, rest, &out[4*nblk])
		}
	}
}

type avx2F32Input struct {
	p *avx2Prepared
	x kernels.ChunkedX // x, or a copy padded to whole chunks
}

func (in *avx2F32Input) Load(x []float32) error {
	if err := kernels.CheckX(in.p.k.I.ID, in.p.m, x); err != nil {
		return err
	}
	in.x.Set(x)
	return nil
}

func (in *avx2F32Input) GEMV(y []float32, r0, r1 int) error {
	p := in.p
	x := in.x.X()
	if err := kernels.CheckGEMV(p.k.I.ID, p.m, y, r0, r1, x != nil); err != nil {
		return err
	}
	if len(x) < p.nchunk*chunkCols {
		// Unreachable (Load pads x), but the kernel must never read past x.
		return fmt.Errorf("kernels: %s: loaded x has %d values, want %d", p.k.I.ID, len(x), p.nchunk*chunkCols)
	}
	var out [4]float32
	sc := p.m.Scale
	r := r0
	for ; r+4 <= r1; r += 4 {
		f32Rows4AVX2(&p.data[r*p.stride], p.stride, &x[0], p.nchunk, &p.f32tab, &out[0])
		for i, v := range out {
			y[r+i] = sc * v
		}
	}
	for ; r < r1; r++ {
		f32Rows1AVX2(&p.data[r*p.stride], p.stride, &x[0], p.nchunk, &p.f32tab, &out[0])
		y[r] = sc * out[0]
	}
	return nil
}
