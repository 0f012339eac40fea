// I2_S GEMV kernels of qkbench (c-i2s-i8, c-portable-i8): declarations shared
// by i2s.c and the Go bindings. Layout (per row, rows padded to whole blocks):
// ceil(cols/128) blocks of 32 bytes; byte j of a block holds the codes of
// weights j, j+32, j+64, j+96 in bits [7:6], [5:4], [3:2], [1:0].
#ifndef QK_I2S_H
#define QK_I2S_H

#include <stdint.h>

// qk_i2s_quantize_* quantize x[0..n) per tensor exactly as kernels.QuantizeI8
// into q[0..n), zero q[n..npad), store sum(q) in *sumq and return s.
float qk_i2s_quantize_avx2(const float *x, int64_t n, int8_t *q, int64_t npad, int32_t *sumq);
float qk_i2s_quantize_c(const float *x, int64_t n, int8_t *q, int64_t npad, int32_t *sumq);

// qk_i2s_gemv_avx2 computes, for r in [0, nrows):
//   isum = sum_{c < nblk*128} (cb[code(r,c)] + 2) * q[c] - 2*sumq
//   y[r] = (float)isum * inv
// from w (row r at w + r*stride, stride >= nblk*32) and two 32-byte tables:
// t0[i] = cb[(i>>2)&3] + 2 and t1[i] = cb[i&3] + 2 for i in 0..15, each
// repeated in both 16-byte halves. multirow != 0 runs four rows per pass
// (what c-i2s-i8 does); 0 runs one row at a time (bitnet.cpp's one-row
// path, for comparisons).
void qk_i2s_gemv_avx2(const uint8_t *w, int64_t stride, int64_t nblk, const int8_t *q,
                      const uint8_t *t0, const uint8_t *t1, int32_t sumq, float inv,
                      float *y, int64_t nrows, int multirow);

// qk_i2s_gemv_c is the same computation in portable C with cb itself:
//   y[r] = (float)(sum_c cb[code(r,c)] * q[c]) * inv
void qk_i2s_gemv_c(const uint8_t *w, int64_t stride, int64_t nblk, const int8_t *q,
                   const int8_t *cb, float inv, float *y, int64_t nrows);

#endif
