package kerneltest

import "github.com/qkbench/qkbench/kernels"

// Hooks for the external tests of this package.
var raceEnabledForTest = raceEnabled

// RaceEnabled reports whether the race detector is on.
func RaceEnabled() bool { return raceEnabledForTest }

// CheckFuzzInput runs the body of Fuzz on one input.
func CheckFuzzInput(k kernels.Kernel, rows uint8, cols uint16, cbBits uint32, scale float32, seed uint64, data []byte) []Failure {
	return fuzzCheck([]kernels.Kernel{k}, rows, cols, cbBits, scale, seed, data)
}
