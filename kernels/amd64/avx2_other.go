//go:build !amd64 || purego

package amd64

// Stubs of the assembly in avx2_amd64.s for builds without it. They are never
// called: the avx2 kernels' Available() fails first, and Prepare with it.

func i8Rows4AVX2(w *byte, stride int, q *int8, nchunk int, nblk int, tab *[32]byte, out *int32) {
	panic("amd64: i8Rows4AVX2 called without amd64 assembly")
}

func i8Rows1AVX2(w *byte, stride int, q *int8, nchunk int, nblk int, tab *[32]byte, out *int32) {
	panic("amd64: i8Rows1AVX2 called without amd64 assembly")
}

func f32Rows4AVX2(w *byte, stride int, x *float32, nchunk int, tab *[8]float32, out *float32) {
	panic("amd64: f32Rows4AVX2 called without amd64 assembly")
}

func f32Rows1AVX2(w *byte, stride int, x *float32, nchunk int, tab *[8]float32, out *float32) {
	panic("amd64: f32Rows1AVX2 called without amd64 assembly")
}

func i8DirRows4G8AVX2(w *byte, stride int, q *int8, nchunk int, nblk int, out *int32) {
	panic("amd64: i8DirRows4G8AVX2 called without amd64 assembly")
}

func i8DirRows4G4AVX2(w *byte, stride int, q *int8, nchunk int, nblk int, out *int32) {
	panic("amd64: i8DirRows4G4AVX2 called without amd64 assembly")
}

func i8DirRows1G8AVX2(w *byte, stride int, q *int8, nchunk int, nblk int, out *int32) {
	panic("amd64: i8DirRows1G8AVX2 called without amd64 assembly")
}

func i8DirRows1G4AVX2(w *byte, stride int, q *int8, nchunk int, nblk int, out *int32) {
	panic("amd64: i8DirRows1G4AVX2 called without amd64 assembly")
}
