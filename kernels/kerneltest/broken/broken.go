// Package broken holds kernels that are wrong on purpose, each in one way
// (a Flaw): the conformance suite's tests prove that it catches every one,
// and the command's tests run them through whole sweeps and checks, which
// must report them failed and go on. They are for tests only; nothing
// registers them.
package broken

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/qkbench/qkbench/kernels"
)

// A Flaw is one way to get a kernel wrong.
type Flaw int

// Flaws lists every flaw, Sound first.
func Flaws() []Flaw {
	out := make([]Flaw, 0, len(Names))
	for f := Sound; f <= Panics; f++ {
		out = append(out, f)
	}
	return out
}

// InProcess reports whether a kernel with flaw f can run in a process that
// must live on, on any number of threads: it stays within the memory it is
// given and has no data race. Overread, Underread and YAlias touch memory
// outside x and y (a fault, or a checkptr abort under -race); GemvScratch
// races between threads, and so does WriteOutside, which writes the first
// row of the next thread's range.
func InProcess(f Flaw) bool {
	switch f {
	case Overread, Underread, YAlias, GemvScratch, WriteOutside:
		return false
	}
	return true
}

const (
	Sound         Flaw = iota
	Overread           // reads x[cols] (and ignores it)
	Underread          // reads x[-1] (and ignores it)
	LastRow            // never computes the matrix's last row
	HalfAway           // quantizes with round half away from zero
	PadCounts          // padding codes count, with the last x
	WriteOutside       // also writes (the right value of) row r1
	Int16Acc           // sums u*q of a 256-column block in a wrapping int16
	UnalignedBug       // skips the first floats of an x that is not 16-byte aligned
	SharedScratch      // one quantization buffer per Prepared, shared by its Inputs
	StaleLoad          // a second Load on an Input keeps the first x's codes
	NoRangeCheck       // GEMV trusts r0, r1 and len(y)
	YAlias             // writes y[r] through y[0]'s address rounded down to 16 bytes
	BadInfo            // an id ending in -<digits>
	GemvScratch        // GEMV sums rows in one accumulator per Prepared, shared by every caller
	NoScale            // forgets the tensor scale
	InvOrder           // i8: y = float32(isum) * (1/s) * scale, not float32(isum) * (scale/s)
	BF16Products       // f32: rounds every product to bfloat16
	GlobalScale        // Prepare keeps the scale in a package variable
	HardWired          // supports only the qk256 codebook (docs/format.md §1: none may hard-wire one)
	DeepRows           // leaves rows 96..127 of every 128-row block uncomputed (a wide kernel's last row set)
	Panics             // GEMV panics
)

// lastScale is GlobalScale's shared state.
var lastScale float32

// Names are the flaws' names, as they appear in the kernel ids
// ("broken-<name>-<mode>").
var Names = map[Flaw]string{
	Sound: "sound", Overread: "overread", Underread: "underread", LastRow: "lastrow",
	HalfAway: "halfaway", PadCounts: "padcounts", WriteOutside: "writeoutside",
	Int16Acc: "int16acc", UnalignedBug: "unaligned", SharedScratch: "sharedscratch",
	StaleLoad: "staleload", NoRangeCheck: "norangecheck", YAlias: "yalias", BadInfo: "badinfo", GemvScratch: "gemvscratch",
	GlobalScale: "globalscale", NoScale: "noscale", InvOrder: "invorder", BF16Products: "bf16",
	HardWired: "hardwired", DeepRows: "deeprows", Panics: "panics",
}

// Kernel is a small but realistic i8 (or f32) kernel: it unpacks the
// codes at Prepare, computes Σ (cb+2)*q - 2*Σq like the SIMD kernels do, and
// carries one deliberate flaw.
type Kernel struct {
	kernels.Base
	Flaw Flaw
}

// New returns a kernel of the given mode with flaw f (Sound: none).
func New(f Flaw, mode kernels.Mode) *Kernel {
	k := &Kernel{Base: kernels.Base{I: kernels.Info{
		ID: "broken-" + Names[f] + "-" + mode.String(), Backend: "test", ISA: "go", Mode: mode,
		Code: "test kernel with a deliberate flaw: " + Names[f],
	}}, Flaw: f}
	if f == BadInfo {
		k.I.ID += "-2"
	}
	return k
}

func (k *Kernel) Available() error { return nil }

func (k *Kernel) Supports(cb kernels.Codebook) error {
	if k.Flaw == HardWired && cb != kernels.QK256 {
		return fmt.Errorf("only qk256")
	}
	return k.Base.Supports(cb)
}

func (k *Kernel) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if err := kernels.CheckPrepare(k, m); err != nil {
		return nil, err
	}
	padded := m.Blocks() * kernels.BlockCols
	p := &prepared{k: k, m: m, padded: padded, u: make([]uint8, m.Rows*padded)}
	for r := 0; r < m.Rows; r++ {
		for c := 0; c < padded; c++ {
			p.u[r*padded+c] = uint8(m.Codebook[m.Code(r, c)] + 2)
		}
	}
	p.acc = make([]int64, 1)
	if k.Flaw == GlobalScale {
		lastScale = m.Scale
	}
	if k.Flaw == SharedScratch {
		p.shared = make([]int8, padded)
	}
	return p, nil
}

type prepared struct {
	k      *Kernel
	m      *kernels.Matrix
	padded int
	u      []uint8 // cb[code]+2 for every element, padding included
	shared []int8
	acc    []int64 // GemvScratch: one accumulator shared by every GEMV
}

func (p *prepared) Kernel() kernels.Kernel  { return p.k }
func (p *prepared) Matrix() *kernels.Matrix { return p.m }
func (p *prepared) NewInput() kernels.Input {
	in := &input{p: p, q: p.shared}
	if in.q == nil {
		in.q = make([]int8, p.padded)
	}
	in.xf = make([]float32, p.padded)
	return in
}

type input struct {
	p      *prepared
	loaded bool
	q      []int8    // padded quantized x (zeros in the padding)
	xf     []float32 // padded x for f32 mode
	sumQ   int64
	inv    float32
	s      float32
}

var sink float32

func (in *input) Load(x []float32) error {
	m, f := in.p.m, in.p.k.Flaw
	if err := kernels.CheckX(in.p.k.I.ID, m, x); err != nil {
		return err
	}
	switch f {
	case Overread:
		sink += *(*float32)(unsafe.Add(unsafe.Pointer(&x[0]), 4*len(x)))
	case Underread:
		sink += *(*float32)(unsafe.Add(unsafe.Pointer(&x[0]), -4))
	case StaleLoad:
		if in.loaded {
			return nil
		}
	}
	skip := 0
	if a := uintptr(unsafe.Pointer(&x[0])) % 16; f == UnalignedBug && a != 0 {
		skip = min(len(x), int(16-a)/4)
	}
	for i := range in.xf {
		in.xf[i] = 0
		in.q[i] = 0
	}
	copy(in.xf[skip:], x[skip:])
	if f == PadCounts {
		for i := m.Cols; i < in.p.padded; i++ {
			in.xf[i] = x[m.Cols-1]
		}
	}
	s := kernels.QuantizeI8(in.xf[:m.Cols], in.q)
	if f == HalfAway {
		for i, v := range in.xf[:m.Cols] {
			in.q[i] = int8(max(-127, min(127, math.Round(float64(v*s)))))
		}
	}
	if f == PadCounts {
		for i := m.Cols; i < in.p.padded; i++ {
			in.q[i] = in.q[m.Cols-1]
		}
	}
	in.sumQ = 0
	for _, v := range in.q {
		in.sumQ += int64(v)
	}
	in.inv = kernels.I8Inv(m.Scale, s)
	in.s = s
	in.loaded = true
	return nil
}

func (in *input) GEMV(y []float32, r0, r1 int) error {
	m, f := in.p.m, in.p.k.Flaw
	if f != NoRangeCheck {
		if err := kernels.CheckY(in.p.k.I.ID, m, y, r0, r1); err != nil {
			return err
		}
	}
	if !in.loaded {
		return kernels.ErrNotLoaded
	}
	if f == Panics && r1 > r0 {
		panic(fmt.Sprintf("%s: rows [%d, %d)", in.p.k.I.ID, r0, r1))
	}
	for r := r0; r < r1; r++ {
		if f == LastRow && r == m.Rows-1 || f == DeepRows && r%128 >= 96 {
			continue
		}
		v := in.row(r)
		if f == YAlias {
			a := uintptr(unsafe.Pointer(&y[0])) % 16
			base := unsafe.Add(unsafe.Pointer(&y[0]), -int(a))
			*(*float32)(unsafe.Add(base, 4*r)) = v
			continue
		}
		y[r] = v
	}
	if f == WriteOutside && r1 < len(y) {
		y[r1] = in.row(r1)
	}
	return nil
}

func (in *input) row(r int) float32 {
	p := in.p
	u := p.u[r*p.padded : (r+1)*p.padded]
	scale := p.m.Scale
	if p.k.Flaw == NoScale {
		scale = 1
	}
	if p.k.Flaw == GlobalScale {
		scale = lastScale
	}
	if p.k.I.Mode == kernels.F32 {
		var s float32
		for c, w := range u {
			prod := float32(int(w)-2) * in.xf[c]
			if p.k.Flaw == BF16Products {
				prod = math.Float32frombits(math.Float32bits(prod) &^ 0xffff)
			}
			s += prod
		}
		return scale * s
	}
	if p.k.Flaw == InvOrder {
		var isum int64
		for c, w := range u {
			isum += int64(w) * int64(in.q[c])
		}
		return float32(isum-2*in.sumQ) * (1 / in.s) * scale
	}
	if p.k.Flaw == NoScale || p.k.Flaw == GlobalScale {
		in := *in
		in.inv = kernels.I8Inv(scale, in.s)
		return in.row1(r)
	}
	return in.row1(r)
}

func (in *input) row1(r int) float32 {
	p := in.p
	u := p.u[r*p.padded : (r+1)*p.padded]
	if p.k.Flaw == GemvScratch {
		p.acc[0] = 0
		for c, w := range u {
			p.acc[0] += int64(w) * int64(in.q[c])
		}
		return float32(p.acc[0]-2*in.sumQ) * in.inv
	}
	var isum int64
	for b := 0; b < p.padded; b += kernels.BlockCols {
		var acc int32
		var acc16 int16
		for c := b; c < b+kernels.BlockCols; c++ {
			if p.k.Flaw == Int16Acc {
				acc16 += int16(u[c]) * int16(in.q[c])
			} else {
				acc += int32(u[c]) * int32(in.q[c])
			}
		}
		isum += int64(acc) + int64(acc16)
	}
	return float32(isum-2*in.sumQ) * in.inv
}
