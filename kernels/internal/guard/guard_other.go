//go:build !linux

package guard

import (
	"fmt"
	"runtime"
)

// Alloc is only implemented on Linux; elsewhere it says so.
func Alloc(n int, at Edge) ([]byte, func(), error) {
	return nil, nil, fmt.Errorf("guard pages are only set up on linux, not %s", runtime.GOOS)
}
