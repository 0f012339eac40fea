//go:build arm64 && !purego

package arm64

// i8Rows4 computes, for the group of 4 rows whose codes (in the neon layout of
// repack) start at w, the exact integer sums
//
//	for r := 0; r < 4; r++ {
//		out[r] = Σ_{c < 64*nchunk} int32(int8(tab[code(r, c)])) * int32(q[c])
//	}
//
// with TBL lookups of the signed codebook and SDOT into int32 lanes (no lane
// can overflow: |sum| <= 254 * MaxDim < 2^31). It needs FEAT_DotProd.
//
//go:noescape
func i8Rows4(w *byte, q *int8, nchunk int, tab *[16]byte, out *[4]int32)

// f32Rows4 computes, for the group of 4 rows whose codes (in the neon layout
// of repack) start at w, float32 partial sums of
//
//	Σ_{c < 64*nchunk} weight(r, c) * x[c]
//
// where weight's float32 bits are tab[16+code]<<24 | tab[code]<<16 (the
// tables repeat with period 4). Row r's
// sum is spread over out[8r : 8r+8] (two 4-lane accumulators); the caller adds
// them up.
//
//go:noescape
func f32Rows4(w *byte, x *float32, nchunk int, tab *[32]byte, out *[32]float32)

// i8Rows4NoDot computes what i8Rows4 does without FEAT_DotProd: SMULL and
// SMLAL2 put two products (|w*q| <= 254) in each int16 lane and SADALP adds
// lane pairs into int32, so nothing can overflow.
//
//go:noescape
func i8Rows4NoDot(w *byte, q *int8, nchunk int, tab *[16]byte, out *[4]int32)

// absMax16 returns max |x[i]| for i < 16*n (n >= 1): FABS, FMAX, FMAXV.
//
//go:noescape
func absMax16(x *float32, n int) float32

// quant16 sets, for i < 16*n (n >= 1),
//
//	q[i] = int8(roundHalfEven(float32(x[i] * s)))
//
// with FMUL and FCVTNS; the caller guarantees |x[i]*s| < 127.5.
//
//go:noescape
func quant16(x *float32, n int, s float32, q *int8)
