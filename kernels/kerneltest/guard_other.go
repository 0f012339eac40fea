//go:build !linux

package kerneltest

import (
	"fmt"
	"runtime"
)

// guarded is only implemented on Linux; the guardpage part is skipped elsewhere.
func guarded(n int, before bool) ([]byte, func(), error) {
	return nil, nil, fmt.Errorf("guard pages are only set up on linux, not %s", runtime.GOOS)
}
