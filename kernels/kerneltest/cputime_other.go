//go:build !linux

package kerneltest

func threadCPUNanos() int64 { return -1 }
