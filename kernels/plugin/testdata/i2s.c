/*
 * i2s.c: c-i2s-i8's own C code (kernels/cgo/i2s.c) as a plugin,
 * plugin-i2s-i8, to measure what the plugin ABI costs against the same code
 * called through cgo. Built with kernels/cgo/i2s.c by `make plugin-i2s` and
 * by the tests (x86-64 only). It does what kernels/cgo/cgo.go does around
 * the C functions: repack W into the I2_S layout (PackI2S), build the two
 * VPSHUFB tables of the codebook, quantize x with sum(q), four rows a pass.
 * W and q are 64-byte aligned, as the Go heap aligns the cgo kernel's
 * buffers of these sizes (malloc's 16-byte alignment would split every
 * other 32-byte load across two cache lines).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i2s.h"
#include "qkbench_kernel.h"

struct prepared {
	int64_t rows, cols, stride, nblk;
	float scale;
	uint8_t *w;
	uint8_t t0[32], t1[32];
};

/* zalloc64 returns n zeroed bytes aligned to 64, or NULL. */
static void *zalloc64(size_t n) {
	void *p = NULL;
	if (posix_memalign(&p, 64, n ? n : 1) != 0) return NULL;
	memset(p, 0, n);
	return p;
}

struct input {
	const struct prepared *p;
	int8_t *q; /* nblk * 128, zero past cols */
	int32_t sumq;
	float inv;
};

static int available(char *why, size_t n) {
	if (__builtin_cpu_supports("avx2")) return 0;
	snprintf(why, n, "CPU lacks AVX2");
	return 1;
}

static void *prepare(const struct qkbench_matrix *m, char *err, size_t n) {
	struct prepared *p = calloc(1, sizeof *p);
	if (!p) goto oom;
	p->rows = m->rows;
	p->cols = m->cols;
	p->scale = m->scale;
	p->nblk = (m->cols + 127) / 128;
	p->stride = p->nblk * 32;
	p->w = zalloc64((size_t)(p->rows * p->stride)); /* padding codes 0, met by q = 0 */
	if (!p->w) goto oom;
	for (int64_t r = 0; r < m->rows; r++) {
		const uint8_t *row = m->qs + r * m->row_stride;
		uint8_t *dst = p->w + r * p->stride;
		for (int64_t c = 0; c < m->cols; c++) {
			uint8_t code = (row[c >> 2] >> (2 * (c & 3))) & 3;
			int64_t b = c / 128, j = c % 128;
			dst[b * 32 + j % 32] |= code << (6 - 2 * (j / 32));
		}
	}
	for (int i = 0; i < 32; i++) {
		p->t0[i] = (uint8_t)(m->codebook[(i >> 2) & 3] + 2);
		p->t1[i] = (uint8_t)(m->codebook[i & 3] + 2);
	}
	return p;
oom:
	snprintf(err, n, "out of memory");
	if (p) free(p->w);
	free(p);
	return NULL;
}

static void *new_input(void *prepared) {
	const struct prepared *p = prepared;
	struct input *in = calloc(1, sizeof *in);
	if (!in || !(in->q = zalloc64((size_t)(p->nblk * 128)))) {
		free(in);
		return NULL;
	}
	in->p = p;
	return in;
}

static int load(void *input, const float *x, int64_t n, char *err, size_t en) {
	struct input *in = input;
	(void)err;
	(void)en;
	float s = qk_i2s_quantize_avx2(x, n, in->q, in->p->nblk * 128, &in->sumq);
	in->inv = in->p->scale / s;
	return 0;
}

static int gemv(void *input, float *y, int64_t r0, int64_t r1) {
	const struct input *in = input;
	const struct prepared *p = in->p;
	qk_i2s_gemv_avx2(p->w + r0 * p->stride, p->stride, p->nblk, in->q, p->t0, p->t1, in->sumq, in->inv,
	                 y + r0, r1 - r0, 1);
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

static const struct qkbench_kernel i2s = {
	.abi_version = QKBENCH_ABI_VERSION,
	.id = "plugin-i2s-i8",
	.mode = "i8",
	.isa = "c/avx2",
	.code = "c-i2s-i8's C code (kernels/cgo/i2s.c, gcc -O3) built as a plugin: same layout, quantizer and 4-row loop",
	.available = available,
	.prepare = prepare,
	.new_input = new_input,
	.load = load,
	.gemv = gemv,
	.free_input = free_input,
	.free_prepared = free_prepared,
};

static const struct qkbench_kernel *const list[] = {&i2s, NULL};

const struct qkbench_kernel *const *qkbench_kernels(void) { return list; }
