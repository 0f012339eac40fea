//go:build linux

package probe

import "golang.org/x/sys/unix"

// threadClock is "thread CPU time" on Linux: the calling OS thread's CPU
// time, so time spent descheduled (the machine is shared) is not counted.
// Callers lock the goroutine to its thread.
const threadClockName = "thread CPU time"

func threadClock() (int64, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, false
	}
	return ts.Nano(), true
}
