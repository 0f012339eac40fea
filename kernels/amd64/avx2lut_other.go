//go:build !amd64 || purego

package amd64

// Without the assembly avx2lut-i8 reports itself unavailable and never
// runs (see avx2_other.go).

func avx2LUTTables(q *int8, npairs int, tbl *byte) {
	panic("amd64: avx2LUTTables called without amd64 assembly")
}

func avx2LUTChunk1(w *byte, tbl *byte, npass int, nblk int, acc *int32) {
	panic("amd64: avx2LUTChunk1 called without amd64 assembly")
}

func avx2LUTChunk2(w *byte, tbl *byte, npass int, nblk int, acc *int32) {
	panic("amd64: avx2LUTChunk2 called without amd64 assembly")
}

func avx2LUTScale(acc *int32, n8 int, bias int32, inv float32, y *float32) {
	panic("amd64: avx2LUTScale called without amd64 assembly")
}
