//go:build cgo && linux && amd64 && !purego

package cgo

/*
#cgo CFLAGS: -O3
#cgo LDFLAGS: -ldl -lm
#include <stdlib.h>
#include "i2s.h"
#include "ggml.h"
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/klauspost/cpuid/v2"

	"github.com/qkbench/qkbench/kernels/internal/dl"
)

func i2sAvailable(avx2 bool) error {
	if avx2 && !cpuid.CPU.Supports(cpuid.AVX2) {
		return fmt.Errorf("CPU %q lacks AVX2 (c-portable-i8 runs the same layout in plain C)", cpuid.CPU.BrandName)
	}
	return nil
}

// i2sQuantize quantizes x into q (len(q) >= len(x), the rest zeroed) in one
// cgo call, writes sum(q) to *sum and returns s.
func i2sQuantize(avx2 bool, x []float32, q []int8, sum *int32) float32 {
	// sum points into the caller's Input: a local passed to C would
	// escape, one allocation per Load.
	sp := (*C.int32_t)(unsafe.Pointer(sum))
	xp := (*C.float)(unsafe.Pointer(&x[0]))
	qp := (*C.int8_t)(unsafe.Pointer(&q[0]))
	var s C.float
	if avx2 {
		s = C.qk_i2s_quantize_avx2(xp, C.int64_t(len(x)), qp, C.int64_t(len(q)), sp)
	} else {
		s = C.qk_i2s_quantize_c(xp, C.int64_t(len(x)), qp, C.int64_t(len(q)), sp)
	}
	return float32(s)
}

// i2sGEMV computes y (rows r0 .. r0+len(y)) in one cgo call.
func i2sGEMV(p *i2sPrepared, in *i2sInput, y []float32, r0 int) { i2sGEMVRows(p, in, y, r0, true) }

// i2sGEMVRows is i2sGEMV with the AVX2 kernel's four-row blocking optional.
func i2sGEMVRows(p *i2sPrepared, in *i2sInput, y []float32, r0 int, multirow bool) {
	w := (*C.uint8_t)(unsafe.Pointer(&p.w[r0*p.stride]))
	q := (*C.int8_t)(unsafe.Pointer(&in.q[0]))
	yp := (*C.float)(unsafe.Pointer(&y[0]))
	if p.k.avx2 {
		C.qk_i2s_gemv_avx2(w, C.int64_t(p.stride), C.int64_t(p.nblk), q,
			(*C.uint8_t)(unsafe.Pointer(&p.t0[0])), (*C.uint8_t)(unsafe.Pointer(&p.t1[0])),
			C.int32_t(in.sumq), C.float(in.inv), yp, C.int64_t(len(y)), C.int(b2i(multirow)))
		return
	}
	C.qk_i2s_gemv_c(w, C.int64_t(p.stride), C.int64_t(p.nblk), q,
		(*C.int8_t)(unsafe.Pointer(&p.cb[0])), C.float(in.inv), yp, C.int64_t(len(y)))
}

// ggmlLib is a loaded pair of ggml libraries; it lives in C memory and is
// never unloaded.
type ggmlLib struct {
	c       *C.qk_ggml_lib
	variant string
	dir     string
	score   int
}

var ggmlLibs struct {
	sync.Mutex
	m map[string]ggmlResult
}

type ggmlResult struct {
	lib *ggmlLib
	err error
}

// ggmlOpen loads a variant once per process (success or failure is kept).
func ggmlOpen(variant string) (*ggmlLib, error) {
	ggmlLibs.Lock()
	defer ggmlLibs.Unlock()
	if r, ok := ggmlLibs.m[variant]; ok {
		return r.lib, r.err
	}
	if ggmlLibs.m == nil {
		ggmlLibs.m = map[string]ggmlResult{}
	}
	lib, err := ggmlLoad(variant)
	ggmlLibs.m[variant] = ggmlResult{lib, err}
	return lib, err
}

func ggmlLoad(variant string) (*ggmlLib, error) {
	base, cpu, err := ggmlLibPaths(variant)
	if err != nil {
		return nil, err
	}
	hbase, err := dl.Open(base)
	if err != nil {
		return nil, fmt.Errorf("ggml %s: %w", variant, err)
	}
	hcpu, err := dl.Open(cpu)
	if err != nil {
		return nil, fmt.Errorf("ggml %s: %w", variant, err)
	}
	cbase, ccpu := C.CString(base), C.CString(cpu)
	defer C.free(unsafe.Pointer(cbase))
	defer C.free(unsafe.Pointer(ccpu))
	l := (*C.qk_ggml_lib)(C.calloc(1, C.size_t(unsafe.Sizeof(C.qk_ggml_lib{}))))
	var msg [512]C.char
	if C.qk_ggml_open(hbase.Handle(), hcpu.Handle(), cbase, ccpu, l, &msg[0], C.size_t(len(msg))) != 0 {
		// The handles stay open: unloading a half-initialized ggml is riskier than a leak.
		return nil, fmt.Errorf("ggml %s: %s", variant, C.GoString(&msg[0]))
	}
	return &ggmlLib{c: l, variant: variant, score: int(l.score)}, nil
}

func ggmlQuantize(lib *ggmlLib, x []float32, xq []byte) {
	C.qk_ggml_quantize(lib.c, (*C.float)(unsafe.Pointer(&x[0])), unsafe.Pointer(&xq[0]), C.int64_t(len(x)))
}

func ggmlGEMV(p *ggmlPrepared, in *ggmlInput, y []float32, r0 int) {
	rowBytes := p.nb * TQ2BlockBytes
	C.qk_ggml_gemv(p.lib.c, (*C.uint8_t)(unsafe.Pointer(&p.w[r0*rowBytes])), C.size_t(rowBytes),
		unsafe.Pointer(&in.xq[0]), C.int(p.nb*TQ2BlockCols), C.float(p.m.Scale),
		(*C.float)(unsafe.Pointer(&y[0])), C.int64_t(len(y)))
}

// ggmlTQ2Ref runs the library's quantize_row_tq2_0_ref on x (len % 256 == 0).
func ggmlTQ2Ref(lib *ggmlLib, x []float32) []byte {
	out := make([]byte, len(x)/TQ2BlockCols*TQ2BlockBytes)
	C.qk_ggml_tq2ref(lib.c, (*C.float)(unsafe.Pointer(&x[0])), unsafe.Pointer(&out[0]), C.int64_t(len(x)))
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
