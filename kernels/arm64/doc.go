// Package arm64 will hold the NEON assembly kernels for arm64 (neon-f32,
// neondot-i8), tested under QEMU user emulation.
package arm64
