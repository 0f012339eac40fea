// ggmltime: an independent timing of llama.cpp's TQ2_0 · Q8_K GEMV, to check
// qkbench's figure for the ggml-tq2_0-* peers. It shares no code with
// qkbench: it makes its own ternary weights, converts them with ggml's
// quantize_row_tq2_0_ref, quantizes x with the CPU backend's
// quantize_row_q8_K, and times a plain loop of ggml_vec_dot_tq2_0_q8_K over
// the rows (1 thread, the same weights every time, so they stay in cache).
//
// Build and run (from the repository root):
//   gcc -O2 -o /tmp/ggmltime kernels/cgo/testdata/ggmltime.c -ldl
//   /tmp/ggmltime peers/node-llama-cpp-linux-x64-3.22.1/bins/linux-x64 zen4 2048 4096 200
// Output: one line "rows cols variant: quant_us=<median> dot_us=<median> total_us=<median>".
// With REPS "-" it stays up after the setup and reads a rep count per line
// on stdin, answering each with such a line, so that a caller can pair its
// own samples with this program's in time.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXREPS 100000

typedef void (*vec_dot_fn)(int, float *, size_t, const void *, size_t, const void *, size_t, int);
typedef void (*quant_fn)(const float *, void *, int64_t);

static double now_us(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n) {
	qsort(v, n, sizeof *v, cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void *need(void *h, const char *name) {
	void *p = dlsym(h, name);
	if (!p) {
		fprintf(stderr, "ggmltime: %s: %s\n", name, dlerror());
		exit(1);
	}
	return p;
}

int main(int argc, char **argv) {
	if (argc != 6) {
		fprintf(stderr, "usage: ggmltime LIBDIR VARIANT ROWS COLS REPS\n");
		return 2;
	}
	const char *dir = argv[1], *variant = argv[2];
	int rows = atoi(argv[3]), cols = atoi(argv[4]), serve = strcmp(argv[5], "-") == 0;
	int reps = serve ? MAXREPS : atoi(argv[5]);
	if (rows <= 0 || cols <= 0 || cols % 256 != 0 || reps <= 0 || rows > 1 << 16 || cols > 1 << 20 || reps > MAXREPS) {
		fprintf(stderr, "ggmltime: want 0 < ROWS <= 65536, COLS a positive multiple of 256 up to 2^20, 0 < REPS <= %d or -\n", MAXREPS);
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/libggml-base.so", dir);
	void *base = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	snprintf(path, sizeof path, "%s/libggml-cpu-%s.so", dir, variant);
	void *cpu = base ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
	if (!cpu) {
		fprintf(stderr, "ggmltime: dlopen: %s\n", dlerror());
		return 1;
	}
	((void (*)(void))need(cpu, "ggml_cpu_init"))();
	quant_fn tq2 = (quant_fn)need(base, "quantize_row_tq2_0_ref");
	quant_fn q8k = (quant_fn)need(cpu, "quantize_row_q8_K");
	vec_dot_fn dot = (vec_dot_fn)need(cpu, "ggml_vec_dot_tq2_0_q8_K");

	size_t rowbytes = (size_t)cols / 256 * 66;
	uint8_t *w = malloc(rowbytes * rows);
	float *f = malloc(sizeof(float) * cols);
	float *x = malloc(sizeof(float) * cols);
	uint8_t *xq = malloc((size_t)cols / 256 * 292);
	float *y = malloc(sizeof(float) * rows);
	double *tq = malloc(sizeof(double) * reps), *td = malloc(sizeof(double) * reps), *tt = malloc(sizeof(double) * reps);
	if (!w || !f || !x || !xq || !y || !tq || !td || !tt) return 1;
	uint64_t s = 12345;
	for (int r = 0; r < rows; r++) {
		for (int c = 0; c < cols; c++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			f[c] = (float)((int)(s >> 62) % 3 - 1); // -1, 0, +1 (and 0 again for 3)
		}
		tq2(f, w + rowbytes * r, cols);
	}
	for (int c = 0; c < cols; c++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		x[c] = (float)((double)(s >> 11) / 9007199254740992.0 * 2 - 1);
	}
	char line[64];
	while (!serve || fgets(line, sizeof line, stdin)) {
		if (serve) {
			reps = atoi(line);
			if (reps <= 0 || reps > MAXREPS) {
				printf("error: want a rep count in 1..%d\n", MAXREPS);
				fflush(stdout);
				continue;
			}
		}
		double check = 0;
		for (int i = 0; i < reps; i++) {
			double t0 = now_us();
			q8k(x, xq, cols);
			double t1 = now_us();
			for (int r = 0; r < rows; r++) dot(cols, &y[r], 0, w + rowbytes * r, 0, xq, 0, 1);
			double t2 = now_us();
			tq[i] = t1 - t0;
			td[i] = t2 - t1;
			tt[i] = t2 - t0;
			check += y[i % rows];
		}
		printf("%d %d %s: quant_us=%.2f dot_us=%.2f total_us=%.2f (check %g)\n", rows, cols, variant,
		       median(tq, reps), median(td, reps), median(tt, reps), check);
		fflush(stdout);
		if (!serve) break;
	}
	return 0;
}
