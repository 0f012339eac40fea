//go:build linux

package bench

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// ProcessCPU returns the CPU time all threads of this process have used, in
// seconds, or -1 when the system cannot say.
func ProcessCPU() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return -1
	}
	return float64(ts.Nano()) / 1e9
}

// machineCPU returns the seconds all CPUs of the machine spent busy (not
// idle or waiting for I/O) and in all since boot, from /proc/stat.
func machineCPU() (busy, total float64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 5 || string(f[0]) != "cpu" {
		return 0, 0, false
	}
	for i, v := range f[1:] {
		if i >= 8 { // guest time is already counted in user time
			break
		}
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += float64(n)
		if i != 3 && i != 4 { // idle, iowait
			busy += float64(n)
		}
	}
	const hz = 100 // USER_HZ, the unit of /proc/stat on Linux
	return busy / hz, total / hz, true
}
