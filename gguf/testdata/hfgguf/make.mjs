// Writes GGUF fixtures with an independent writer, the npm package
// @huggingface/gguf (its serializeGgufMetadata), so that gguf's reader is
// tested on bytes it did not write. Regenerate with:
//
//   cd /tmp && npm install @huggingface/gguf@0.4.6 &&
//   NODE_PATH=/tmp/node_modules node gguf/testdata/hfgguf/make.mjs gguf/testdata/hfgguf
//
// (run from the repository root). The expected values live in
// gguf/independent_test.go; change both together.
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const require = createRequire(join(process.env.NODE_PATH || ".", "x.js"));
const { serializeGgufMetadata } = require("@huggingface/gguf");

const T = { U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, BOOL: 7, STR: 8, ARR: 9, U64: 10, I64: 11, F64: 12 };

function meta(version) {
  return {
    version: { value: version, type: T.U32 },
    tensor_count: { value: 0n, type: T.U64 },
    kv_count: { value: 0n, type: T.U64 },
    "general.architecture": { value: "bitnet", type: T.STR },
    "general.name": { value: "hf-gguf fixture ü", type: T.STR },
    "t.u8": { value: 200, type: T.U8 },
    "t.i8": { value: -100, type: T.I8 },
    "t.u16": { value: 60000, type: T.U16 },
    "t.i16": { value: -30000, type: T.I16 },
    "t.u32": { value: 4000000000, type: T.U32 },
    "t.i32": { value: -2000000000, type: T.I32 },
    "t.f32": { value: 1.5, type: T.F32 },
    "t.bool": { value: true, type: T.BOOL },
    "t.u64": { value: 18000000000000000000n, type: T.U64 },
    "t.i64": { value: -9000000000000000000n, type: T.I64 },
    "t.f64": { value: -2.25, type: T.F64 },
    "t.empty": { value: "", type: T.STR },
    "t.tokens": { value: ["<s>", "</s>", "hello", "wörld"], type: T.ARR, subType: T.STR },
    "t.scores": { value: [0.5, -1.25, 3], type: T.ARR, subType: T.F32 },
    "t.ids": { value: [1, 2, 3, 4, 5], type: T.ARR, subType: T.I32 },
    "t.flags": { value: [true, false], type: T.ARR, subType: T.BOOL },
    "t.none": { value: [], type: T.ARR, subType: T.U16 }, // (subType 0, uint8, is refused by the package)
    "bitnet.block_count": { value: 30, type: T.U32 },
  };
}

const dir = process.argv[2] || ".";
for (const v of [2, 3]) {
  writeFileSync(join(dir, `meta-v${v}.gguf`), serializeGgufMetadata(meta(v), { alignment: 32 }));
}
