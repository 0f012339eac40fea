//go:build cgo && linux && amd64 && !purego

// I2_S GEMV in C, written for qkbench after bitnet.cpp's published I2_S
// algorithm (128-weight blocks, VPSHUFB codebook, VPMADDUBSW), with int16
// partial sums widened before they can overflow.

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "i2s.h"

// quant1 is docs/format.md §2 for one value: round half to even (rintf in the default
// rounding mode) of the float32 product, clamped to [-127, 127].
static inline int8_t quant1(float v, float s) {
	float r = rintf(v * s);
	if (r > 127.0f) r = 127.0f;
	if (r < -127.0f) r = -127.0f;
	return (int8_t)r;
}

static inline float scale_of(float amax) { return 127.0f / (amax > 1e-5f ? amax : 1e-5f); }

float qk_i2s_quantize_c(const float *x, int64_t n, int8_t *q, int64_t npad, int32_t *sumq) {
	float amax = 0.0f;
	for (int64_t i = 0; i < n; i++) {
		float a = fabsf(x[i]);
		if (a > amax) amax = a;
	}
	float s = scale_of(amax);
	int32_t sum = 0;
	for (int64_t i = 0; i < n; i++) {
		q[i] = quant1(x[i], s);
		sum += q[i];
	}
	if (npad > n) memset(q + n, 0, (size_t)(npad - n));
	*sumq = sum;
	return s;
}

__attribute__((target("avx2,fma")))
float qk_i2s_quantize_avx2(const float *x, int64_t n, int8_t *q, int64_t npad, int32_t *sumq) {
	const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	__m256 m0 = _mm256_setzero_ps(), m1 = _mm256_setzero_ps();
	int64_t i = 0;
	for (; i + 16 <= n; i += 16) {
		m0 = _mm256_max_ps(m0, _mm256_and_ps(_mm256_loadu_ps(x + i), absmask));
		m1 = _mm256_max_ps(m1, _mm256_and_ps(_mm256_loadu_ps(x + i + 8), absmask));
	}
	m0 = _mm256_max_ps(m0, m1);
	__m128 h = _mm_max_ps(_mm256_castps256_ps128(m0), _mm256_extractf128_ps(m0, 1));
	h = _mm_max_ps(h, _mm_movehl_ps(h, h));
	h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
	float amax = _mm_cvtss_f32(h);
	for (; i < n; i++) {
		float a = fabsf(x[i]);
		if (a > amax) amax = a;
	}
	float s = scale_of(amax);

	const __m256 vs = _mm256_set1_ps(s);
	const __m256 hi = _mm256_set1_ps(127.0f), lo = _mm256_set1_ps(-127.0f);
	const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
	__m256i vsum = _mm256_setzero_si256();
	i = 0;
	for (; i + 32 <= n; i += 32) {
		__m256i v[4];
		for (int k = 0; k < 4; k++) {
			__m256 p = _mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * k), vs);
			p = _mm256_round_ps(p, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
			p = _mm256_min_ps(_mm256_max_ps(p, lo), hi);
			v[k] = _mm256_cvtps_epi32(p);
			vsum = _mm256_add_epi32(vsum, v[k]);
		}
		__m256i ab = _mm256_packs_epi32(v[0], v[1]);
		__m256i cd = _mm256_packs_epi32(v[2], v[3]);
		__m256i b = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ab, cd), order);
		_mm256_storeu_si256((__m256i *)(q + i), b);
	}
	__m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(vsum), _mm256_extracti128_si256(vsum, 1));
	s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
	s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
	int32_t sum = _mm_cvtsi128_si32(s4);
	for (; i < n; i++) {
		q[i] = quant1(x[i], s);
		sum += q[i];
	}
	if (npad > n) memset(q + n, 0, (size_t)(npad - n));
	*sumq = sum;
	return s;
}

// WIDEN is how many 128-weight blocks the int16 accumulators take before they
// are widened to int32: a block adds four VPMADDUBSW lanes of at most
// 2*4*127 = 1016 each, so 8 blocks reach 32512 <= 32767.
#define WIDEN 8

__attribute__((target("avx2,fma"), always_inline))
static inline int32_t hsum32(__m256i v) {
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
	return _mm_cvtsi128_si32(s);
}

// block_sum returns the int16 sums of (cb+2)*q over one 128-weight block.
__attribute__((target("avx2,fma"), always_inline))
static inline __m256i block_sum(const uint8_t *wb, __m256i t0, __m256i t1, __m256i m4,
                                __m256i q0, __m256i q1, __m256i q2, __m256i q3) {
	__m256i v = _mm256_loadu_si256((const __m256i *)wb);
	__m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4); // codes of j (bits 3:2), j+32 (1:0)
	__m256i lo = _mm256_and_si256(v, m4);                        // codes of j+64 (3:2), j+96 (1:0)
	__m256i p0 = _mm256_maddubs_epi16(_mm256_shuffle_epi8(t0, hi), q0);
	__m256i p1 = _mm256_maddubs_epi16(_mm256_shuffle_epi8(t1, hi), q1);
	__m256i p2 = _mm256_maddubs_epi16(_mm256_shuffle_epi8(t0, lo), q2);
	__m256i p3 = _mm256_maddubs_epi16(_mm256_shuffle_epi8(t1, lo), q3);
	return _mm256_add_epi16(_mm256_add_epi16(p0, p1), _mm256_add_epi16(p2, p3));
}

// rows4 computes four rows sharing each load of q.
// The row loops and entry points are aligned to 64 bytes, so their speed
// does not move with where the linker puts them (see plain.c).
__attribute__((target("avx2,fma"), aligned(64)))
static void rows4(const uint8_t *w, int64_t stride, int64_t nblk, const int8_t *q,
                  __m256i t0, __m256i t1, int32_t out[4]) {
	const __m256i m4 = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
	const uint8_t *w0 = w, *w1 = w + stride, *w2 = w + 2 * stride, *w3 = w + 3 * stride;
	__m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
	for (int64_t b = 0; b < nblk;) {
		int64_t e = b + WIDEN < nblk ? b + WIDEN : nblk;
		__m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
		for (; b < e; b++) {
			const int8_t *qb = q + b * 128;
			__m256i q0 = _mm256_loadu_si256((const __m256i *)qb);
			__m256i q1 = _mm256_loadu_si256((const __m256i *)(qb + 32));
			__m256i q2 = _mm256_loadu_si256((const __m256i *)(qb + 64));
			__m256i q3 = _mm256_loadu_si256((const __m256i *)(qb + 96));
			a0 = _mm256_add_epi16(a0, block_sum(w0 + b * 32, t0, t1, m4, q0, q1, q2, q3));
			a1 = _mm256_add_epi16(a1, block_sum(w1 + b * 32, t0, t1, m4, q0, q1, q2, q3));
			a2 = _mm256_add_epi16(a2, block_sum(w2 + b * 32, t0, t1, m4, q0, q1, q2, q3));
			a3 = _mm256_add_epi16(a3, block_sum(w3 + b * 32, t0, t1, m4, q0, q1, q2, q3));
		}
		s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(a0, ones));
		s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(a1, ones));
		s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(a2, ones));
		s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(a3, ones));
	}
	out[0] = hsum32(s0);
	out[1] = hsum32(s1);
	out[2] = hsum32(s2);
	out[3] = hsum32(s3);
}

__attribute__((target("avx2,fma"), aligned(64)))
static int32_t row1(const uint8_t *w, int64_t nblk, const int8_t *q, __m256i t0, __m256i t1) {
	const __m256i m4 = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
	__m256i s = _mm256_setzero_si256();
	for (int64_t b = 0; b < nblk;) {
		int64_t e = b + WIDEN < nblk ? b + WIDEN : nblk;
		__m256i a = _mm256_setzero_si256();
		for (; b < e; b++) {
			const int8_t *qb = q + b * 128;
			a = _mm256_add_epi16(a, block_sum(w + b * 32, t0, t1, m4,
			                                  _mm256_loadu_si256((const __m256i *)qb),
			                                  _mm256_loadu_si256((const __m256i *)(qb + 32)),
			                                  _mm256_loadu_si256((const __m256i *)(qb + 64)),
			                                  _mm256_loadu_si256((const __m256i *)(qb + 96))));
		}
		s = _mm256_add_epi32(s, _mm256_madd_epi16(a, ones));
	}
	return hsum32(s);
}

__attribute__((target("avx2,fma"), aligned(64)))
void qk_i2s_gemv_avx2(const uint8_t *w, int64_t stride, int64_t nblk, const int8_t *q,
                      const uint8_t *t0p, const uint8_t *t1p, int32_t sumq, float inv,
                      float *y, int64_t nrows, int multirow) {
	const __m256i t0 = _mm256_loadu_si256((const __m256i *)t0p);
	const __m256i t1 = _mm256_loadu_si256((const __m256i *)t1p);
	// isum = sum((cb+2)*q) - 2*sum(q); |isum| < 2^31 because cols <= 2^22.
	const int32_t bias = 2 * sumq;
	int64_t r = 0;
	for (; multirow && r + 4 <= nrows; r += 4) {
		int32_t s[4];
		rows4(w + r * stride, stride, nblk, q, t0, t1, s);
		for (int k = 0; k < 4; k++) y[r + k] = (float)(s[k] - bias) * inv;
	}
	for (; r < nrows; r++) y[r] = (float)(row1(w + r * stride, nblk, q, t0, t1) - bias) * inv;
	_mm256_zeroupper();
}

__attribute__((aligned(64)))
void qk_i2s_gemv_c(const uint8_t *w, int64_t stride, int64_t nblk, const int8_t *q,
                   const int8_t *cb, float inv, float *y, int64_t nrows) {
	// Decode each block to 128 int8 weights, then a plain dot product that
	// the compiler can vectorize with the baseline instruction set.
	//
	// The codebook is read from a copy in this frame: read through cb (Go
	// memory), its 128 lookups a block came right after the stores to wt and
	// the spills, and where cb fell relative to this frame modulo 4 KiB
	// decided whether the loads waited on those stores (4K aliasing): 5-6%
	// slower at some placements, fixed for a whole process.
	const int8_t cbl[4] = {cb[0], cb[1], cb[2], cb[3]};
	int8_t wt[128];
	for (int64_t r = 0; r < nrows; r++) {
		const uint8_t *wr = w + r * stride;
		int32_t sum = 0;
		for (int64_t b = 0; b < nblk; b++) {
			const uint8_t *wb = wr + b * 32;
			const int8_t *qb = q + b * 128;
			for (int j = 0; j < 32; j++) {
				uint8_t v = wb[j];
				wt[j] = cbl[v >> 6];
				wt[j + 32] = cbl[(v >> 4) & 3];
				wt[j + 64] = cbl[(v >> 2) & 3];
				wt[j + 96] = cbl[v & 3];
			}
			int32_t s = 0;
			for (int i = 0; i < 128; i++) s += wt[i] * qb[i];
			sum += s;
		}
		y[r] = (float)sum * inv;
	}
}
