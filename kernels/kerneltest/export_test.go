package kerneltest

import "github.com/qkbench/qkbench/kernels"

// Hooks for the external tests of this package.
var raceEnabledForTest = raceEnabled

// GuardProbe maps and returns one guarded byte, or the reason guard pages are unavailable.
func GuardProbe() ([]byte, func(), error) { return guarded(1, false) }

// RaceEnabled reports whether the race detector is on.
func RaceEnabled() bool { return raceEnabledForTest }

// CheckFuzzInput runs the body of Fuzz on one input.
func CheckFuzzInput(k kernels.Kernel, rows uint8, cols uint16, cbBits uint32, scale float32, seed uint64, data []byte) []Failure {
	return fuzzCheck([]kernels.Kernel{k}, rows, cols, cbBits, scale, seed, data)
}
