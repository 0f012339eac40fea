//go:build !linux

package machine

import "runtime"

// usableCPUs lists CPUs 0..NumCPU-1 (no affinity mask is read here).
func usableCPUs() []int {
	out := make([]int, runtime.NumCPU())
	for i := range out {
		out[i] = i
	}
	return out
}
