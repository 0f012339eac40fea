package kerneltest

import (
	"fmt"
	"math"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/internal/guard"
	"github.com/qkbench/qkbench/workloads"
)

// guardpage: every buffer a kernel reads or writes, placed against an
// unmapped page, so that an access past either end faults.
func (s *suite) guardpage() []group {
	if _, free, err := guard.Alloc(1, guard.End); err != nil {
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

// edge is where a buffer placed 1 or 2 touches the guard page.
func edge(place int) guard.Edge {
	if place == 2 {
		return guard.Start
	}
	return guard.End
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
		g, free, err := guard.Floats(len(w.X), edge(v.x), 0)
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
		b, free, err := guard.Alloc(len(w.M.Data), edge(v.data))
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
	y, free, err := guard.Floats(rows, edge(v.y), guardNaN)
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
