//go:build !linux

package bench

func machineCPU() (busy, total float64, ok bool) { return 0, 0, false }

// ProcessCPU is not available here: -1.
func ProcessCPU() float64 { return -1 }
