//go:build cgo && linux && amd64 && !purego

package cgo

/*
#cgo CFLAGS: -O3
#include "plain.h"
*/
import "C"

import "unsafe"

func plainAvailable() error { return nil }

// plainGEMV computes y (rows r0 .. r0+len(y)) in one cgo call.
func plainGEMV(p *plainPrepared, x, y []float32, r0 int) {
	s := p.m.Stride()
	C.qk_plain_gemv_f32((*C.uint8_t)(unsafe.Pointer(&p.m.Data[r0*s])), C.int64_t(s), C.int64_t(p.m.Cols),
		(*C.int8_t)(unsafe.Pointer(&p.cb[0])), C.float(p.m.Scale), (*C.float)(unsafe.Pointer(&x[0])),
		(*C.float)(unsafe.Pointer(&y[0])), C.int64_t(len(y)))
}
