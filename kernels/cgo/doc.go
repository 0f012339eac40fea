// Package cgo will hold the kernels reached through cgo: c-i2s-i8, a C kernel
// of this project following bitnet.cpp's I2_S algorithm, and llama.cpp's
// ggml TQ2_0 kernels loaded at run time as peers.
package cgo
