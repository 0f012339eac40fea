//go:build linux

package gate

import "golang.org/x/sys/unix"

// processCPU returns the CPU time all threads of this process have used, in
// seconds, or -1 when the system cannot say.
func processCPU() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return -1
	}
	return float64(ts.Nano()) / 1e9
}
