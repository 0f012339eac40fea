//go:build !amd64 || purego

package amd64

// Without the assembly the AVX-512 kernels report themselves unavailable
// (need fails on asmBuilt) and Prepare refuses them, so these never run.

func vnniRows8(w *byte, stride int, nb int, qp *int8, tbl *[192]byte, out *int32) {
	panic("amd64: vnniRows8 called without AVX-512 assembly")
}

func vnniRows1(w *byte, stride int, nb int, qp *int8, tbl *[192]byte, out *int32) {
	panic("amd64: vnniRows1 called without AVX-512 assembly")
}

func lutTables(q *int8, ngroups int, cbv *[128]int16, tbl *int16) {
	panic("amd64: lutTables called without AVX-512 assembly")
}

func lutChunk(w *byte, tbl *int16, nper int, nrb int, acc *int32) {
	panic("amd64: lutChunk called without AVX-512 assembly")
}

func avx512Amax(x *float32, n int) float32 {
	panic("amd64: avx512Amax called without AVX-512 assembly")
}

func avx512Quant(x *float32, n int, s float32, q *int8) int32 {
	panic("amd64: avx512Quant called without AVX-512 assembly")
}

func avx512Streams(q *int8, n64 int, qp *int8) {
	panic("amd64: avx512Streams called without AVX-512 assembly")
}
