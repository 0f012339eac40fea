// Package plugin loads QK256 GEMV kernels from shared libraries written
// against the C ABI of include/qkbench_kernel.h, and registers them in
// package kernels with backend "plugin", next to the kernels built into
// qkbench: the same agreement check, conformance suite and timing.
//
//	ks, err := plugin.Load("./libmykernel.so") // registers every kernel it lists
//
// qkbench loads plugins with `--plugin LIB.so` (list, check, sweep,
// profile); `go test` (BenchmarkGEMV in bench/, the conformance suite in
// kernels/all) loads the libraries QKBENCH_PLUGINS lists (LoadEnv).
//
// Loading checks the whole library before registering anything: the
// exported function qkbench_kernels, the ABI version, ids (well formed, not
// already registered), modes, and that no string or function pointer is
// NULL. Every error names the library and, when it is about one kernel, that
// kernel. A kernel's available() is asked once, at load time.
//
// At run time a plugin kernel is called through cgo: prepare with a copy of
// the matrix's codes in memory that ends at an unmapped page (so a plugin
// that reads past W faults instead of reading garbage), one load per x and
// one gemv per row range, each about 35 ns of call overhead. Prepared
// matrices and inputs are freed (free_input, then free_prepared) when the Go
// garbage collector finds them unreachable. A fault inside a plugin kills
// the process: qkbench check runs the conformance suite of plugin kernels in
// a child process for that reason.
//
// Plugins need cgo on linux (dlopen); elsewhere Load says why not.
package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/internal/dl"
)

// EnvVar lists the libraries LoadEnv loads, separated by ':'.
const EnvVar = "QKBENCH_PLUGINS"

// ABIVersion is the version of include/qkbench_kernel.h this package reads.
const ABIVersion = 1

// Backend is the kernels.Info.Backend of every plugin kernel.
const Backend = "plugin"

// Error is a plugin that could not be loaded, or a plugin kernel's failure.
type Error struct {
	Library string // absolute path
	Kernel  string // the kernel's id, or "" for the library as a whole
	Err     error
}

func (e *Error) Error() string {
	if e.Kernel == "" {
		return fmt.Sprintf("plugin %s: %v", e.Library, e.Err)
	}
	return fmt.Sprintf("plugin %s: kernel %s: %v", e.Library, e.Kernel, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

var loaded struct {
	sync.Mutex
	m map[string][]kernels.Kernel // by absolute path
}

// Load opens the shared library at path, checks every kernel it lists and
// registers them all, or none when one of them is malformed. Loading the
// same path again returns the kernels registered the first time. A path with
// no file gives an error that wraps fs.ErrNotExist.
func Load(path string) ([]kernels.Kernel, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &Error{Library: path, Err: err}
	}
	loaded.Lock()
	defer loaded.Unlock()
	if ks, ok := loaded.m[abs]; ok {
		return ks, nil
	}
	fail := func(err error) ([]kernels.Kernel, error) { return nil, &Error{Library: abs, Err: err} }
	st, err := os.Stat(abs)
	if err != nil {
		return fail(err)
	}
	if !st.Mode().IsRegular() {
		return fail(fmt.Errorf("not a regular file (%v)", st.Mode().Type()))
	}
	sum, err := hashFile(abs)
	if err != nil {
		return fail(err)
	}
	lib := &kernels.Library{Path: abs, SHA256: sum}
	ks, err := open(lib)
	if err != nil {
		return nil, err
	}
	for _, k := range ks {
		if err := kernels.Add(k); err != nil {
			// checkIDs ruled this out; only a concurrent registration gets here.
			return nil, &Error{Library: abs, Kernel: k.Info().ID, Err: err}
		}
	}
	if loaded.m == nil {
		loaded.m = map[string][]kernels.Kernel{}
	}
	loaded.m[abs] = ks
	return ks, nil
}

// LoadEnv loads every library that QKBENCH_PLUGINS lists (paths separated
// by ':'; empty entries are ignored) and returns their kernels.
func LoadEnv() ([]kernels.Kernel, error) {
	var all []kernels.Kernel
	for _, p := range filepath.SplitList(os.Getenv(EnvVar)) {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		ks, err := Load(p)
		if err != nil {
			return all, fmt.Errorf("%s: %w", EnvVar, err)
		}
		all = append(all, ks...)
	}
	return all, nil
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// desc is one entry of a library's kernel list as read from C, before it
// becomes a kernel.
type desc struct {
	abi                 uint32
	id, mode, isa, code string
	null                []string // fields that are NULL
	long                []string // strings without a NUL in the first maxString bytes
}

// maxKernels bounds the list a library returns (a missing NULL terminator
// would run on); maxString bounds each string.
const (
	maxKernels = 256
	maxString  = 4096
)

// check validates the descriptions of one library's kernels and returns their
// modes, or an error naming the library and the first bad kernel.
func check(lib string, ds []desc) ([]kernels.Mode, error) {
	if len(ds) == 0 {
		return nil, &Error{Library: lib, Err: errors.New("qkbench_kernels() lists no kernel")}
	}
	modes := make([]kernels.Mode, len(ds))
	seen := map[string]bool{}
	for i, d := range ds {
		name := d.id
		if name == "" {
			name = fmt.Sprintf("#%d", i)
		}
		fail := func(format string, args ...any) ([]kernels.Mode, error) {
			return nil, &Error{Library: lib, Kernel: name, Err: fmt.Errorf(format, args...)}
		}
		if d.abi != ABIVersion {
			return fail("abi_version is %d; this qkbench reads version %d (include/qkbench_kernel.h): rebuild the plugin against its header", d.abi, ABIVersion)
		}
		if len(d.null) > 0 {
			return fail("NULL %s; every field of struct qkbench_kernel must be set", strings.Join(d.null, ", "))
		}
		if len(d.long) > 0 {
			return fail("%s not NUL-terminated within %d bytes", strings.Join(d.long, ", "), maxString)
		}
		if err := kernels.CheckID(d.id); err != nil {
			return fail("%v", err)
		}
		if seen[d.id] {
			return fail("id listed twice in the library")
		}
		seen[d.id] = true
		if k, err := kernels.Lookup(d.id); err == nil {
			where := "backend " + k.Info().Backend
			if l := k.Info().Library; l != nil {
				where = l.Path
			}
			return fail("id already registered (by %s)", where)
		}
		switch d.mode {
		case "f32":
			modes[i] = kernels.F32
		case "i8":
			modes[i] = kernels.I8
		case "peer":
			modes[i] = kernels.Peer
		default:
			return fail("mode %q, want \"f32\", \"i8\" or \"peer\"", d.mode)
		}
		if d.isa == "" || d.code == "" {
			return fail("empty isa or code; receipts need both")
		}
	}
	return modes, nil
}

// Available returns nil when this build can load plugins, or why it cannot
// (they need cgo on linux, without the purego tag).
func Available() error { return dl.Available }
