// Writes gguf/testdata/ggml/ggml-written.gguf with ggml's own GGUF writer
// (gguf_write_to_file in libggml-base.so, as shipped prebuilt in the npm
// package @node-llama-cpp/linux-x64@3.21.1), so that gguf's reader is tested
// on a file with tensors that it did not write. The declarations below are
// the few ggml/gguf entry points this program calls. Regenerate with (from
// the repository root):
//
//   cd /tmp && npm install --ignore-scripts @node-llama-cpp/linux-x64@3.21.1
//   L=/tmp/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
//   gcc -O1 -o /tmp/ggml-make gguf/testdata/ggml/make.c -L$L -lggml-base -Wl,-rpath,$L
//   /tmp/ggml-make gguf/testdata/ggml
//
// It writes two files: ggml-written.gguf (default alignment 32) and
// ggml-align64-bad.gguf, where general.alignment is set to 64 as a plain
// key: ggml's writer still lays tensors out at 32, so ggml's own reader
// (gguf_init_from_file) rejects that file ("tensor 'b.f16' has offset 32,
// expected 64") and so must ours.
//
// The expected values live in gguf/independent_test.go; change both together.
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct gguf_context;
struct ggml_context;
struct ggml_tensor;
struct ggml_init_params { size_t mem_size; void *mem_buffer; bool no_alloc; };

struct gguf_context *gguf_init_empty(void);
void gguf_set_val_u8(struct gguf_context *, const char *, uint8_t);
void gguf_set_val_i8(struct gguf_context *, const char *, int8_t);
void gguf_set_val_u16(struct gguf_context *, const char *, uint16_t);
void gguf_set_val_i16(struct gguf_context *, const char *, int16_t);
void gguf_set_val_u32(struct gguf_context *, const char *, uint32_t);
void gguf_set_val_i32(struct gguf_context *, const char *, int32_t);
void gguf_set_val_f32(struct gguf_context *, const char *, float);
void gguf_set_val_u64(struct gguf_context *, const char *, uint64_t);
void gguf_set_val_i64(struct gguf_context *, const char *, int64_t);
void gguf_set_val_f64(struct gguf_context *, const char *, double);
void gguf_set_val_bool(struct gguf_context *, const char *, bool);
void gguf_set_val_str(struct gguf_context *, const char *, const char *);
void gguf_set_arr_data(struct gguf_context *, const char *, int type, const void *, size_t);
void gguf_set_arr_str(struct gguf_context *, const char *, const char **, size_t);
void gguf_add_tensor(struct gguf_context *, const struct ggml_tensor *);
bool gguf_write_to_file(const struct gguf_context *, const char *, bool);
struct ggml_context *ggml_init(struct ggml_init_params);
struct ggml_tensor *ggml_new_tensor_2d(struct ggml_context *, int type, int64_t, int64_t);
void *ggml_get_data(const struct ggml_tensor *);
struct ggml_tensor *ggml_set_name(struct ggml_tensor *, const char *);
uint16_t ggml_fp32_to_fp16(float);

enum { T_F32 = 0, T_F16 = 1, T_Q8_0 = 8, T_TQ2_0 = 35 };
enum { G_INT32 = 5, G_FLOAT32 = 6 };

static int write(const char *path, bool align64) {
	struct gguf_context *g = gguf_init_empty();
	gguf_set_val_str(g, "general.architecture", "bitnet");
	if (align64) gguf_set_val_u32(g, "general.alignment", 64);
	gguf_set_val_u8(g, "t.u8", 200);
	gguf_set_val_i8(g, "t.i8", -100);
	gguf_set_val_u16(g, "t.u16", 60000);
	gguf_set_val_i16(g, "t.i16", -30000);
	gguf_set_val_u32(g, "t.u32", 4000000000u);
	gguf_set_val_i32(g, "t.i32", -2000000000);
	gguf_set_val_f32(g, "t.f32", 1.5f);
	gguf_set_val_u64(g, "t.u64", 18000000000000000000ull);
	gguf_set_val_i64(g, "t.i64", -9000000000000000000ll);
	gguf_set_val_f64(g, "t.f64", -2.25);
	gguf_set_val_bool(g, "t.bool", true);
	const char *toks[] = {"<s>", "</s>", "hello", "w\xc3\xb6rld"};
	gguf_set_arr_str(g, "t.tokens", toks, 4);
	int32_t ids[] = {1, -2, 3};
	gguf_set_arr_data(g, "t.ids", G_INT32, ids, 3);
	float sc[] = {0.5f, -1.25f};
	gguf_set_arr_data(g, "t.scores", G_FLOAT32, sc, 2);

	struct ggml_init_params p = {1 << 20, NULL, false};
	struct ggml_context *ctx = ggml_init(p);

	// a.f32: 2 rows x 3 cols, values 1..6 with a sign flip.
	struct ggml_tensor *a = ggml_new_tensor_2d(ctx, T_F32, 3, 2);
	ggml_set_name(a, "a.f32");
	float av[] = {1, 2, 3, -4, 5.5f, 6};
	memcpy(ggml_get_data(a), av, sizeof av);

	// b.f16: 1 row x 6, ggml's own fp32->fp16 of -2.5 .. 2.5 and 1/3.
	struct ggml_tensor *b = ggml_new_tensor_2d(ctx, T_F16, 6, 1);
	ggml_set_name(b, "b.f16");
	float bv[] = {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 1.0f / 3};
	uint16_t *bh = ggml_get_data(b);
	for (int i = 0; i < 6; i++) bh[i] = ggml_fp32_to_fp16(bv[i]);

	// c.q8_0: 64 weights, bytes 7*i mod 256.
	struct ggml_tensor *c = ggml_new_tensor_2d(ctx, T_Q8_0, 64, 1);
	ggml_set_name(c, "c.q8_0");
	uint8_t *cb = ggml_get_data(c);
	for (int i = 0; i < 68; i++) cb[i] = (uint8_t)(7 * i);

	// d.tq2_0: 2 rows x 256: code of weight e is (e*5/3)%4, placed per
	// docs/format.md §4; d = 0.5 in both blocks.
	struct ggml_tensor *d = ggml_new_tensor_2d(ctx, T_TQ2_0, 256, 2);
	ggml_set_name(d, "d.tq2_0");
	uint8_t *db = ggml_get_data(d);
	memset(db, 0, 132);
	for (int e = 0; e < 512; e++) {
		int code = (e * 5 / 3) % 4, blk = e / 256, j = e % 256, half = j / 128, jj = j % 128;
		db[blk * 66 + half * 32 + jj % 32] |= (uint8_t)(code << (2 * (jj / 32)));
	}
	for (int blk = 0; blk < 2; blk++) {
		uint16_t h = ggml_fp32_to_fp16(0.5f);
		memcpy(db + blk * 66 + 64, &h, 2);
	}

	gguf_add_tensor(g, a);
	gguf_add_tensor(g, b);
	gguf_add_tensor(g, c);
	gguf_add_tensor(g, d);
	if (!gguf_write_to_file(g, path, false)) {
		fprintf(stderr, "gguf_write_to_file %s failed\n", path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/ggml-written.gguf", argv[1]);
	if (write(path, false)) return 1;
	snprintf(path, sizeof path, "%s/ggml-align64-bad.gguf", argv[1]);
	return write(path, true);
}
