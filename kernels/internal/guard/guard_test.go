package guard_test

import (
	"runtime/debug"
	"testing"
	"unsafe"

	"github.com/qkbench/qkbench/kernels/internal/guard"
)

// TestFaults reads one byte past each end of guarded buffers: the read at
// the guarded edge must fault (a recoverable panic under SetPanicOnFault).
func TestFaults(t *testing.T) {
	if _, free, err := guard.Alloc(1, guard.End); err != nil {
		t.Skip(err)
	} else {
		free()
	}
	for _, n := range []int{1, 7, 4096, 5000} {
		for _, at := range []guard.Edge{guard.End, guard.Start} {
			b, free, err := guard.Alloc(n, at)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != n || cap(b) != n {
				t.Fatalf("n=%d %v: len %d cap %d", n, at, len(b), cap(b))
			}
			b[0], b[n-1] = 1, 2 // writable
			off := n
			if at == guard.Start {
				off = -1
			}
			if !faults(unsafe.Add(unsafe.Pointer(&b[0]), off)) {
				t.Errorf("n=%d %v: reading byte %d did not fault", n, at, off)
			}
			free()
		}
	}
	f, free, err := guard.Floats(3, guard.End, 1.5)
	if err != nil || len(f) != 3 || f[2] != 1.5 {
		t.Fatalf("Floats = %v, %v", f, err)
	}
	free()
}

func faults(p unsafe.Pointer) (faulted bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() { faulted = recover() != nil }()
	_ = *(*byte)(p)
	return false
}
