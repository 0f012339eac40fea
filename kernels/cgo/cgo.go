// Package cgo holds the QK256 GEMV kernels reached through cgo:
//
//   - c-i2s-i8: this project's C kernel after bitnet.cpp's published I2_S
//     algorithm (128-weight blocks of 32 bytes, VPSHUFB codebook lookup,
//     VPMADDUBSW with int16 sums widened before they can overflow), AVX2;
//     c-portable-i8 is the same layout in plain C for CPUs without AVX2. Both
//     are bit-exact with ref-i8.
//   - ggml-tq2_0-haswell and ggml-tq2_0-zen4: llama.cpp's own ternary kernel
//     (TQ2_0 weights · Q8_K activations) from the prebuilt ggml CPU backends
//     of the npm package @node-llama-cpp/linux-x64@3.22.1, loaded at run time
//     with dlopen (peers: agreement is cosine >= 0.99 against the oracle).
//
// Every kernel is registered on every platform. Without cgo, on another
// GOOS/GOARCH, with the purego tag, without AVX2, or without the ggml
// libraries, a kernel is listed as unavailable with the reason and never runs.
//
// The ggml libraries are looked up in $QKBENCH_GGML_DIR (a folder holding
// libggml-base.so and libggml-cpu-<variant>.so) or else in
// peers/node-llama-cpp-linux-x64-3.22.1/bins/linux-x64 under the module root
// (found by walking up from the working directory to a folder holding go.mod
// and peers/); kernels/cgo/peers.sh (make peers) fetches them there.
package cgo

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"github.com/qkbench/qkbench/kernels"
)

func init() {
	kernels.Register(CI2SI8)
	kernels.Register(CPortableI8)
	kernels.Register(GGMLHaswell)
	kernels.Register(GGMLZen4)
}

// CI2SI8 is the AVX2 I2_S kernel: one cgo call per row range, four rows per
// pass sharing each load of the int8 activations.
var CI2SI8 kernels.Kernel = &i2sKernel{Base: kernels.Base{I: kernels.Info{
	ID: "c-i2s-i8", Backend: "cgo", ISA: "c/avx2", Mode: kernels.I8,
	Code: "C (gcc -O3, AVX2 intrinsics): bitnet.cpp I2_S layout (128-weight blocks, 32 B, planes of 32), " +
		"x quantized in C (AVX2), VPSHUFB lookup of cb+2, VPMADDUBSW, int16 sums widened by VPMADDWD every 1024 weights, " +
		"minus 2*sum(q); 4 rows per pass",
}}, avx2: true}

// CPortableI8 is the same layout and quantization in portable C.
var CPortableI8 kernels.Kernel = &i2sKernel{Base: kernels.Base{I: kernels.Info{
	ID: "c-portable-i8", Backend: "cgo", ISA: "c", Mode: kernels.I8,
	Code: "C (gcc -O3, no intrinsics): bitnet.cpp I2_S layout, x quantized in C, one row at a time, int32 sums of cb*q",
}}}

// I2SBlockCols and I2SBlockBytes are the I2_S block: 128 weights in 32 bytes.
const (
	I2SBlockCols  = 128
	I2SBlockBytes = 32
)

// I2SStride returns the bytes of one repacked row: ceil(cols/128) * 32.
func I2SStride(cols int) int { return (cols + I2SBlockCols - 1) / I2SBlockCols * I2SBlockBytes }

// PackI2S repacks m into the I2_S layout, one row after another, each row
// padded to whole 128-weight blocks: byte j of block b holds the codes of
// columns b*128 + j, +32, +64, +96 in bits [7:6], [5:4], [3:2], [1:0].
// Padding codes are 0; the kernels pair them with zero activations.
func PackI2S(m *kernels.Matrix) []byte {
	stride := I2SStride(m.Cols)
	out := make([]byte, m.Rows*stride)
	for r := 0; r < m.Rows; r++ {
		row := m.Row(r)
		dst := out[r*stride : (r+1)*stride]
		for c := 0; c < m.Cols; c++ {
			code := row[c>>2] >> (2 * uint(c&3)) & 3
			b, j := c/I2SBlockCols, c%I2SBlockCols
			dst[b*I2SBlockBytes+j%32] |= code << (6 - 2*uint(j/32))
		}
	}
	return out
}

// i2sTables returns the two VPSHUFB tables of a codebook: t0[i] = cb[(i>>2)&3]+2
// and t1[i] = cb[i&3]+2 for i in 0..15, each repeated for both 128-bit lanes.
func i2sTables(cb kernels.Codebook) (t0, t1 [32]uint8) {
	for i := 0; i < 32; i++ {
		t0[i] = uint8(cb[(i>>2)&3] + 2)
		t1[i] = uint8(cb[i&3] + 2)
	}
	return t0, t1
}

type i2sKernel struct {
	kernels.Base
	avx2 bool
}

func (k *i2sKernel) Available() error { return i2sAvailable(k.avx2) }

func (k *i2sKernel) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if err := kernels.CheckPrepare(k, m); err != nil {
		return nil, err
	}
	p := &i2sPrepared{k: k, m: m, w: PackI2S(m), stride: I2SStride(m.Cols), nblk: (m.Cols + I2SBlockCols - 1) / I2SBlockCols}
	p.t0, p.t1 = i2sTables(m.Codebook)
	p.cb = m.Codebook
	return p, nil
}

type i2sPrepared struct {
	k            *i2sKernel
	m            *kernels.Matrix
	w            []byte
	stride, nblk int
	t0, t1       [32]uint8
	cb           kernels.Codebook
}

func (p *i2sPrepared) Kernel() kernels.Kernel  { return p.k }
func (p *i2sPrepared) Matrix() *kernels.Matrix { return p.m }
func (p *i2sPrepared) NewInput() kernels.Input {
	// q covers whole blocks; the tail past cols stays zero.
	return &i2sInput{p: p, q: make([]int8, p.nblk*I2SBlockCols)}
}

type i2sInput struct {
	p      *i2sPrepared
	q      []int8
	sumq   int32
	inv    float32
	loaded bool
}

func (in *i2sInput) Load(x []float32) error {
	m := in.p.m
	if err := kernels.CheckX(in.p.k.I.ID, m, x); err != nil {
		return err
	}
	s := i2sQuantize(in.p.k.avx2, x, in.q, &in.sumq)
	in.inv = kernels.I8Inv(m.Scale, s)
	in.loaded = true
	return nil
}

func (in *i2sInput) GEMV(y []float32, r0, r1 int) error {
	p := in.p
	if err := kernels.CheckGEMV(p.k.I.ID, p.m, y, r0, r1, in.loaded); err != nil {
		return err
	}
	if r0 == r1 {
		return nil
	}
	i2sGEMV(p, in, y[r0:r1], r0)
	return nil
}

// GGML peers.

// ggmlVersion is the npm package whose prebuilt libraries the peers load.
const (
	ggmlPackage = "@node-llama-cpp/linux-x64"
	ggmlVersion = "3.22.1"
	// ggmlSubdir is where peers.sh unpacks the libraries under peers/.
	ggmlSubdir = "node-llama-cpp-linux-x64-" + ggmlVersion + "/bins/linux-x64"
)

// GGMLHaswell is llama.cpp's TQ2_0 · Q8_K dot product from the haswell
// (AVX2, FMA, F16C) build of the ggml CPU backend.
var GGMLHaswell kernels.Kernel = newGGML("haswell", "avx2")

// GGMLZen4 is the same from the zen4 (AVX-512) build.
var GGMLZen4 kernels.Kernel = newGGML("zen4", "avx512")

func newGGML(variant, isa string) *ggmlKernel {
	return &ggmlKernel{variant: variant, Base: kernels.Base{I: kernels.Info{
		ID: "ggml-tq2_0-" + variant, Backend: "cgo", ISA: "ggml/" + isa, Mode: kernels.Peer,
		Code: "llama.cpp ggml (" + ggmlPackage + "@" + ggmlVersion + ", libggml-cpu-" + variant + ".so via dlopen): " +
			"W as TQ2_0 (256-weight blocks, f16 d = 1, tensor scale applied to the dot), x quantized to Q8_K by the library's from_float, " +
			"ggml_vec_dot_tq2_0_q8_K per row in one C loop per row range; cols padded with zeros to a multiple of 256",
	}}}
}

type ggmlKernel struct {
	kernels.Base
	variant string
}

// Supports accepts the ternary codebook only. TQ2_0 could hold any codebook
// of -1, 0, +1 weights, but ggml's dot product is exact only up to float
// rounding (it subtracts the Q8_K block sums in float), so a matrix of zero
// weights gives tiny nonzero y; a peer runs on the weights it was made for.
func (k *ggmlKernel) Supports(cb kernels.Codebook) error {
	if err := cb.Validate(); err != nil {
		return err
	}
	if cb != kernels.Ternary {
		return fmt.Errorf("ggml's TQ2_0 peer runs only the ternary codebook (%s), not %s", kernels.Ternary.Values(), cb.Name())
	}
	return nil
}

func (k *ggmlKernel) Available() error {
	_, err := ggmlOpen(k.variant)
	return err
}

// TQ2 block geometry (docs/format.md §4) and Q8_K's.
const (
	TQ2BlockCols  = 256
	TQ2BlockBytes = 66  // 64 code bytes + f16 d
	Q8KBlockBytes = 292 // f32 d + 256 int8 + 16 int16 sums
)

// f16One is 1.0 as an IEEE half.
const f16One = 0x3c00

// PackTQ2 converts m to ggml's TQ2_0, one row after another, each row padded
// to whole 256-weight blocks with zero weights: in each 128-weight half of a
// block, byte j holds the codes of columns j, j+32, j+64, j+96 in bits [1:0],
// [3:2], [5:4], [7:6], code = cb[code]+1 (so weight = code-1), and d = 1
// (the tensor scale multiplies the dot product instead). Supports must have
// accepted m's codebook.
func PackTQ2(m *kernels.Matrix) []byte {
	nb := (m.Cols + TQ2BlockCols - 1) / TQ2BlockCols
	stride := nb * TQ2BlockBytes
	out := make([]byte, m.Rows*stride)
	var tern [4]uint8 // code -> TQ2_0 code (weight + 1)
	for i, v := range m.Codebook {
		tern[i] = uint8(v + 1)
	}
	for r := 0; r < m.Rows; r++ {
		row := m.Row(r)
		dst := out[r*stride : (r+1)*stride]
		for b := 0; b < nb; b++ {
			blk := dst[b*TQ2BlockBytes : (b+1)*TQ2BlockBytes]
			for i := 0; i < TQ2BlockCols; i++ {
				c := b*TQ2BlockCols + i
				code := uint8(1) // zero weight for padding
				if c < m.Cols {
					code = tern[row[c>>2]>>(2*uint(c&3))&3]
				}
				h, j := i/128, i%128
				blk[h*32+j%32] |= code << (2 * uint(j/32))
			}
			binary.LittleEndian.PutUint16(blk[64:], f16One)
		}
	}
	return out
}

func (k *ggmlKernel) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if err := kernels.CheckPrepare(k, m); err != nil {
		return nil, err
	}
	lib, err := ggmlOpen(k.variant)
	if err != nil {
		return nil, err
	}
	nb := (m.Cols + TQ2BlockCols - 1) / TQ2BlockCols
	return &ggmlPrepared{k: k, m: m, lib: lib, w: PackTQ2(m), nb: nb}, nil
}

type ggmlPrepared struct {
	k   *ggmlKernel
	m   *kernels.Matrix
	lib *ggmlLib
	w   []byte
	nb  int // 256-weight blocks per row
}

func (p *ggmlPrepared) Kernel() kernels.Kernel  { return p.k }
func (p *ggmlPrepared) Matrix() *kernels.Matrix { return p.m }
func (p *ggmlPrepared) NewInput() kernels.Input {
	in := &ggmlInput{p: p, xq: make([]byte, p.nb*Q8KBlockBytes)}
	if p.m.Cols%TQ2BlockCols != 0 {
		in.xpad = make([]float32, p.nb*TQ2BlockCols)
	}
	return in
}

type ggmlInput struct {
	p      *ggmlPrepared
	xpad   []float32 // x padded with zeros to whole blocks, when cols%256 != 0
	xq     []byte    // x as Q8_K blocks
	loaded bool
}

func (in *ggmlInput) Load(x []float32) error {
	m := in.p.m
	if err := kernels.CheckX(in.p.k.I.ID, m, x); err != nil {
		return err
	}
	src := x
	if in.xpad != nil {
		copy(in.xpad, x) // the tail past cols stays zero
		src = in.xpad
	}
	ggmlQuantize(in.p.lib, src, in.xq)
	in.loaded = true
	return nil
}

func (in *ggmlInput) GEMV(y []float32, r0, r1 int) error {
	p := in.p
	if err := kernels.CheckGEMV(p.k.I.ID, p.m, y, r0, r1, in.loaded); err != nil {
		return err
	}
	if r0 == r1 {
		return nil
	}
	ggmlGEMV(p, in, y[r0:r1], r0)
	return nil
}

// GGMLDir returns the folder the ggml libraries are loaded from:
// $QKBENCH_GGML_DIR (the folder holding the .so files, or a peers/ folder or
// unpacked package above it), or peers/<package>/bins/linux-x64 under the
// first parent of the working directory holding go.mod and peers/.
func GGMLDir() (string, error) {
	if d := os.Getenv("QKBENCH_GGML_DIR"); d != "" {
		// Also accept the peers/ folder itself, or the unpacked package.
		for _, sub := range []string{filepath.FromSlash(ggmlSubdir), filepath.Join("bins", "linux-x64")} {
			if c := filepath.Join(d, sub); !isFile(filepath.Join(d, "libggml-base.so")) && isFile(filepath.Join(c, "libggml-base.so")) {
				return c, nil
			}
		}
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("cannot find peers/: %v; run make peers or set QKBENCH_GGML_DIR", err)
	}
	for d := wd; ; {
		if isFile(filepath.Join(d, "go.mod")) && isDir(filepath.Join(d, "peers")) {
			return filepath.Join(d, "peers", filepath.FromSlash(ggmlSubdir)), nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no peers/ folder next to a go.mod above %s; run make peers or set QKBENCH_GGML_DIR", wd)
		}
		d = parent
	}
}

func isFile(p string) bool { st, err := os.Stat(p); return err == nil && st.Mode().IsRegular() }
func isDir(p string) bool  { st, err := os.Stat(p); return err == nil && st.IsDir() }

// ggmlLibPaths returns the two libraries a variant needs, or an error with
// the one-line hint when they are missing.
func ggmlLibPaths(variant string) (base, cpu string, err error) {
	dir, err := GGMLDir()
	if err != nil {
		return "", "", err
	}
	base = filepath.Join(dir, "libggml-base.so")
	cpu = filepath.Join(dir, "libggml-cpu-"+variant+".so")
	for _, p := range []string{base, cpu} {
		if !isFile(p) {
			return "", "", fmt.Errorf("%s not found; run make peers or set QKBENCH_GGML_DIR", p)
		}
	}
	return base, cpu, nil
}

// CheckGGMLFiles reports whether the libraries of a ggml variant are where
// GGMLDir says, with the hint to fetch them when they are not.
func CheckGGMLFiles(variant string) error {
	_, _, err := ggmlLibPaths(variant)
	return err
}
