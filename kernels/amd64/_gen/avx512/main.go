// Command avx512 generates kernels/amd64/avx512_amd64.s and its stubs: the
// AVX-512 inner loops of the avx512vnni-i8 and avx512lut-i8 kernels.
//
//	cd kernels/amd64/_gen && go run ./avx512 -out ../avx512_amd64.s -stubs ../avx512_stubs_amd64.go -pkg amd64
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("amd64,!purego")
	vnniRows(8)
	vnniRows(1)
	lutBlocks()
	Generate()
}

// hsumD reduces the 16 int32 lanes of z to one and stores it at dst.
func hsumD(z VecVirtual, dst Mem) {
	y := YMM()
	VEXTRACTI64X4(U8(1), z, y)
	VPADDD(z.AsY(), y, y)
	x := XMM()
	VEXTRACTI128(U8(1), y, x)
	VPADDD(y.AsX(), x, x)
	t := XMM()
	VPSHUFD(U8(0x4e), x, t)
	VPADDD(t, x, x)
	VPSHUFD(U8(0xb1), x, t)
	VPADDD(t, x, x)
	VMOVD(x, dst)
}

// vnniRows emits vnniRows<n>: n rows of seq-packed codes against the
// permuted int8 activations, one VPERMB per code plane and VPDPBUSD.
func vnniRows(n int) {
	name := fmt.Sprintf("vnniRows%d", n)
	TEXT(name, NOSPLIT, "func(w *byte, stride int, nb int, qp *int8, tbl *[192]byte, out *int32)")
	Doc(
		name+" computes, for the "+fmt.Sprint(n)+" rows i at w + i*stride, each nb >= 1 blocks of 64 bytes,",
		"",
		"\tout[i] = Σ_{b<nb} Σ_{k<64} Σ_{j<4} tbl[64*t[j] + (w[i*stride+64b+k] >> sh[j]) & 63] * qp[256b+64j+k]",
		"",
		"with t = {0, 1, 2, 0} and sh = {0, 0, 0, 6}: VPERMB reads bits 0..5 of a",
		"code byte, table j holds cb[(idx>>2j)&3]+2, and code 3 is shifted down.",
	)
	w := Load(Param("w"), GP64())
	stride := Load(Param("stride"), GP64())
	nb := Load(Param("nb"), GP64())
	qp := Load(Param("qp"), GP64())
	tp := Load(Param("tbl"), GP64())
	out := Load(Param("out"), GP64())

	tbl := []VecVirtual{ZMM(), ZMM(), ZMM()}
	for j, t := range tbl {
		VMOVDQU64(Mem{Base: tp, Disp: 64 * j}, t)
	}
	rows := make([]GPVirtual, n)
	for i := range rows {
		rows[i] = GP64()
		if i == 0 {
			MOVQ(w, rows[i])
		} else {
			LEAQ(Mem{Base: rows[i-1], Index: stride, Scale: 1}, rows[i])
		}
	}
	acc := make([]VecVirtual, n)
	for i := range acc {
		acc[i] = ZMM()
		VPXORD(acc[i], acc[i], acc[i])
	}
	off := GP64()
	XORQ(off, off)

	Label(name + "_block")
	q := []VecVirtual{ZMM(), ZMM(), ZMM(), ZMM()}
	for j := range q {
		VMOVDQU64(Mem{Base: qp, Disp: 64 * j}, q[j])
	}
	for i := 0; i < n; i++ {
		v := ZMM()
		VMOVDQU64(Mem{Base: rows[i], Index: off, Scale: 1}, v)
		u := []VecVirtual{ZMM(), ZMM(), ZMM(), ZMM()}
		s := ZMM()
		VPSRLW(U8(6), v, s)
		VPERMB(tbl[0], v, u[0])
		VPERMB(tbl[1], v, u[1])
		VPERMB(tbl[2], v, u[2])
		VPERMB(tbl[0], s, u[3])
		for j := 0; j < 4; j++ {
			VPDPBUSD(q[j], u[j], acc[i])
		}
	}
	ADDQ(U8(64), off)
	ADDQ(U32(256), qp)
	DECQ(nb)
	JNZ(LabelRef(name + "_block"))

	for i := 0; i < n; i++ {
		hsumD(acc[i], Mem{Base: out, Disp: 4 * i})
	}
	VZEROUPPER()
	RET()
}

func lutBlocks() {}
