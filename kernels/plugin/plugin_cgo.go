//go:build cgo && linux && !purego

package plugin

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#include <string.h>
#include "qkbench_kernel.h"

typedef const struct qkbench_kernel *const *(*qk_list_fn)(void);

static const struct qkbench_kernel *const *qk_list(void *f) { return ((qk_list_fn)f)(); }
static const struct qkbench_kernel *qk_at(const struct qkbench_kernel *const *l, int i) { return l[i]; }
static size_t qk_strnlen(const char *s, size_t max) { return strnlen(s, max); }

// Which function pointers are NULL, one bit each in the order of the struct.
static int qk_null_fns(const struct qkbench_kernel *k) {
	return (!k->available) | (!k->prepare) << 1 | (!k->new_input) << 2 | (!k->load) << 3 |
	       (!k->gemv) << 4 | (!k->free_input) << 5 | (!k->free_prepared) << 6;
}

// The calls, each with its message buffer cleared first.
static int qk_available(const struct qkbench_kernel *k, char *why, size_t n) { why[0] = 0; return k->available(why, n); }
static void *qk_prepare(const struct qkbench_kernel *k, const struct qkbench_matrix *m, char *err, size_t n) {
	err[0] = 0;
	return k->prepare(m, err, n);
}
static void *qk_new_input(const struct qkbench_kernel *k, void *p) { return k->new_input(p); }
static int qk_load(const struct qkbench_kernel *k, void *in, const float *x, int64_t n, char *err, size_t en) {
	err[0] = 0;
	return k->load(in, x, n, err, en);
}
static int qk_gemv(const struct qkbench_kernel *k, void *in, float *y, int64_t r0, int64_t r1) { return k->gemv(in, y, r0, r1); }
static void qk_free_input(const struct qkbench_kernel *k, void *in) { k->free_input(in); }
static void qk_free_prepared(const struct qkbench_kernel *k, void *p) { k->free_prepared(p); }
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/internal/dl"
	"github.com/qkbench/qkbench/kernels/internal/guard"
)

// fnNames are the function pointers of struct qkbench_kernel, in order.
var fnNames = []string{"available", "prepare", "new_input", "load", "gemv", "free_input", "free_prepared"}

// msgLen is the size of the message buffers handed to a plugin.
const msgLen = 512

type msgBuf [msgLen]C.char

func (b *msgBuf) ptr() *C.char { return &b[0] }

// String returns the message, or def when the plugin wrote none.
func (b *msgBuf) String(def string) string {
	b[msgLen-1] = 0
	if s := C.GoString(&b[0]); s != "" {
		return s
	}
	return def
}

// open loads the library, reads and checks its kernel list and returns the
// kernels, not yet registered.
func open(lib *kernels.Library) ([]kernels.Kernel, error) {
	h, err := dl.Open(lib.Path)
	if err != nil {
		return nil, &Error{Library: lib.Path, Err: err}
	}
	f, err := h.Sym("qkbench_kernels")
	if err != nil {
		return nil, &Error{Library: lib.Path, Err: fmt.Errorf("no qkbench_kernels function: not a qkbench plugin, or the symbol is not exported (extern \"C\" in C++, #[no_mangle] in Rust): %w", err)}
	}
	list := C.qk_list(f)
	if list == nil {
		return nil, &Error{Library: lib.Path, Err: errors.New("qkbench_kernels() returned NULL")}
	}
	var ds []desc
	var cs []*C.struct_qkbench_kernel
	for i := 0; ; i++ {
		if i == maxKernels {
			return nil, &Error{Library: lib.Path, Err: fmt.Errorf("qkbench_kernels() lists more than %d kernels (is the list NULL-terminated?)", maxKernels)}
		}
		c := C.qk_at(list, C.int(i))
		if c == nil {
			break
		}
		ds = append(ds, describe(c))
		cs = append(cs, (*C.struct_qkbench_kernel)(unsafe.Pointer(c)))
	}
	modes, err := check(lib.Path, ds)
	if err != nil {
		return nil, err
	}
	var ks []kernels.Kernel
	for i, d := range ds {
		k := &kernel{Base: kernels.Base{I: kernels.Info{
			ID: d.id, Backend: Backend, ISA: d.isa, Mode: modes[i], Code: d.code, Library: lib,
		}}, c: cs[i], supported: map[kernels.Codebook]error{}}
		var why msgBuf
		if C.qk_available(k.c, why.ptr(), msgLen) != 0 {
			k.avail = errors.New(why.String("available() returned nonzero without a reason"))
		}
		ks = append(ks, k)
	}
	return ks, nil
}

// describe reads one kernel's fields (only abi_version and id when the
// version is one this package does not know).
func describe(c *C.struct_qkbench_kernel) desc {
	d := desc{abi: uint32(c.abi_version)}
	str := func(name string, s *C.char) string {
		if s == nil {
			d.null = append(d.null, name)
			return ""
		}
		n := C.qk_strnlen(s, maxString)
		if n == maxString {
			d.long = append(d.long, name)
			return ""
		}
		return C.GoStringN(s, C.int(n))
	}
	if d.abi < 1 {
		return d
	}
	d.id = str("id", c.id)
	if d.abi != ABIVersion {
		return d
	}
	d.mode, d.isa, d.code = str("mode", c.mode), str("isa", c.isa), str("code", c.code)
	nulls := int(C.qk_null_fns(c))
	for i, name := range fnNames {
		if nulls&(1<<i) != 0 {
			d.null = append(d.null, name)
		}
	}
	return d
}

// kernel is one plugin kernel.
type kernel struct {
	kernels.Base
	c     *C.struct_qkbench_kernel
	avail error // from available(), asked once

	mu        sync.Mutex
	supported map[kernels.Codebook]error
}

func (k *kernel) fail(err error) error {
	return &Error{Library: k.I.Library.Path, Kernel: k.I.ID, Err: err}
}

func (k *kernel) Available() error { return k.avail }

// Supports asks prepare with a 1x256 matrix of the codebook (once per
// codebook): a plugin refuses a codebook it does not compute with there.
// An unavailable kernel is not called; it answers for any valid codebook.
func (k *kernel) Supports(cb kernels.Codebook) error {
	if err := cb.Validate(); err != nil {
		return err
	}
	if k.avail != nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err, ok := k.supported[cb]; ok {
		return err
	}
	m, err := kernels.NewMatrix(1, kernels.BlockCols, cb, 1)
	if err != nil {
		return err
	}
	var perr error
	if p, err := k.prepare(m); err != nil {
		perr = err
		if r, ok := errors.AsType[refusal](err); ok {
			perr = errors.New(string(r)) // the plugin's own words suffice here
		}
	} else {
		p.free()
	}
	k.supported[cb] = perr
	return perr
}

func (k *kernel) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if err := kernels.CheckPrepare(k, m); err != nil {
		return nil, err
	}
	p, err := k.prepare(m)
	if err != nil {
		return nil, err
	}
	runtime.SetFinalizer(p, (*prepared).free)
	return p, nil
}

// prepare copies m's codes next to a guard page and calls the plugin.
func (k *kernel) prepare(m *kernels.Matrix) (*prepared, error) {
	qs, free, err := guard.Alloc(len(m.Data), guard.End)
	if err != nil {
		return nil, k.fail(fmt.Errorf("prepare %s: %w", m.Shape(), err))
	}
	copy(qs, m.Data)
	cm := C.struct_qkbench_matrix{
		rows: C.int64_t(m.Rows), cols: C.int64_t(m.Cols), row_stride: C.int64_t(m.Stride()), scale: C.float(m.Scale),
	}
	if len(qs) > 0 {
		cm.qs = (*C.uint8_t)(unsafe.Pointer(&qs[0]))
	}
	for i, v := range m.Codebook {
		cm.codebook[i] = C.int8_t(v)
	}
	var msg msgBuf
	h := C.qk_prepare(k.c, &cm, msg.ptr(), msgLen)
	if h == nil {
		free()
		return nil, k.fail(fmt.Errorf("prepare %s cb=%s: %w", m.Shape(), m.Codebook.Name(), refusal(msg.String("returned NULL without a message"))))
	}
	return &prepared{k: k, m: m, h: h, freeQS: free}, nil
}

// refusal is the message of a plugin's prepare that returned NULL.
type refusal string

func (r refusal) Error() string { return string(r) }

type prepared struct {
	k      *kernel
	m      *kernels.Matrix
	h      unsafe.Pointer // the plugin's prepared matrix
	freeQS func()
	once   sync.Once
}

func (p *prepared) Kernel() kernels.Kernel  { return p.k }
func (p *prepared) Matrix() *kernels.Matrix { return p.m }

// free releases the plugin's prepared matrix, then the codes it was given.
// The finalizer calls it after every input made from p is unreachable (each
// input refers to p, so its finalizer, free_input, runs first).
func (p *prepared) free() {
	p.once.Do(func() {
		C.qk_free_prepared(p.k.c, p.h)
		p.freeQS()
	})
}

func (p *prepared) NewInput() kernels.Input {
	in := &input{p: p, h: C.qk_new_input(p.k.c, p.h)}
	runtime.KeepAlive(p)
	if in.h != nil {
		runtime.SetFinalizer(in, func(in *input) { C.qk_free_input(in.p.k.c, in.h) })
	}
	return in
}

type input struct {
	p      *prepared
	h      unsafe.Pointer // nil when new_input failed
	loaded bool
	// msg is load's message buffer: a local one escapes to the heap (C
	// gets its address), an allocation per Load, so once per timed GEMV.
	msg msgBuf
}

func (in *input) Load(x []float32) error {
	k, m := in.p.k, in.p.m
	if err := kernels.CheckX(k.I.ID, m, x); err != nil {
		return err
	}
	if in.h == nil {
		return k.fail(errors.New("new_input returned NULL"))
	}
	in.loaded = false
	in.msg[0] = 0
	rc := C.qk_load(k.c, in.h, (*C.float)(unsafe.Pointer(&x[0])), C.int64_t(len(x)), in.msg.ptr(), msgLen)
	runtime.KeepAlive(in)
	if rc != 0 {
		return k.fail(fmt.Errorf("load (x of %d): %s", len(x), in.msg.String(fmt.Sprintf("returned %d without a message", int(rc)))))
	}
	in.loaded = true
	return nil
}

func (in *input) GEMV(y []float32, r0, r1 int) error {
	k, m := in.p.k, in.p.m
	if err := kernels.CheckGEMV(k.I.ID, m, y, r0, r1, in.loaded); err != nil {
		return err
	}
	if r0 == r1 {
		return nil
	}
	rc := C.qk_gemv(k.c, in.h, (*C.float)(unsafe.Pointer(&y[0])), C.int64_t(r0), C.int64_t(r1))
	runtime.KeepAlive(in)
	if rc != 0 {
		return k.fail(fmt.Errorf("gemv rows [%d, %d) of %s: returned %d", r0, r1, m.Shape(), int(rc)))
	}
	return nil
}
