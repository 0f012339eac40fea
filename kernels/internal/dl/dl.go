// Package dl loads shared libraries at run time (dlopen through cgo), for
// the kernels that live outside the qkbench binary: llama.cpp's ggml peers
// (kernels/cgo) and kernel plugins (kernels/plugin).
//
// A library is opened once per process and never closed: its code may be
// running on another goroutine, and kernels loaded from it stay registered.
package dl

import (
	"fmt"
	"path/filepath"
	"sync"
	"unsafe"
)

// Lib is an open shared library.
type Lib struct {
	Path string         // as opened (absolute)
	h    unsafe.Pointer // dlopen handle
}

var opened struct {
	sync.Mutex
	m map[string]result
}

type result struct {
	lib *Lib
	err error
}

// Open loads the library at path (RTLD_NOW | RTLD_LOCAL: every symbol it
// needs is resolved now, and its symbols do not leak into other libraries).
// The same path (after filepath.Abs) gives the same *Lib, or the same error,
// for the life of the process.
func Open(path string) (*Lib, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("dlopen %s: %w", path, err)
	}
	opened.Lock()
	defer opened.Unlock()
	if r, ok := opened.m[abs]; ok {
		return r.lib, r.err
	}
	if opened.m == nil {
		opened.m = map[string]result{}
	}
	h, err := open(abs)
	var l *Lib
	if err == nil {
		l = &Lib{Path: abs, h: h}
	}
	opened.m[abs] = result{l, err}
	return l, err
}

// Handle returns the dlopen handle, for C code that looks up symbols itself.
func (l *Lib) Handle() unsafe.Pointer { return l.h }

// Sym returns the address of the symbol name, or an error naming the
// library and the symbol when it is not defined.
func (l *Lib) Sym(name string) (unsafe.Pointer, error) {
	p, err := sym(l.h, name)
	if err != nil {
		return nil, fmt.Errorf("%s: symbol %s: %w", l.Path, name, err)
	}
	return p, nil
}
