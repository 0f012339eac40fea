//go:build !linux

package probe

const threadClockName = "wall time"

// threadClock is not available: single-thread samples use wall time.
func threadClock() (int64, bool) { return 0, false }
