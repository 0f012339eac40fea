/*
 * qkbench_kernel.h: the C ABI of qkbench kernel plugins, version 1.
 *
 * A plugin is a shared library (.so) that exports one function,
 * qkbench_kernels(), returning a NULL-terminated list of kernels. qkbench
 * loads it with `--plugin LIB.so` (list, check, sweep, profile) or
 * QKBENCH_PLUGINS=a.so:b.so (go test -bench ./bench/), checks each kernel
 * against its references and the conformance suite, and times it beside the
 * kernels built into qkbench. See docs/kernels.md.
 *
 * The computation (the same for every qkbench kernel):
 *
 *   W is rows x cols 2-bit codes; w(r, c) = scale * codebook[code(r, c)].
 *   Row r is row_stride bytes at qs + r * row_stride, row_stride =
 *   ceil(cols / 256) * 64. Byte k of a row holds the codes of columns 4k,
 *   4k+1, 4k+2, 4k+3 in bits [1:0], [3:2], [5:4], [7:6] ("seq" packing).
 *   Codes past cols in a row's last byte and block are padding: they may
 *   hold anything and must not change the result.
 *
 *   y[r] = scale * sum_{c < cols} codebook[code(r, c)] * x[c]
 *
 *   "f32" kernels use x as given; every row must be within 1e-4 of the
 *   row's sum of |codebook[code] * x[c]| (times |scale|) of the exact value.
 *   "i8" kernels quantize x per tensor and must match qkbench's ref-i8 bit
 *   for bit:
 *     amax = max_c |x[c]|;  s = 127 / max(amax, 1e-5)         (float)
 *     q[c] = clamp(round_half_even((float)(x[c] * s)), -127, 127)
 *     isum[r] = sum_c codebook[code(r, c)] * q[c]             (exact integer)
 *     y[r] = (float)isum[r] * (scale / s)                     (float)
 *   "peer" kernels compute with their own numerics (another project's
 *   kernel); they must reach cosine >= 0.99 against the exact result.
 *
 * Memory and threads:
 *
 *   - Every pointer qkbench passes in (the matrix, x, y, err buffers) is
 *     valid only during the call, except qs: the codes stay valid and
 *     unchanged until free_prepared of the prepared matrix made from them.
 *   - qkbench never passes NULL for x, y or a buffer; n, en and the row
 *     ranges are checked before a call (0 <= r0 <= r1 <= rows, n == cols).
 *   - A prepared matrix is read-only after prepare: several inputs made
 *     from it may be used from several threads at once. gemv on one input
 *     may run concurrently on disjoint row ranges; load never runs
 *     concurrently with gemv on the same input.
 *   - The error and reason buffers (why, err) hold n bytes; write a
 *     NUL-terminated message that fits (snprintf).
 *   - A kernel never reads x past n values and never writes y outside
 *     [r0, r1): the conformance suite places these buffers against
 *     unmapped pages. It never reads qs past rows * row_stride bytes: qkbench
 *     hands the codes to the plugin in memory that ends at an unmapped page.
 *
 * Codebooks: f32 and i8 kernels compute with any codebook (four integers in
 * [-2, 2]). A peer that runs only some codebooks refuses the others in
 * prepare (return NULL with the reason in err); qkbench learns which
 * codebooks a kernel takes by preparing a 1 x 256 matrix of each.
 *
 * Compatibility: the names and meanings below are fixed for version 1.
 * Later versions only add fields at the end of struct qkbench_kernel; a
 * plugin says which version it was written for in abi_version, and qkbench
 * reads a field only when abi_version is at least the version that added
 * it. qkbench refuses a kernel whose abi_version it does not know.
 *
 * This header has no dependencies beyond the C standard library; C++ and
 * Rust (#[no_mangle] extern "C", #[repr(C)]) plugins declare the same layout.
 */
#ifndef QKBENCH_KERNEL_H
#define QKBENCH_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QKBENCH_ABI_VERSION 1

/* A QK256 matrix as qkbench holds it (see above). */
struct qkbench_matrix {
	const uint8_t *qs;      /* rows * row_stride bytes, seq packing */
	int64_t rows, cols, row_stride;
	int8_t codebook[4];     /* code -> integer weight, each in [-2, 2] */
	float scale;            /* per-tensor scale */
};

/* One kernel. Every field must be set; no function pointer may be NULL. */
struct qkbench_kernel {
	uint32_t abi_version;   /* QKBENCH_ABI_VERSION */
	const char *id;         /* "<impl>-<mode>", unique: a-z, 0-9, '-', '_', not ending in -<digits> */
	const char *mode;       /* "f32", "i8" (bit-exact with ref-i8) or "peer" (cosine) */
	const char *isa, *code; /* for the receipt: instruction set; what computes the result */

	/* 0: the kernel can run in this process. Otherwise write why not
	   ("CPU lacks AVX2") into why; qkbench lists it as unavailable and
	   never runs it. Called once, when the library is loaded. */
	int (*available)(char *why, size_t n);

	/* Brings m into the kernel's own layout (a repack is fine; its time is
	   reported apart from GEMV time). Returns an opaque prepared matrix, or
	   NULL with a message in err. */
	void *(*prepare)(const struct qkbench_matrix *m, char *err, size_t n);

	/* Returns the buffers for one activation vector at a time (quantized x,
	   tables), or NULL when out of memory. */
	void *(*new_input)(void *prepared);

	/* Takes x (n == cols floats): the per-x work (quantization, tables).
	   It counts as GEMV time. Returns 0, or nonzero with a message in err. */
	int (*load)(void *input, const float *x, int64_t n, char *err, size_t en);

	/* y[r] for r0 <= r < r1 from the x of the last load; y has rows floats
	   and nothing outside [r0, r1) may be written. Disjoint ranges may run
	   concurrently. Returns 0, or nonzero on failure. */
	int (*gemv)(void *input, float *y, int64_t r0, int64_t r1);

	void (*free_input)(void *input);
	void (*free_prepared)(void *prepared); /* after every input made from it is freed */
};

/* The one exported symbol: a NULL-terminated list of kernels, valid for
   the life of the process. */
const struct qkbench_kernel *const *qkbench_kernels(void);

#ifdef __cplusplus
}
#endif

#endif /* QKBENCH_KERNEL_H */
