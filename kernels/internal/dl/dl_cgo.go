//go:build cgo && linux && !purego

package dl

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

// dlerror's message is thread-local: read it in the same C call.
static void *qk_dlopen(const char *path, const char **err) {
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) *err = dlerror();
	return h;
}

static void *qk_dlsym(void *h, const char *name, const char **err) {
	dlerror();
	void *p = dlsym(h, name);
	const char *e = dlerror();
	if (e) *err = e;
	else if (!p) *err = "defined as NULL";
	return p;
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// Available is nil: this build can load libraries.
var Available error

func open(path string) (unsafe.Pointer, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var msg *C.char
	h := C.qk_dlopen(cpath, &msg)
	if h == nil {
		return nil, errors.New("dlopen: " + cstr(msg))
	}
	return h, nil
}

func sym(h unsafe.Pointer, name string) (unsafe.Pointer, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var msg *C.char
	p := C.qk_dlsym(h, cname, &msg)
	if msg != nil {
		return nil, errors.New(cstr(msg))
	}
	return p, nil
}

func cstr(s *C.char) string {
	if s == nil {
		return "(no detail)"
	}
	return C.GoString(s)
}
