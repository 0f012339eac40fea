#ifndef QKBENCH_PLAIN_H
#define QKBENCH_PLAIN_H
#include <stdint.h>

/* The plain loop of docs/format.md §2, as a C programmer writes it first. */
void qk_plain_gemv_f32(const uint8_t *w, int64_t stride, int64_t cols, const int8_t *cb,
                       float scale, const float *x, float *y, int64_t rows);

#endif
