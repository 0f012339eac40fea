// Package gguf will read and write GGUF v2/v3 files and decode I2_S (every
// flavor of SPEC §4), TQ2_0, F32 and F16 tensors into QK256 matrices.
package gguf
