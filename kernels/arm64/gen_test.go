package arm64

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels/arm64/internal/enc"
)

var update = flag.Bool("update", false, "rewrite neon_arm64.s from the generator")

// TestGenerated checks that neon_arm64.s is what genAsm writes (run with
// -update to rewrite it after changing the generator). The test runs on every
// GOARCH: the file is text.
func TestGenerated(t *testing.T) {
	want := genAsm()
	if *update {
		if err := os.WriteFile("neon_arm64.s", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile("neon_arm64.s")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("neon_arm64.s is stale at line %d:\n have %q\n want %q\nrun: go test ./kernels/arm64 -run TestGenerated -update", i+1, g, w)
			}
		}
	}
}

// asmWriter accumulates Go assembler lines.
type asmWriter struct{ b bytes.Buffer }

func (a *asmWriter) op(format string, args ...any) {
	fmt.Fprintf(&a.b, "\t"+format+"\n", args...)
}
func (a *asmWriter) raw(s string)      { a.b.WriteString(s + "\n") }
func (a *asmWriter) word(i enc.Inst)   { a.op("%s", i.Line()) }
func (a *asmWriter) label(name string) { a.b.WriteString(name + ":\n") }
func v(n int) string                   { return fmt.Sprintf("V%d", n) }
func (a *asmWriter) comment(s string)  { a.op("// %s", s) }
func (a *asmWriter) zero(regs ...int) {
	for _, r := range regs {
		a.op("VEOR\t%s.B16, %s.B16, %s.B16", v(r), v(r), v(r))
	}
}

// Register plan shared by all kernels. General: R0 the codes of the group of
// four rows, R2 x or q, R3 the chunk count, R4 the table, R5 out. Vector: V0-V3 x or q, V4-V7 the rows' code vectors, V8-V15 the
// accumulators (row i: V(8+2i) and V(9+2i)), V16-V19 constants, V20-V28
// temporaries.
// prologue loads the arguments.
func (a *asmWriter) prologue(name, sig string) {
	a.raw("")
	a.raw("// func " + name + sig)
	a.raw("TEXT ·" + name + "(SB), NOSPLIT, $0-40")
	a.op("MOVD\tw+0(FP), R0")
	a.op("MOVD\t%s+8(FP), R2", map[bool]string{true: "q", false: "x"}[strings.HasPrefix(name, "i8")])
	a.op("MOVD\tnchunk+16(FP), R3")
	a.op("MOVD\ttab+24(FP), R4")
	a.op("MOVD\tout+32(FP), R5")
}

// stream writes into dst the 16 table indices of stream j (columns 16j..16j+15
// of the chunk) from the code vector c: (c >> 2j) & 15, where the AND is
// needed only for j < 2 (the 16-entry tables repeat with period 4, so the
// codes of higher streams left in bits 2-3 do not matter). mask holds 15 in
// every byte.
func (a *asmWriter) stream(j, c, dst, mask int) {
	switch j {
	case 0:
		a.op("VAND\t%s.B16, %s.B16, %s.B16", v(mask), v(c), v(dst))
	case 1:
		a.op("VUSHR\t$2, %s.B16, %s.B16", v(c), v(dst))
		a.op("VAND\t%s.B16, %s.B16, %s.B16", v(mask), v(dst), v(dst))
	default:
		a.op("VUSHR\t$%d, %s.B16, %s.B16", 2*j, v(c), v(dst))
	}
}

// genI8 writes i8Rows4 (dot: SDOT) or i8Rows4NoDot (SMULL, SMLAL2, SADALP).
func genI8(a *asmWriter, dot bool) {
	name, loop := "i8Rows4", "i8loop"
	if !dot {
		name, loop = "i8Rows4NoDot", "i8nodotloop"
	}
	a.prologue(name, "(w *byte, q *int8, nchunk int, tab *[16]byte, out *[4]int32)")
	a.op("VLD1\t(R4), [V16.B16]")
	a.op("VMOVI\t$15, V17.B16")
	a.zero(8, 9, 10, 11, 12, 13, 14, 15)
	a.label(loop)
	a.comment("q of the chunk's 64 columns, stream j in V(j)")
	a.op("VLD1.P\t64(R2), [V0.B16, V1.B16, V2.B16, V3.B16]")
	a.comment("codes of the chunk, row i in V(4+i)")
	a.op("VLD1.P\t64(R0), [V4.B16, V5.B16, V6.B16, V7.B16]")
	for i := 0; i < 4; i++ {
		c, t := 4+i, 20+4*(i%2)
		if dot {
			a.comment(fmt.Sprintf("row %d: weights of stream j = tab[(codes >> 2j) & 15], SDOT with q", i))
		} else {
			a.comment(fmt.Sprintf("row %d: weights of stream j = tab[(codes >> 2j) & 15]; int16 lanes of two products each (|.| <= 508), pairwise into int32", i))
		}
		for j := 0; j < 4; j++ {
			a.stream(j, c, t+j, 17)
		}
		for j := 0; j < 4; j++ {
			a.op("VTBL\t%s.B16, [V16.B16], %s.B16", v(t+j), v(t+j))
		}
		for j := 0; j < 4; j++ {
			acc := 8 + 2*i + j%2
			if dot {
				a.word(enc.SDOT(acc, t+j, j))
				continue
			}
			a.word(enc.SMULL(28+j, t+j, j))
			a.word(enc.SMLAL2(28+j, t+j, j))
			a.word(enc.SADALP(acc, 28+j))
		}
	}
	a.op("SUBS\t$1, R3, R3")
	a.op("BNE\t%s", loop)
	a.comment("out[i] = sum of row i's 8 lanes")
	for i := 0; i < 4; i++ {
		a.op("VADD\t%s.S4, %s.S4, %s.S4", v(9+2*i), v(8+2*i), v(8+2*i))
	}
	a.op("VADDP\tV10.S4, V8.S4, V18.S4")
	a.op("VADDP\tV14.S4, V12.S4, V19.S4")
	a.op("VADDP\tV19.S4, V18.S4, V18.S4")
	a.op("VST1\t[V18.S4], (R5)")
	a.op("RET")
}

func genF32(a *asmWriter) {
	a.prologue("f32Rows4", "(w *byte, x *float32, nchunk int, tab *[32]byte, out *[32]float32)")
	a.comment("V16: byte 2 of float32(cb[i&3]), V17: byte 3, V18: zero, V19: 15s")
	a.op("VLD1\t(R4), [V16.B16, V17.B16]")
	a.op("VMOVI\t$15, V19.B16")
	a.zero(18, 8, 9, 10, 11, 12, 13, 14, 15)
	a.label("f32loop")
	a.comment("codes of the chunk, row i in V(4+i)")
	a.op("VLD1.P\t64(R0), [V4.B16, V5.B16, V6.B16, V7.B16]")
	for j := 0; j < 4; j++ {
		a.comment(fmt.Sprintf("stream %d: x of columns 16*%d .. 16*%d+15 of the chunk", j, j, j))
		a.op("VLD1.P\t64(R2), [V0.S4, V1.S4, V2.S4, V3.S4]")
		for i := 0; i < 4; i++ {
			a.comment(fmt.Sprintf("row %d", i))
			a.stream(j, 4+i, 20, 19)
			a.op("VTBL\tV20.B16, [V16.B16], V21.B16")
			a.op("VTBL\tV20.B16, [V17.B16], V22.B16")
			a.comment("halfwords byte3<<8 | byte2, then 32-bit lanes halfword<<16: the weights as float32")
			a.op("VZIP1\tV22.B16, V21.B16, V23.B16")
			a.op("VZIP2\tV22.B16, V21.B16, V24.B16")
			a.op("VZIP1\tV23.H8, V18.H8, V25.H8")
			a.op("VZIP2\tV23.H8, V18.H8, V26.H8")
			a.op("VZIP1\tV24.H8, V18.H8, V27.H8")
			a.op("VZIP2\tV24.H8, V18.H8, V28.H8")
			for k := 0; k < 4; k++ {
				a.op("VFMLA\t%s.S4, %s.S4, %s.S4", v(25+k), v(k), v(8+2*i+k%2))
			}
		}
	}
	a.op("SUBS\t$1, R3, R3")
	a.op("BNE\tf32loop")
	a.op("VST1.P\t[V8.S4, V9.S4, V10.S4, V11.S4], 64(R5)")
	a.op("VST1\t[V12.S4, V13.S4, V14.S4, V15.S4], (R5)")
	a.op("RET")
}

// genQuant writes absMax16 and quant16, the vector parts of quantizeI8.
func genQuant(a *asmWriter) {
	a.raw("")
	a.raw("// func absMax16(x *float32, n int) float32")
	a.raw("TEXT ·absMax16(SB), NOSPLIT, $0-20")
	a.op("MOVD\tx+0(FP), R0")
	a.op("MOVD\tn+8(FP), R1")
	a.zero(4, 5, 6, 7)
	a.label("absmaxloop")
	a.op("VLD1.P\t64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]")
	for i := 0; i < 4; i++ {
		a.word(enc.FABS(i, i))
	}
	for i := 0; i < 4; i++ {
		a.word(enc.FMAX(4+i, 4+i, i))
	}
	a.op("SUBS\t$1, R1, R1")
	a.op("BNE\tabsmaxloop")
	a.word(enc.FMAX(4, 4, 5))
	a.word(enc.FMAX(6, 6, 7))
	a.word(enc.FMAX(4, 4, 6))
	a.word(enc.FMAXV(4, 4))
	a.op("FMOVS\tF4, ret+16(FP)")
	a.op("RET")

	a.raw("")
	a.raw("// func quant16(x *float32, n int, s float32, q *int8)")
	a.raw("TEXT ·quant16(SB), NOSPLIT, $0-32")
	a.op("MOVD\tx+0(FP), R0")
	a.op("MOVD\tn+8(FP), R1")
	a.op("FMOVS\ts+16(FP), F16")
	a.op("MOVD\tq+24(FP), R2")
	a.op("VDUP\tV16.S[0], V16.S4")
	a.label("quantloop")
	a.op("VLD1.P\t64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]")
	a.comment("float32(x*s), then round to nearest even (|x*s| < 127.5, so no clamp is needed)")
	for i := 0; i < 4; i++ {
		a.word(enc.FMUL(i, i, 16))
	}
	for i := 0; i < 4; i++ {
		a.word(enc.FCVTNS(i, i))
	}
	a.comment("int32 -> int8: keep the low byte of each lane")
	a.op("VUZP1\tV1.H8, V0.H8, V4.H8")
	a.op("VUZP1\tV3.H8, V2.H8, V5.H8")
	a.op("VUZP1\tV5.B16, V4.B16, V6.B16")
	a.op("VST1.P\t[V6.B16], 16(R2)")
	a.op("SUBS\t$1, R1, R1")
	a.op("BNE\tquantloop")
	a.op("RET")
}

// genAsm returns the text of neon_arm64.s.
func genAsm() []byte {
	var a asmWriter
	a.raw("// Code generated by gen_test.go (go test ./kernels/arm64 -run TestGenerated -update). DO NOT EDIT.")
	a.raw("")
	a.raw("//go:build arm64 && !purego")
	a.raw("")
	a.raw("#include \"textflag.h\"")
	genI8(&a, true)
	genI8(&a, false)
	genF32(&a)
	genQuant(&a)
	return a.b.Bytes()
}
