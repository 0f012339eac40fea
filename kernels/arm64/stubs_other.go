//go:build !arm64 || purego

package arm64

// Stubs of the assembly in neon_arm64.s for builds without it. They are never
// called: the kernels' Available() fails first, and Prepare with it.

func i8Rows4(w *byte, q *int8, nchunk int, tab *[16]byte, out *[4]int32) {
	panic("arm64: i8Rows4 called without arm64 assembly")
}

func f32Rows4(w *byte, x *float32, nchunk int, tab *[32]byte, out *[32]float32) {
	panic("arm64: f32Rows4 called without arm64 assembly")
}

func i8Rows4NoDot(w *byte, q *int8, nchunk int, tab *[16]byte, out *[4]int32) {
	panic("arm64: i8Rows4NoDot called without arm64 assembly")
}

func absMax16(x *float32, n int) float32 {
	panic("arm64: absMax16 called without arm64 assembly")
}

func quant16(x *float32, n int, s float32, q *int8) {
	panic("arm64: quant16 called without arm64 assembly")
}
