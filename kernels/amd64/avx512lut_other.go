//go:build !amd64 || purego

package amd64

// Without the assembly avx512lut-i8 reports itself unavailable and never
// runs (see avx512_other.go).

func lutScale(acc *int32, n16 int, inv float32, y *float32) {
	panic("amd64: lutScale called without AVX-512 assembly")
}

func lut3Tables(qu *uint8, ngroups int, cbv *[96]int16, tbl *int16) {
	panic("amd64: lut3Tables called without AVX-512 assembly")
}

func lut3Chunk(w *byte, tbl *int16, nper int, nrb int, acc *int32) {
	panic("amd64: lut3Chunk called without AVX-512 assembly")
}

func lutFlip(dst *uint8, src *int8, n int) {
	panic("amd64: lutFlip called without AVX-512 assembly")
}

func lutPrefetch(p *int8, n int) {
	panic("amd64: lutPrefetch called without AVX-512 assembly")
}
