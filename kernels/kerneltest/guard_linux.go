//go:build linux

package kerneltest

import (
	"fmt"
	"os"
	"syscall"
)

// guarded maps n bytes between two PROT_NONE pages: right after the first
// (before=true, so that an under-read faults) or ending exactly at the second
// (before=false, so that an over-read faults). free unmaps it.
func guarded(n int, before bool) (b []byte, free func(), err error) {
	ps := os.Getpagesize()
	pages := (n + ps - 1) / ps
	if pages == 0 {
		pages = 1
	}
	total := (pages + 2) * ps
	mem, err := syscall.Mmap(-1, 0, total, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, fmt.Errorf("mmap %d bytes: %w", total, err)
	}
	free = func() { _ = syscall.Munmap(mem) }
	if err := syscall.Mprotect(mem[:ps], syscall.PROT_NONE); err != nil {
		free()
		return nil, nil, fmt.Errorf("mprotect: %w", err)
	}
	if err := syscall.Mprotect(mem[total-ps:], syscall.PROT_NONE); err != nil {
		free()
		return nil, nil, fmt.Errorf("mprotect: %w", err)
	}
	if before {
		return mem[ps : ps+n : ps+n], free, nil
	}
	end := total - ps
	return mem[end-n : end : end], free, nil
}
