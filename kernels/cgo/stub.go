//go:build !cgo || !linux || !amd64 || purego

package cgo

import (
	"fmt"
	"runtime"
)

// errNoCgo is why every kernel of this package is unavailable in this build.
var errNoCgo = fmt.Errorf("built without the cgo kernels (they need cgo on linux/amd64 without the purego tag; this is %s/%s, cgo %v)", runtime.GOOS, runtime.GOARCH, cgoEnabled)

func i2sAvailable(bool) error { return errNoCgo }

func i2sQuantize(bool, []float32, []int8, *int32) float32 { panic(errNoCgo) }

func i2sGEMV(*i2sPrepared, *i2sInput, []float32, int) { panic(errNoCgo) }

type ggmlLib struct{}

func ggmlOpen(string) (*ggmlLib, error) { return nil, errNoCgo }

func ggmlQuantize(*ggmlLib, []float32, []byte) { panic(errNoCgo) }

func ggmlGEMV(*ggmlPrepared, *ggmlInput, []float32, int) { panic(errNoCgo) }

func ggmlTQ2Ref(*ggmlLib, []float32) []byte { panic(errNoCgo) }

func plainAvailable() error { return errNoCgo }

func plainGEMV(*plainPrepared, []float32, []float32, int) { panic(errNoCgo) }
