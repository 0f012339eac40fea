// Package arm64asm writes Go arm64 assembly for the generators (Writer) and
// encodes the Advanced SIMD instructions that the Go assembler does not
// know (SDOT, UDOT, SMULL, SMLAL, SADALP and the vector float arithmetic and
// conversions: FADD, FADDP, FMUL, FMAX, FMAXV, FABS, FCVTNS, SCVTF), so that
// the kernels' and the probe's generated assembly can emit them as
// `WORD $0x...` with the mnemonic in a comment. Every encoding follows the
// bit layout of the Arm Architecture Reference Manual (A64, "Advanced SIMD
// three same / three different / two-register misc" classes) and is checked in
// enc_test.go against words produced by GNU as.
package arm64asm

import "fmt"

// Inst is one encoded instruction: its 32-bit word and its GNU-syntax text.
type Inst struct {
	Bits uint32
	Asm  string
}

// Line returns the instruction as a Go assembler line:
//
//	WORD	$0x4e829420	// sdot v0.4s, v1.16b, v2.16b
func (i Inst) Line() string { return fmt.Sprintf("WORD\t$0x%08x\t// %s", i.Bits, i.Asm) }

func reg(r int) uint32 {
	if r < 0 || r > 31 {
		// A generator bug, not an input error: there are 32 vector registers.
		panic(fmt.Sprintf("arm64asm: vector register V%d out of range 0..31", r))
	}
	return uint32(r)
}

// three encodes the Rm/Rn/Rd fields of a three-register instruction.
func three(base uint32, d, n, m int) uint32 { return base | reg(m)<<16 | reg(n)<<5 | reg(d) }

// two encodes the Rn/Rd fields of a two-register instruction.
func two(base uint32, d, n int) uint32 { return base | reg(n)<<5 | reg(d) }

// SDOT returns `sdot vd.4s, vn.16b, vm.16b`: each int32 lane of vd gains the
// dot product of the four signed bytes of vn and vm in that lane (FEAT_DotProd).
// Layout: 0 Q=1 U=0 01110 size=10 0 Rm 1001 0 1 Rn Rd.
func SDOT(d, n, m int) Inst {
	return Inst{three(0x4e809400, d, n, m), fmt.Sprintf("sdot v%d.4s, v%d.16b, v%d.16b", d, n, m)}
}

// UDOT is SDOT for unsigned bytes (U=1).
func UDOT(d, n, m int) Inst {
	return Inst{three(0x6e809400, d, n, m), fmt.Sprintf("udot v%d.4s, v%d.16b, v%d.16b", d, n, m)}
}

// SMULL returns `smull vd.8h, vn.8b, vm.8b` (signed widening multiply of the
// low halves). Layout: 0 Q=0 U=0 01110 size=00 1 Rm 1100 00 Rn Rd.
func SMULL(d, n, m int) Inst {
	return Inst{three(0x0e20c000, d, n, m), fmt.Sprintf("smull v%d.8h, v%d.8b, v%d.8b", d, n, m)}
}

// SMULL2 is SMULL on the high halves (Q=1): `smull2 vd.8h, vn.16b, vm.16b`.
func SMULL2(d, n, m int) Inst {
	return Inst{three(0x4e20c000, d, n, m), fmt.Sprintf("smull2 v%d.8h, v%d.16b, v%d.16b", d, n, m)}
}

// SMLAL returns `smlal vd.8h, vn.8b, vm.8b`: vd's int16 lanes gain the signed
// widening products of the low halves. Layout: 0 Q=0 U=0 01110 size=00 1 Rm
// 1000 00 Rn Rd.
func SMLAL(d, n, m int) Inst {
	return Inst{three(0x0e208000, d, n, m), fmt.Sprintf("smlal v%d.8h, v%d.8b, v%d.8b", d, n, m)}
}

// SMLAL2 is SMLAL on the high halves (Q=1): `smlal2 vd.8h, vn.16b, vm.16b`.
func SMLAL2(d, n, m int) Inst {
	return Inst{three(0x4e208000, d, n, m), fmt.Sprintf("smlal2 v%d.8h, v%d.16b, v%d.16b", d, n, m)}
}

// SADALP returns `sadalp vd.4s, vn.8h`: each int32 lane of vd gains the sum
// of a pair of adjacent int16 lanes of vn.
// Layout: 0 Q=1 U=0 01110 size=01 10000 00110 10 Rn Rd.
func SADALP(d, n int) Inst {
	return Inst{two(0x4e606800, d, n), fmt.Sprintf("sadalp v%d.4s, v%d.8h", d, n)}
}

// FADD returns `fadd vd.4s, vn.4s, vm.4s`.
// Layout: 0 Q=1 U=0 01110 0 sz=0 1 Rm 11010 1 Rn Rd.
func FADD(d, n, m int) Inst {
	return Inst{three(0x4e20d400, d, n, m), fmt.Sprintf("fadd v%d.4s, v%d.4s, v%d.4s", d, n, m)}
}

// FADDP returns `faddp vd.4s, vn.4s, vm.4s` (pairwise: vd = [n0+n1, n2+n3,
// m0+m1, m2+m3]). Layout: as FADD with U=1.
func FADDP(d, n, m int) Inst {
	return Inst{three(0x6e20d400, d, n, m), fmt.Sprintf("faddp v%d.4s, v%d.4s, v%d.4s", d, n, m)}
}

// FMUL returns `fmul vd.4s, vn.4s, vm.4s`.
// Layout: 0 Q=1 U=1 01110 0 sz=0 1 Rm 11011 1 Rn Rd.
func FMUL(d, n, m int) Inst {
	return Inst{three(0x6e20dc00, d, n, m), fmt.Sprintf("fmul v%d.4s, v%d.4s, v%d.4s", d, n, m)}
}

// FMAX returns `fmax vd.4s, vn.4s, vm.4s`.
// Layout: 0 Q=1 U=0 01110 0 sz=0 1 Rm 11110 1 Rn Rd.
func FMAX(d, n, m int) Inst {
	return Inst{three(0x4e20f400, d, n, m), fmt.Sprintf("fmax v%d.4s, v%d.4s, v%d.4s", d, n, m)}
}

// FMAXV returns `fmaxv sd, vn.4s` (the largest of the four lanes).
// Layout: 0 Q=1 U=1 01110 0 sz=0 11000 01111 10 Rn Rd.
func FMAXV(d, n int) Inst {
	return Inst{two(0x6e30f800, d, n), fmt.Sprintf("fmaxv s%d, v%d.4s", d, n)}
}

// FABS returns `fabs vd.4s, vn.4s`.
// Layout: 0 Q=1 U=0 01110 1 sz=0 10000 01111 10 Rn Rd.
func FABS(d, n int) Inst {
	return Inst{two(0x4ea0f800, d, n), fmt.Sprintf("fabs v%d.4s, v%d.4s", d, n)}
}

// FCVTNS returns `fcvtns vd.4s, vn.4s`: float32 to int32, rounding to
// nearest with ties to even, saturating.
// Layout: 0 Q=1 U=0 01110 0 sz=0 10000 11010 10 Rn Rd.
func FCVTNS(d, n int) Inst {
	return Inst{two(0x4e21a800, d, n), fmt.Sprintf("fcvtns v%d.4s, v%d.4s", d, n)}
}

// SCVTF returns `scvtf vd.4s, vn.4s` (int32 lanes to float32, round to
// nearest). Layout: 0 Q=1 U=0 01110 0 sz=0 10000 11101 10 Rn Rd.
func SCVTF(d, n int) Inst {
	return Inst{two(0x4e21d800, d, n), fmt.Sprintf("scvtf v%d.4s, v%d.4s", d, n)}
}
