// Symbols of llama.cpp's prebuilt ggml CPU backends (opened by kernels/internal/dl) and the loops
// qkbench runs through them. The struct and function types below are this
// project's own declarations of the layouts in ggml's public headers
// (ggml.h, ggml-cpu.h); qk_ggml_open checks them against the library.
#ifndef QK_GGML_H
#define QK_GGML_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	void *base, *cpu; // dlopen handles
	// vec_dot(n, &s, bs, x, bx, y, by, nrc): s = dot of n weights in x (TQ2_0)
	// and n activations in y (Q8_K); nrc = 1.
	void (*dot)(int, float *, size_t, const void *, size_t, const void *, size_t, int);
	// q8k(x, y, k): quantize k floats (k % 256 == 0) to Q8_K blocks.
	void (*q8k)(const float *, void *, int64_t);
	// tq2ref(x, y, k): the library's reference TQ2_0 quantizer, for tests.
	void (*tq2ref)(const float *, void *, int64_t);
	int score; // ggml_backend_score of the CPU variant
} qk_ggml_lib;

// qk_ggml_open looks up what qkbench needs in both libraries (dlopen
// handles; the paths are for messages) and fills lib; on failure it returns
// nonzero and writes a message into err.
int qk_ggml_open(void *base, void *cpu, const char *base_path, const char *cpu_path, qk_ggml_lib *lib, char *err, size_t errlen);

// qk_ggml_gemv: y[r] = scale * vec_dot(n, w + r*rowbytes, xq) for r in [0, nrows).
void qk_ggml_gemv(const qk_ggml_lib *lib, const uint8_t *w, size_t rowbytes, const void *xq, int n,
                  float scale, float *y, int64_t nrows);

void qk_ggml_quantize(const qk_ggml_lib *lib, const float *x, void *xq, int64_t n);
void qk_ggml_tq2ref(const qk_ggml_lib *lib, const float *x, void *out, int64_t n);

#endif
