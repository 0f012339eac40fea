package kerneltest

import (
	"fmt"
	"math"
	"os"
	"unsafe"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

// guardedFloats is n float32 in guarded memory (see guarded), filled with fill.
func guardedFloats(n int, before bool, fill float32) ([]float32, func(), error) {
	b, free, err := guarded(4*n, before)
	if err != nil {
		return nil, nil, err
	}
	f := unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)
	for i := range f {
		f[i] = fill
	}
	return f, free, nil
}

// guardpage: every buffer a kernel reads or writes, placed against an
// unmapped page, so that an access past either end faults.
func (s *suite) guardpage() []group {
	if _, free, err := guarded(1, false); err != nil {
		return []group{{s: s, part: PartGuardPage, skip: err.Error()}}
	} else {
		free()
	}
	return s.one(PartGuardPage, func(c *checker, cb kernels.Codebook) {
		cols := []int{1, 7, 255, 256, 3200, 4096, 8640}
		if s.opt.Short {
			cols = []int{1, 7, 255, 256, 3200}
		}
		for _, n := range cols {
			for _, rows := range []int{1, 3} {
				if !s.shapeOK(rows, n) {
					continue
				}
				w := c.gen(rows, n, cb, 1, seedOf(11, rows, n, cbIndex(cb)), workloads.Gaussian)
				if w == nil {
					return
				}
				e := expectW(w)
				for _, v := range guardVariants {
					c.cas = fmt.Sprintf("%dx%d %s", rows, n, v.name)
					if s.opt.announce {
						fmt.Fprintf(os.Stderr, "%s%s\n", announcePrefix, c.cas)
					}
					c.guardCase(w, e, v)
				}
			}
		}
	})
}

type guardVariant struct {
	name string
	// where each buffer goes: 0 ordinary Go memory, 1 ending at a guard page,
	// 2 starting right after one.
	x, data, y int
}

var guardVariants = []guardVariant{
	{name: "x ends at a guard page", x: 1},
	{name: "x starts after a guard page", x: 2},
	{name: "matrix data ends at a guard page", x: 1, data: 1},
	{name: "matrix data starts after a guard page", x: 2, data: 2},
	{name: "y ends at a guard page", y: 1},
	{name: "y starts after a guard page", y: 2},
	{name: "x, data and y end at guard pages", x: 1, data: 1, y: 1},
}

func (c *checker) guardCase(w *workloads.Workload, e *expected, v guardVariant) {
	var frees []func()
	defer func() {
		for _, f := range frees {
			f()
		}
	}()
	x := w.X
	if v.x != 0 {
		g, free, err := guardedFloats(len(w.X), v.x == 2, 0)
		if err != nil {
			c.failf("harness: %v", err)
			return
		}
		frees = append(frees, free)
		copy(g, w.X)
		x = g
	}
	m := w.M
	if v.data != 0 {
		b, free, err := guarded(len(w.M.Data), v.data == 2)
		if err != nil {
			c.failf("harness: %v", err)
			return
		}
		frees = append(frees, free)
		copy(b, w.M.Data)
		gm, err := kernels.FromBytes(w.M.Rows, w.M.Cols, b, w.M.Codebook, w.M.Scale)
		if err != nil {
			c.failf("harness: %v", err)
			return
		}
		m = gm
	}
	_, in := c.setup(m, x)
	if in == nil {
		return
	}
	rows := w.M.Rows
	if v.y == 0 {
		c.gemvCheck(in, newYBuf(rows, 4, 4), e, 0, rows)
		return
	}
	y, free, err := guardedFloats(rows, v.y == 2, guardNaN)
	if err != nil {
		c.failf("harness: %v", err)
		return
	}
	frees = append(frees, free)
	if !c.gemv(in, y, 0, rows) {
		return
	}
	if why := c.verify(e, y, 0, rows); why != "" {
		c.failf("%s", why)
	}
	for r, f := range y {
		if math.Float32bits(f) == guardBits {
			c.failf("row %d not written", r)
			break
		}
	}
}
