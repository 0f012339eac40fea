//go:build !cgo || !linux || purego

package dl

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Available says why this build cannot load libraries.
var Available = fmt.Errorf("loading shared libraries needs cgo on linux without the purego tag (this build: %s/%s, cgo %v)",
	runtime.GOOS, runtime.GOARCH, cgoEnabled)

func open(string) (unsafe.Pointer, error)                { return nil, Available }
func sym(unsafe.Pointer, string) (unsafe.Pointer, error) { return nil, Available }
