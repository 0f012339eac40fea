//go:build !linux

package amd64

func threadCPUNanos() int64 { return -1 }
