package machine

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// usableCPUs lists the CPUs this process may run on (its affinity mask).
func usableCPUs() []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return allCPUs()
	}
	var out []int
	for i := 0; len(out) < set.Count() && i < 1<<16; i++ {
		if set.IsSet(i) {
			out = append(out, i)
		}
	}
	if len(out) == 0 {
		return allCPUs()
	}
	return out
}

func allCPUs() []int {
	out := make([]int, runtime.NumCPU())
	for i := range out {
		out[i] = i
	}
	return out
}
