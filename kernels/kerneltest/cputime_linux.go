//go:build linux

package kerneltest

import (
	"syscall"
	"unsafe"
)

// threadCPUNanos returns the CPU time the calling OS thread has used
// (CLOCK_THREAD_CPUTIME_ID), or -1. On a shared machine it leaves out the
// time the benchmark was not scheduled, which wall-clock ns/op includes.
func threadCPUNanos() int64 {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	_, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	if e != 0 {
		return -1
	}
	return ts.Nano()
}
