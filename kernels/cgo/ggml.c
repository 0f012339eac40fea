//go:build cgo && linux && amd64 && !purego

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "ggml.h"

// ggml's enum ggml_type values used here.
enum { QK_TYPE_Q8_K = 15, QK_TYPE_TQ2_0 = 35 };

// Our declaration of ggml-cpu.h's struct ggml_type_traits_cpu.
struct qk_traits_cpu {
	void (*from_float)(const float *, void *, int64_t);
	void (*vec_dot)(int, float *, size_t, const void *, size_t, const void *, size_t, int);
	int vec_dot_type; // enum ggml_type
	int64_t nrows;
};

static int fail(char *err, size_t n, const char *what, const char *detail) {
	snprintf(err, n, "%s: %s", what, detail ? detail : "(no detail)");
	return 1;
}

static void *sym(void *h, const char *name) {
	dlerror();
	return dlsym(h, name);
}

int qk_ggml_open(void *base, void *cpu, const char *base_path, const char *cpu_path, qk_ggml_lib *lib, char *err, size_t errlen) {
	memset(lib, 0, sizeof *lib);
	lib->base = base;
	lib->cpu = cpu;

	int (*score)(void) = (int (*)(void))sym(lib->cpu, "ggml_backend_score");
	size_t (*type_size)(int) = (size_t (*)(int))sym(lib->base, "ggml_type_size");
	void (*cpu_init)(void) = (void (*)(void))sym(lib->cpu, "ggml_cpu_init");
	const struct qk_traits_cpu *(*traits)(int) = (const struct qk_traits_cpu *(*)(int))sym(lib->cpu, "ggml_get_type_traits_cpu");
	void *dot_sym = sym(lib->cpu, "ggml_vec_dot_tq2_0_q8_K");
	void *q8k_sym = sym(lib->cpu, "quantize_row_q8_K");
	lib->tq2ref = (void (*)(const float *, void *, int64_t))sym(lib->base, "quantize_row_tq2_0_ref");
	if (!score || !type_size || !cpu_init || !traits || !dot_sym || !q8k_sym || !lib->tq2ref)
		return fail(err, errlen, cpu_path, "missing one of ggml_backend_score, ggml_type_size, ggml_cpu_init, ggml_get_type_traits_cpu, ggml_vec_dot_tq2_0_q8_K, quantize_row_q8_K, quantize_row_tq2_0_ref");

	// The variant's own check of the CPU's features (0: cannot run here).
	lib->score = score();
	if (lib->score == 0) return fail(err, errlen, cpu_path, "ggml_backend_score is 0: this CPU lacks instructions the build needs");

	char buf[160];
	if (type_size(QK_TYPE_TQ2_0) != 66 || type_size(QK_TYPE_Q8_K) != 292) {
		snprintf(buf, sizeof buf, "ggml_type_size(TQ2_0)=%zu, (Q8_K)=%zu, want 66 and 292",
		         type_size(QK_TYPE_TQ2_0), type_size(QK_TYPE_Q8_K));
		return fail(err, errlen, base_path, buf);
	}
	cpu_init();
	const struct qk_traits_cpu *t = traits(QK_TYPE_TQ2_0);
	const struct qk_traits_cpu *tq = traits(QK_TYPE_Q8_K);
	// These checks prove our struct declaration matches the library's.
	if (!t || (void *)t->vec_dot != dot_sym || t->vec_dot_type != QK_TYPE_Q8_K || t->nrows != 1)
		return fail(err, errlen, cpu_path, "type traits of TQ2_0 do not match (want vec_dot = ggml_vec_dot_tq2_0_q8_K, vec_dot_type Q8_K, nrows 1): struct layout differs from this version");
	if (!tq || (void *)tq->from_float != q8k_sym)
		return fail(err, errlen, cpu_path, "type traits of Q8_K do not match (want from_float = quantize_row_q8_K)");
	lib->dot = t->vec_dot;
	lib->q8k = tq->from_float;
	return 0;
}

void qk_ggml_gemv(const qk_ggml_lib *lib, const uint8_t *w, size_t rowbytes, const void *xq, int n,
                  float scale, float *y, int64_t nrows) {
	for (int64_t r = 0; r < nrows; r++) {
		float s;
		lib->dot(n, &s, 0, w + (size_t)r * rowbytes, 0, xq, 0, 1);
		y[r] = s * scale;
	}
}

void qk_ggml_quantize(const qk_ggml_lib *lib, const float *x, void *xq, int64_t n) { lib->q8k(x, xq, n); }

void qk_ggml_tq2ref(const qk_ggml_lib *lib, const float *x, void *out, int64_t n) { lib->tq2ref(x, out, n); }
