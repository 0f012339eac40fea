// Package amd64 will hold the Go assembly kernels for x86-64 (avx2-f32,
// avx2-i8, avx512vnni-i8, avx512lut-i8), generated with avo from _gen and
// registered as unavailable where the CPU or build lacks them.
package amd64
