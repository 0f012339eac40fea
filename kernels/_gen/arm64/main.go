// Command arm64 generates the NEON assembly of package kernels/arm64
// (neon_arm64.s) with its Go declarations (stubs_arm64.go) and the stubs
// that panic in every other build (stubs_other.go). The Go arm64 assembler
// lacks SDOT, SMULL, SMLAL2, SADALP and the vector float arithmetic: those
// are WORDs from internal/arm64asm, with the instruction in a comment.
// go generate in kernels/arm64 runs it:
//
//	cd kernels/_gen && go run ./arm64
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/qkbench/qkbench/kernels/_gen/internal/arm64asm"
	"github.com/qkbench/qkbench/kernels/_gen/internal/gen"
)

// funcs are the assembly functions with their Go doc comments.
var funcs = []gen.Func{
	{Decl: "i8Rows4(w *byte, q *int8, nchunk int, tab *[16]byte, out *[4]int32)", Doc: []string{
		"i8Rows4 computes, for the group of 4 rows whose codes (in the neon layout of",
		"repack) start at w, the exact integer sums",
		"",
		"\tfor r := 0; r < 4; r++ {",
		"\t\tout[r] = Σ_{c < 64*nchunk} int32(int8(tab[code(r, c)])) * int32(q[c])",
		"\t}",
		"",
		"with TBL lookups of the signed codebook and SDOT into int32 lanes (no lane",
		"can overflow: |sum| <= 254 * MaxDim < 2^31). It needs FEAT_DotProd.",
	}},
	{Decl: "f32Rows4(w *byte, x *float32, nchunk int, tab *[32]byte, out *[32]float32)", Doc: []string{
		"f32Rows4 computes, for the group of 4 rows whose codes (in the neon layout",
		"of repack) start at w, float32 partial sums of",
		"",
		"\tΣ_{c < 64*nchunk} weight(r, c) * x[c]",
		"",
		"where weight's float32 bits are tab[16+code]<<24 | tab[code]<<16 (the",
		"tables repeat with period 4). Row r's",
		"sum is spread over out[8r : 8r+8] (two 4-lane accumulators); the caller adds",
		"them up.",
	}},
	{Decl: "i8Rows4NoDot(w *byte, q *int8, nchunk int, tab *[16]byte, out *[4]int32)", Doc: []string{
		"i8Rows4NoDot computes what i8Rows4 does without FEAT_DotProd: SMULL and",
		"SMLAL2 put two products (|w*q| <= 254) in each int16 lane and SADALP adds",
		"lane pairs into int32, so nothing can overflow.",
	}},
	{Decl: "absMax16(x *float32, n int) float32", Doc: []string{
		"absMax16 returns max |x[i]| for i < 16*n (n >= 1): FABS, FMAX, FMAXV.",
	}},
	{Decl: "quant16(x *float32, n int, s float32, q *int8)", Doc: []string{
		"quant16 sets, for i < 16*n (n >= 1),",
		"",
		"\tq[i] = int8(roundHalfEven(float32(x[i] * s)))",
		"",
		"with FMUL and FCVTNS; the caller guarantees |x[i]*s| < 127.5.",
	}},
}

func main() {
	dir := flag.String("dir", "../arm64", "the package directory to write into")
	flag.Parse()
	header := gen.Header("go run ./arm64")
	if err := os.WriteFile(filepath.Join(*dir, "neon_arm64.s"), genAsm(header), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := gen.Stubs(filepath.Join(*dir, "stubs_arm64.go"), header, "arm64", "arm64 && !purego", funcs); err != nil {
		log.Fatal(err)
	}
	why := "The kernels' Available() fails in these builds, and Prepare with it."
	if err := gen.OtherStubs(filepath.Join(*dir, "stubs_other.go"), header, "arm64", "!arm64 || purego", why, funcs); err != nil {
		log.Fatal(err)
	}
}

// Register plan shared by all kernels. General: R0 the codes of the group of
// four rows, R2 x or q, R3 the chunk count, R4 the table, R5 out. Vector: V0-V3 x or q, V4-V7 the rows' code vectors, V8-V15 the
// accumulators (row i: V(8+2i) and V(9+2i)), V16-V19 constants, V20-V28
// temporaries.
// prologue loads the arguments.
func prologue(a *arm64asm.Writer, name, sig string) {
	a.Raw("")
	a.Raw("// func " + name + sig)
	a.Raw("TEXT ·" + name + "(SB), NOSPLIT, $0-40")
	a.Op("MOVD\tw+0(FP), R0")
	a.Op("MOVD\t%s+8(FP), R2", map[bool]string{true: "q", false: "x"}[strings.HasPrefix(name, "i8")])
	a.Op("MOVD\tnchunk+16(FP), R3")
	a.Op("MOVD\ttab+24(FP), R4")
	a.Op("MOVD\tout+32(FP), R5")
}

// stream writes into dst the 16 table indices of stream j (columns 16j..16j+15
// of the chunk) from the code vector c: (c >> 2j) & 15, where the AND is
// needed only for j < 2 (the 16-entry tables repeat with period 4, so the
// codes of higher streams left in bits 2-3 do not matter). mask holds 15 in
// every byte.
func stream(a *arm64asm.Writer, j, c, dst, mask int) {
	switch j {
	case 0:
		a.Op("VAND\t%s.B16, %s.B16, %s.B16", arm64asm.V(mask), arm64asm.V(c), arm64asm.V(dst))
	case 1:
		a.Op("VUSHR\t$2, %s.B16, %s.B16", arm64asm.V(c), arm64asm.V(dst))
		a.Op("VAND\t%s.B16, %s.B16, %s.B16", arm64asm.V(mask), arm64asm.V(dst), arm64asm.V(dst))
	default:
		a.Op("VUSHR\t$%d, %s.B16, %s.B16", 2*j, arm64asm.V(c), arm64asm.V(dst))
	}
}

// genI8 writes i8Rows4 (dot: SDOT) or i8Rows4NoDot (SMULL, SMLAL2, SADALP).
func genI8(a *arm64asm.Writer, dot bool) {
	name, loop := "i8Rows4", "i8loop"
	if !dot {
		name, loop = "i8Rows4NoDot", "i8nodotloop"
	}
	prologue(a, name, "(w *byte, q *int8, nchunk int, tab *[16]byte, out *[4]int32)")
	a.Op("VLD1\t(R4), [V16.B16]")
	a.Op("VMOVI\t$15, V17.B16")
	a.Zero(8, 9, 10, 11, 12, 13, 14, 15)
	a.Label(loop)
	a.Comment("q of the chunk's 64 columns, stream j in V(j)")
	a.Op("VLD1.P\t64(R2), [V0.B16, V1.B16, V2.B16, V3.B16]")
	a.Comment("codes of the chunk, row i in V(4+i)")
	a.Op("VLD1.P\t64(R0), [V4.B16, V5.B16, V6.B16, V7.B16]")
	for i := 0; i < 4; i++ {
		c, t := 4+i, 20+4*(i%2)
		if dot {
			a.Comment(fmt.Sprintf("row %d: weights of stream j = tab[(codes >> 2j) & 15], SDOT with q", i))
		} else {
			a.Comment(fmt.Sprintf("row %d: weights of stream j = tab[(codes >> 2j) & 15]; int16 lanes of two products each (|.| <= 508), pairwise into int32", i))
		}
		for j := 0; j < 4; j++ {
			stream(a, j, c, t+j, 17)
		}
		for j := 0; j < 4; j++ {
			a.Op("VTBL\t%s.B16, [V16.B16], %s.B16", arm64asm.V(t+j), arm64asm.V(t+j))
		}
		for j := 0; j < 4; j++ {
			acc := 8 + 2*i + j%2
			if dot {
				a.Word(arm64asm.SDOT(acc, t+j, j))
				continue
			}
			a.Word(arm64asm.SMULL(28+j, t+j, j))
			a.Word(arm64asm.SMLAL2(28+j, t+j, j))
			a.Word(arm64asm.SADALP(acc, 28+j))
		}
	}
	a.Op("SUBS\t$1, R3, R3")
	a.Op("BNE\t%s", loop)
	a.Comment("out[i] = sum of row i's 8 lanes")
	for i := 0; i < 4; i++ {
		a.Op("VADD\t%s.S4, %s.S4, %s.S4", arm64asm.V(9+2*i), arm64asm.V(8+2*i), arm64asm.V(8+2*i))
	}
	a.Op("VADDP\tV10.S4, V8.S4, V18.S4")
	a.Op("VADDP\tV14.S4, V12.S4, V19.S4")
	a.Op("VADDP\tV19.S4, V18.S4, V18.S4")
	a.Op("VST1\t[V18.S4], (R5)")
	a.Op("RET")
}

func genF32(a *arm64asm.Writer) {
	prologue(a, "f32Rows4", "(w *byte, x *float32, nchunk int, tab *[32]byte, out *[32]float32)")
	a.Comment("V16: byte 2 of float32(cb[i&3]), V17: byte 3, V18: zero, V19: 15s")
	a.Op("VLD1\t(R4), [V16.B16, V17.B16]")
	a.Op("VMOVI\t$15, V19.B16")
	a.Zero(18, 8, 9, 10, 11, 12, 13, 14, 15)
	a.Label("f32loop")
	a.Comment("codes of the chunk, row i in V(4+i)")
	a.Op("VLD1.P\t64(R0), [V4.B16, V5.B16, V6.B16, V7.B16]")
	for j := 0; j < 4; j++ {
		a.Comment(fmt.Sprintf("stream %d: x of columns 16*%d .. 16*%d+15 of the chunk", j, j, j))
		a.Op("VLD1.P\t64(R2), [V0.S4, V1.S4, V2.S4, V3.S4]")
		for i := 0; i < 4; i++ {
			a.Comment(fmt.Sprintf("row %d", i))
			stream(a, j, 4+i, 20, 19)
			a.Op("VTBL\tV20.B16, [V16.B16], V21.B16")
			a.Op("VTBL\tV20.B16, [V17.B16], V22.B16")
			a.Comment("halfwords byte3<<8 | byte2, then 32-bit lanes halfword<<16: the weights as float32")
			a.Op("VZIP1\tV22.B16, V21.B16, V23.B16")
			a.Op("VZIP2\tV22.B16, V21.B16, V24.B16")
			a.Op("VZIP1\tV23.H8, V18.H8, V25.H8")
			a.Op("VZIP2\tV23.H8, V18.H8, V26.H8")
			a.Op("VZIP1\tV24.H8, V18.H8, V27.H8")
			a.Op("VZIP2\tV24.H8, V18.H8, V28.H8")
			for k := 0; k < 4; k++ {
				a.Op("VFMLA\t%s.S4, %s.S4, %s.S4", arm64asm.V(25+k), arm64asm.V(k), arm64asm.V(8+2*i+k%2))
			}
		}
	}
	a.Op("SUBS\t$1, R3, R3")
	a.Op("BNE\tf32loop")
	a.Op("VST1.P\t[V8.S4, V9.S4, V10.S4, V11.S4], 64(R5)")
	a.Op("VST1\t[V12.S4, V13.S4, V14.S4, V15.S4], (R5)")
	a.Op("RET")
}

// genQuant writes absMax16 and quant16, the vector parts of quantizeI8.
func genQuant(a *arm64asm.Writer) {
	a.Raw("")
	a.Raw("// func absMax16(x *float32, n int) float32")
	a.Raw("TEXT ·absMax16(SB), NOSPLIT, $0-20")
	a.Op("MOVD\tx+0(FP), R0")
	a.Op("MOVD\tn+8(FP), R1")
	a.Zero(4, 5, 6, 7)
	a.Label("absmaxloop")
	a.Op("VLD1.P\t64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]")
	for i := 0; i < 4; i++ {
		a.Word(arm64asm.FABS(i, i))
	}
	for i := 0; i < 4; i++ {
		a.Word(arm64asm.FMAX(4+i, 4+i, i))
	}
	a.Op("SUBS\t$1, R1, R1")
	a.Op("BNE\tabsmaxloop")
	a.Word(arm64asm.FMAX(4, 4, 5))
	a.Word(arm64asm.FMAX(6, 6, 7))
	a.Word(arm64asm.FMAX(4, 4, 6))
	a.Word(arm64asm.FMAXV(4, 4))
	a.Op("FMOVS\tF4, ret+16(FP)")
	a.Op("RET")

	a.Raw("")
	a.Raw("// func quant16(x *float32, n int, s float32, q *int8)")
	a.Raw("TEXT ·quant16(SB), NOSPLIT, $0-32")
	a.Op("MOVD\tx+0(FP), R0")
	a.Op("MOVD\tn+8(FP), R1")
	a.Op("FMOVS\ts+16(FP), F16")
	a.Op("MOVD\tq+24(FP), R2")
	a.Op("VDUP\tV16.S[0], V16.S4")
	a.Label("quantloop")
	a.Op("VLD1.P\t64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]")
	a.Comment("float32(x*s), then round to nearest even (|x*s| < 127.5, so no clamp is needed)")
	for i := 0; i < 4; i++ {
		a.Word(arm64asm.FMUL(i, i, 16))
	}
	for i := 0; i < 4; i++ {
		a.Word(arm64asm.FCVTNS(i, i))
	}
	a.Comment("int32 -> int8: keep the low byte of each lane")
	a.Op("VUZP1\tV1.H8, V0.H8, V4.H8")
	a.Op("VUZP1\tV3.H8, V2.H8, V5.H8")
	a.Op("VUZP1\tV5.B16, V4.B16, V6.B16")
	a.Op("VST1.P\t[V6.B16], 16(R2)")
	a.Op("SUBS\t$1, R1, R1")
	a.Op("BNE\tquantloop")
	a.Op("RET")
}

// genAsm returns the text of neon_arm64.s.
func genAsm(header string) []byte {
	var a arm64asm.Writer
	a.Preamble(header, "arm64 && !purego")
	genI8(&a, true)
	genI8(&a, false)
	genF32(&a)
	genQuant(&a)
	return a.Bytes()
}
