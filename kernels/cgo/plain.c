//go:build cgo && linux && amd64 && !purego

// The baseline every fast kernel is measured against: docs/format.md §2's GEMV
// as the plain loop a C programmer writes first (one float accumulator per
// row, codes unpacked one at a time), compiled at -O2 as the issue states.
#include "plain.h"

// Aligned to 64 bytes so that where the linker puts it cannot move its loop
// across cache lines: at 16-byte alignment the same code took 8.3 or 5.5 ms
// at 2048x4096 depending on unrelated changes elsewhere in the binary.
__attribute__((optimize("O2"), aligned(64)))
void qk_plain_gemv_f32(const uint8_t *w, int64_t stride, int64_t cols, const int8_t *cb,
                       float scale, const float *x, float *y, int64_t rows) {
	for (int64_t r = 0; r < rows; r++) {
		const uint8_t *row = w + r * stride;
		float acc = 0.0f;
		for (int64_t c = 0; c < cols; c++) {
			int code = (row[c >> 2] >> (2 * (c & 3))) & 3;
			acc += (float)cb[code] * x[c];
		}
		y[r] = scale * acc;
	}
}
