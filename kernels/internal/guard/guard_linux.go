//go:build linux

package guard

import (
	"fmt"
	"os"
	"syscall"
)

// Alloc maps n bytes between two PROT_NONE pages, touching the one at edge
// at: right after the first (Start) or ending exactly at the second (End).
// The memory is zeroed and outside the Go heap; free unmaps it (once).
func Alloc(n int, at Edge) (b []byte, free func(), err error) {
	if n < 0 {
		return nil, nil, fmt.Errorf("guard: %d bytes", n)
	}
	ps := os.Getpagesize()
	pages := (n + ps - 1) / ps
	if pages == 0 {
		pages = 1
	}
	total := (pages + 2) * ps
	mem, err := syscall.Mmap(-1, 0, total, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, fmt.Errorf("guard: mmap %d bytes: %w", total, err)
	}
	free = func() { _ = syscall.Munmap(mem) }
	if err := syscall.Mprotect(mem[:ps], syscall.PROT_NONE); err != nil {
		free()
		return nil, nil, fmt.Errorf("guard: mprotect: %w", err)
	}
	if err := syscall.Mprotect(mem[total-ps:], syscall.PROT_NONE); err != nil {
		free()
		return nil, nil, fmt.Errorf("guard: mprotect: %w", err)
	}
	if at == Start {
		return mem[ps : ps+n : ps+n], free, nil
	}
	end := total - ps
	return mem[end-n : end : end], free, nil
}
