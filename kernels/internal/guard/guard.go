// Package guard maps buffers against unmapped (PROT_NONE) pages, so that a
// kernel that reads or writes one byte past either end of a buffer faults
// instead of passing silently. The conformance suite (kernels/kerneltest),
// the kernels' own tests and the plugin loader (which hands a plugin its
// matrix in such memory) use it.
package guard

import "unsafe"

// Edge says which end of a buffer touches the unmapped page.
type Edge int

const (
	// End: the buffer's last byte is right before an unmapped page, so an
	// over-read faults.
	End Edge = iota
	// Start: the buffer's first byte is right after an unmapped page, so an
	// under-read faults.
	Start
)

func (e Edge) String() string {
	if e == Start {
		return "start"
	}
	return "end"
}

// Floats is Alloc for n float32 values, each set to fill.
func Floats(n int, at Edge, fill float32) ([]float32, func(), error) {
	b, free, err := Alloc(4*n, at)
	if err != nil {
		return nil, nil, err
	}
	if n == 0 {
		return []float32{}, free, nil
	}
	f := unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)
	for i := range f {
		f[i] = fill
	}
	return f, free, nil
}
