/*
 * example.c: a QK256 GEMV kernel in plain C, built as a qkbench plugin.
 *
 *   make                      # builds libqkbench-example.so
 *   qkbench check --plugin ./libqkbench-example.so
 *   qkbench sweep --plugin ./libqkbench-example.so --kernels example-c-i8,go-i8
 *
 * The kernel is in i8 mode: it quantizes x per tensor exactly as
 * include/qkbench_kernel.h says, so its y must match qkbench's ref-i8 bit
 * for bit. prepare unpacks the 2-bit codes into one int8 weight per column
 * (the codebook applied), and gemv is one integer dot product per row.
 * Everything but qkbench_kernels is static: the library exports one symbol.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "qkbench_kernel.h"

struct prepared {
	int64_t rows, cols;
	float scale;
	int8_t *w; /* rows * cols weights, codebook applied */
};

struct input {
	const struct prepared *p;
	int8_t *q;  /* cols quantized activations */
	float inv;  /* scale / s */
};

static int available(char *why, size_t n) {
	(void)why;
	(void)n;
	return 0; /* plain C runs everywhere */
}

static void *prepare(const struct qkbench_matrix *m, char *err, size_t n) {
	struct prepared *p = calloc(1, sizeof *p);
	size_t nw = (size_t)m->rows * (size_t)m->cols;
	if (!p || !(p->w = malloc(nw))) {
		snprintf(err, n, "out of memory for %zu weights", nw);
		free(p);
		return NULL;
	}
	p->rows = m->rows;
	p->cols = m->cols;
	p->scale = m->scale;
	for (int64_t r = 0; r < m->rows; r++) {
		const uint8_t *row = m->qs + r * m->row_stride;
		for (int64_t c = 0; c < m->cols; c++) {
			int code = (row[c >> 2] >> (2 * (c & 3))) & 3; /* seq packing */
			p->w[r * m->cols + c] = m->codebook[code];
		}
	}
	return p;
}

static void *new_input(void *prepared) {
	const struct prepared *p = prepared;
	struct input *in = calloc(1, sizeof *in);
	if (!in || !(in->q = malloc((size_t)p->cols))) {
		free(in);
		return NULL;
	}
	in->p = p;
	return in;
}

/* The per-tensor quantization of i8 mode: s = 127 / max(amax, 1e-5),
   q = clamp(round half to even (float)(x * s), -127, 127). rintf rounds
   half to even in the default rounding mode. */
static int load(void *input, const float *x, int64_t n, char *err, size_t en) {
	struct input *in = input;
	if (n != in->p->cols) {
		snprintf(err, en, "x has %lld values, want %lld", (long long)n, (long long)in->p->cols);
		return 1;
	}
	float amax = 0.0f;
	for (int64_t c = 0; c < n; c++)
		if (fabsf(x[c]) > amax) amax = fabsf(x[c]);
	float s = 127.0f / (amax > 1e-5f ? amax : 1e-5f);
	for (int64_t c = 0; c < n; c++) {
		float v = rintf(x[c] * s);
		in->q[c] = (int8_t)(v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v);
	}
	in->inv = in->p->scale / s;
	return 0;
}

/* y[r] for r in [r0, r1): an exact int32 sum (|sum| <= 2 * 127 * cols). */
static int gemv(void *input, float *y, int64_t r0, int64_t r1) {
	const struct input *in = input;
	const struct prepared *p = in->p;
	for (int64_t r = r0; r < r1; r++) {
		const int8_t *w = p->w + r * p->cols;
		int32_t sum = 0;
		for (int64_t c = 0; c < p->cols; c++)
			sum += w[c] * in->q[c];
		y[r] = (float)sum * in->inv;
	}
	return 0;
}

static void free_input(void *input) {
	struct input *in = input;
	free(in->q);
	free(in);
}

static void free_prepared(void *prepared) {
	struct prepared *p = prepared;
	free(p->w);
	free(p);
}

static const struct qkbench_kernel example = {
	.abi_version = QKBENCH_ABI_VERSION,
	.id = "example-c-i8",
	.mode = "i8",
	.isa = "c",
	.code = "examples/plugin-c: plain C, codes unpacked to one int8 weight per column at prepare, int32 dot product per row",
	.available = available,
	.prepare = prepare,
	.new_input = new_input,
	.load = load,
	.gemv = gemv,
	.free_input = free_input,
	.free_prepared = free_prepared,
};

static const struct qkbench_kernel *const list[] = {&example, NULL};

const struct qkbench_kernel *const *qkbench_kernels(void) { return list; }
