/*
 * flaws.c: plugins with one deliberate flaw each, for the loader's tests.
 * Each wraps the example kernel of examples/plugin-c (compiled alongside
 * with -Dqkbench_kernels=example_kernels) and is built with -DFLAW='"name"':
 *
 *   ok           the example kernel as is, id flaw-ok-i8
 *   abi          abi_version 99
 *   null-list    qkbench_kernels() returns NULL
 *   empty        the list holds no kernel
 *   dup          the same id twice
 *   dup-builtin  the id of a kernel built into qkbench (go-i8)
 *   null-fn      gemv is NULL
 *   null-str     mode is NULL
 *   bad-mode     mode "f16"
 *   bad-id       id "Bad Id"
 *   unavailable  available() says no
 *   ternary      a peer whose prepare refuses every codebook but ternary
 *   prepare      prepare refuses matrices of 5 rows
 *   load         load refuses x of 300 values
 *   gemv         gemv fails when r1 == 5
 *   crash        gemv writes through NULL when r1 == 3
 *   overread     prepare reads the byte after the matrix's last row
 *
 * Built with -Dqkbench_kernels=other instead, the library lacks the symbol.
 */
#include <stdio.h>
#include <string.h>

#include "qkbench_kernel.h"

const struct qkbench_kernel *const *example_kernels(void);

#define IS(name) (strcmp(FLAW, name) == 0)

static const struct qkbench_kernel *inner;
static struct qkbench_kernel k[2];
static const struct qkbench_kernel *list[3];

static int unavailable(char *why, size_t n) {
	snprintf(why, n, "needs a CPU that does not exist");
	return 1;
}

static void *prepare_flaw(const struct qkbench_matrix *m, char *err, size_t n) {
	static const int8_t ternary[4] = {-1, 0, 1, 0};
	if (IS("prepare") && m->rows == 5) {
		snprintf(err, n, "refuses %lld rows", (long long)m->rows);
		return NULL;
	}
	if (IS("overread")) {
		volatile uint8_t past = m->qs[m->rows * m->row_stride];
		(void)past;
	}
	if (IS("ternary") && memcmp(m->codebook, ternary, 4) != 0) {
		snprintf(err, n, "computes only the ternary codebook");
		return NULL;
	}
	return inner->prepare(m, err, n);
}

static int load_flaw(void *in, const float *x, int64_t n, char *err, size_t en) {
	if (n == 300) {
		snprintf(err, en, "refuses %lld columns", (long long)n);
		return 1;
	}
	return inner->load(in, x, n, err, en);
}

static int gemv_flaw(void *in, float *y, int64_t r0, int64_t r1) {
	if (IS("gemv") && r1 == 5) return 7;
	if (IS("crash") && r1 == 3) *(volatile float *)0 = 1.0f;
	return inner->gemv(in, y, r0, r1);
}

const struct qkbench_kernel *const *qkbench_kernels(void) {
	inner = example_kernels()[0];
	k[0] = *inner;
	k[0].id = "flaw-" FLAW "-i8";
	list[0] = &k[0];
	if (IS("abi")) k[0].abi_version = 99;
	if (IS("null-list")) return NULL;
	if (IS("empty")) list[0] = NULL;
	if (IS("dup")) k[1] = k[0], list[1] = &k[1];
	if (IS("dup-builtin")) k[0].id = "go-i8";
	if (IS("null-fn")) k[0].gemv = NULL;
	if (IS("null-str")) k[0].mode = NULL;
	if (IS("bad-mode")) k[0].mode = "f16";
	if (IS("bad-id")) k[0].id = "Bad Id";
	if (IS("unavailable")) k[0].available = unavailable;
	if (IS("ternary")) k[0].mode = "peer", k[0].prepare = prepare_flaw;
	if (IS("prepare") || IS("overread")) k[0].prepare = prepare_flaw;
	if (IS("load")) k[0].load = load_flaw;
	if (IS("gemv") || IS("crash")) k[0].gemv = gemv_flaw;
	return list;
}
