package amd64

//go:generate sh -c "cd ../_gen && go run ./amd64 -part avx512"

import (
	"math"

	"github.com/qkbench/qkbench/kernels"
)

func init() {
	kernels.Register(AVX512VNNII8)
}

// avx512Features are what avx512vnni-i8 needs: VPERMB is VBMI, VPDPBUSD is
// VNNI, byte and word operations on zmm are BW.
var avx512Features = []Feature{AVX512F, AVX512BW, AVX512VL, AVX512VNNI, AVX512VBMI}

// avx512Quantize is docs/format.md §2's quantizer plus Σq, the bias that unsigned
// weights (u = cb+2) add to every row sum: q[:len(x)] gets exactly what
// kernels.QuantizeI8 writes. Full 16-float pieces run in AVX-512
// (avx512Amax, avx512Quant), the rest in Go with QuantizeI8's formula. Switching
// to the package's shared vectorized quantizer is a change to this one
// function.
func avx512Quantize(x []float32, q []int8) (s float32, qsum int32) {
	q = q[:len(x)]
	n := len(x) &^ 15
	var amax float32
	if n > 0 {
		amax = avx512Amax(&x[0], n)
	}
	for _, v := range x[n:] {
		if a := float32(math.Abs(float64(v))); a > amax {
			amax = a
		}
	}
	s = float32(127) / max(amax, float32(1e-5))
	if n > 0 {
		qsum = avx512Quant(&x[0], n, s, &q[0])
	}
	for i := n; i < len(x); i++ {
		q[i] = kernels.QuantizeValue(x[i], s)
		qsum += int32(q[i])
	}
	return s, qsum
}

// vnniRowBlock is how many rows avx512vnni-i8 computes per pass.
const vnniRowBlock = 8

// AVX512VNNII8 is the avx512vnni-i8 kernel: W as given (seq packing, no
// repack), x quantized per docs/format.md §2 and split into four byte streams
// q[4k+j] (j = 0..3) per 256-column block, codes mapped through VPERMB to
// u = cb+2 and multiplied by VPDPBUSD into int32, 8 rows per pass.
var AVX512VNNII8 kernels.Kernel = &vnniKernel{kernels.Base{I: kernels.Info{
	ID: "avx512vnni-i8", Backend: "amd64", ISA: "avx512vnni+vbmi", Mode: kernels.I8,
	Code: "Go asm (avo): seq-packed W, x quantized and split into 4 byte streams per block, " +
		"VPERMB codebook (u=cb+2) + VPDPBUSD int32, 8 rows per pass (each prefetched 512 bytes ahead), 2*Σq bias per row",
}}}

type vnniKernel struct{ kernels.Base }

func (k *vnniKernel) Available() error { return need(avx512Features...) }

func (k *vnniKernel) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if err := kernels.CheckPrepare(k, m); err != nil {
		return nil, err
	}
	p := &vnniPrepared{k: k, m: m}
	// Table j maps a code byte whose code j sits in bits 2j..2j+1 (VPERMB
	// reads bits 0..5) to u = cb+2 in [0, 4]; code 3 is shifted into bits
	// 0..1 and uses table 0.
	for j := 0; j < 3; j++ {
		for i := 0; i < 64; i++ {
			p.tbl[64*j+i] = byte(m.Codebook[(i>>(2*j))&3] + 2)
		}
	}
	return p, nil
}

type vnniPrepared struct {
	k   *vnniKernel
	m   *kernels.Matrix
	tbl [192]byte
}

func (p *vnniPrepared) Kernel() kernels.Kernel  { return p.k }
func (p *vnniPrepared) Matrix() *kernels.Matrix { return p.m }

// RowBlock is the row blocking: row ranges that are multiples of it run
// entirely in 8-row passes.
func (p *vnniPrepared) RowBlock() int { return vnniRowBlock }

func (p *vnniPrepared) NewInput() kernels.Input {
	nb := p.m.Blocks()
	return &vnniInput{p: p, q: make([]int8, p.m.Cols), qp: make([]int8, nb*kernels.BlockCols)}
}

type vnniInput struct {
	p      *vnniPrepared
	q      []int8 // quantized x, in order
	qp     []int8 // q per 256-column block as 4 streams: qp[256b+64j+k] = q[256b+4k+j]; zero past cols
	qsum   int32
	inv    float32
	loaded bool
}

func (in *vnniInput) Load(x []float32) error {
	m := in.p.m
	if err := kernels.CheckX(in.p.k.I.ID, m, x); err != nil {
		return err
	}
	s, qsum := avx512Quantize(x, in.q)
	avx512PermuteStreams(in.qp, in.q)
	in.qsum, in.inv, in.loaded = qsum, kernels.I8Inv(m.Scale, s), true
	return nil
}

// avx512PermuteStreams writes qp[256b+64j+k] = q[256b+4k+j] for every c = 256b+4k+j < len(q):
// whole 64-column pieces in AVX-512 (one VPERMB each), the rest in Go.
func avx512PermuteStreams(qp, q []int8) {
	n64 := len(q) / 64
	if n64 > 0 {
		avx512Streams(&q[0], n64, &qp[0])
	}
	for c := 64 * n64; c < len(q); c++ {
		qp[c&^255+(c&3)<<6+(c>>2)&63] = q[c]
	}
}

func (in *vnniInput) GEMV(y []float32, r0, r1 int) error {
	m := in.p.m
	if err := kernels.CheckGEMV(in.p.k.I.ID, m, y, r0, r1, in.loaded); err != nil {
		return err
	}
	stride, nb := m.Stride(), m.Blocks()
	bias, inv := 2*in.qsum, in.inv
	var out [vnniRowBlock]int32
	r := r0
	for ; r+vnniRowBlock <= r1; r += vnniRowBlock {
		vnniRows8(&m.Data[r*stride], stride, nb, &in.qp[0], &in.p.tbl, &out[0])
		for i, v := range out {
			y[r+i] = float32(v-bias) * inv
		}
	}
	for ; r < r1; r++ {
		vnniRows1(&m.Data[r*stride], stride, nb, &in.qp[0], &in.p.tbl, &out[0])
		y[r] = float32(out[0]-bias) * inv
	}
	return nil
}
