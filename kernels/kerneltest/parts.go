package kerneltest

import (
	"fmt"
	"math"
	"sync"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

// The shape grid of the suite: odd and even row counts, cols below one block,
// exactly one and several blocks, and real tails (3200 and 8640 are
// bitnet_b1_58-3B's, not multiples of 256).
var (
	gridRows = []int{1, 2, 3, 7, 8, 67}
	gridCols = []int{1, 7, 255, 256, 512, 1536, 3200, 8640, 4096}
	// tallShapes reach past the row blockings of wide kernels: 130 rows
	// cover all of one 128-row block and 2 rows of the next; 1100 rows
	// cross the 1024-row super-blocks of avx512lut-i8.
	tallShapes = [][2]int{{130, 255}, {130, 3200}, {1100, 512}}
)

// named reports whether cb is one of the two codebooks of docs/format.md §1.
func named(cb kernels.Codebook) bool { return cb == kernels.QK256 || cb == kernels.Ternary }

// info: what a kernel says about itself.
func (s *suite) info() []group {
	return s.one(PartInfo, func(c *checker, cb kernels.Codebook) {
		i := c.k.Info()
		c.cas = "Info " + i.ID
		if err := kernels.CheckID(i.ID); err != nil {
			c.failf("%v", err)
		}
		// docs/format.md §1: kernels take the codebook as data and none may hard-wire
		// one. Peers compute with their own format and are exempt.
		if i.Mode != kernels.Peer {
			for _, cb := range Codebooks {
				if err := c.k.Supports(cb); err != nil {
					c.failf("Supports(%s): %v; an %v kernel must compute with every codebook", cb.Name(), err, i.Mode)
				}
			}
		}
		if i.Mode != kernels.F32 && i.Mode != kernels.I8 && i.Mode != kernels.Peer {
			c.failf("mode %v, want f32, i8 or peer", i.Mode)
		}
		if i.Backend == "" || i.ISA == "" || i.Code == "" {
			c.failf("Backend %q, ISA %q, Code %q: receipts need all three", i.Backend, i.ISA, i.Code)
		}
		for j := 0; j < 2; j++ {
			if err := c.call(c.k.Available); err != nil {
				c.failf("Available() call %d: %v (it was nil before the suite started)", j+1, err)
			}
		}
		w := c.gen(3, 300, cb, 0.75, seedOf(12, cbIndex(cb)), workloads.Gaussian)
		if w == nil {
			return
		}
		c.cas = "Prepared " + i.ID
		p := c.prepare(w.M)
		if p == nil {
			return
		}
		var pk kernels.Kernel
		var pm *kernels.Matrix
		if err := c.call(func() error { pk, pm = p.Kernel(), p.Matrix(); return nil }); err != nil {
			c.failf("Kernel()/Matrix(): %v", err)
			return
		}
		if pk == nil || pk.Info().ID != i.ID {
			c.failf("Prepared.Kernel() is %v, want the kernel %s", pk, i.ID)
		}
		if pm == nil || pm.Rows != w.M.Rows || pm.Cols != w.M.Cols || pm.Codebook != w.M.Codebook || pm.Scale != w.M.Scale {
			c.failf("Prepared.Matrix() does not describe the matrix given to Prepare (%s cb=%s scale=%g)", w.M.Shape(), w.M.Codebook.Name(), w.M.Scale)
		}
	})
}

// shapes: the whole grid for the named codebooks, a sample for the others.
func (s *suite) shapes() []group {
	return s.perCodebook(PartShapes, Codebooks, func(c *checker, cb kernels.Codebook) {
		rows, cols := gridRows, gridCols
		switch {
		case !named(cb) && s.opt.Short:
			rows, cols = []int{1, 3, 8}, []int{7, 256, 3200}
		case !named(cb):
			rows, cols = []int{1, 3, 8, 67}, []int{7, 255, 256, 3200, 8640}
		case s.opt.Short:
			rows = []int{1, 2, 3, 8, 67}
		}
		for _, r := range rows {
			for _, n := range cols {
				if !s.shapeOK(r, n) {
					continue
				}
				c.cas = fmt.Sprintf("%dx%d", r, n)
				w := c.gen(r, n, cb, 1, seedOf(1, r, n, cbIndex(cb)), workloads.Gaussian)
				if w == nil {
					return
				}
				c.runFull(w.M, w.X, expectW(w))
			}
		}
		if !named(cb) {
			return
		}
		for _, sh := range tallShapes {
			if !s.shapeOK(sh[0], sh[1]) {
				continue
			}
			c.cas = fmt.Sprintf("%dx%d", sh[0], sh[1])
			w := c.gen(sh[0], sh[1], cb, 1, seedOf(1, sh[0], sh[1], cbIndex(cb)), workloads.Gaussian)
			if w == nil {
				return
			}
			c.runFull(w.M, w.X, expectW(w))
		}
	})
}

// scale: tensor scales other than 1.
func (s *suite) scale() []group {
	return s.perCodebook(PartScale, Codebooks, func(c *checker, cb kernels.Codebook) {
		for _, sh := range [][2]int{{3, 255}, {8, 3200}, {2, 4096}} {
			if !s.shapeOK(sh[0], sh[1]) {
				continue
			}
			for i, sc := range []float32{0.0173, -1, -2.5, 1e-3, 7.25, 0} {
				c.cas = fmt.Sprintf("%dx%d scale=%g", sh[0], sh[1], sc)
				w := c.gen(sh[0], sh[1], cb, sc, seedOf(2, sh[0], sh[1], i, cbIndex(cb)), workloads.Gaussian)
				if w == nil {
					return
				}
				c.runFull(w.M, w.X, expectW(w))
			}
		}
	})
}

// padding: whatever the padding codes hold, y is the same.
func (s *suite) padding() []group {
	if s.mode == kernels.Peer {
		return []group{{s: s, part: PartPadding, skip: "peer kernels only run shapes with cols a multiple of 256: no padding"}}
	}
	return s.perCodebook(PartPadding, Codebooks, func(c *checker, cb kernels.Codebook) {
		cols := []int{1, 7, 255, 257, 3200, 8640}
		if s.opt.Short {
			cols = []int{1, 7, 255, 3200}
		}
		for _, r := range []int{3, 8} {
			for _, n := range cols {
				w := c.gen(r, n, cb, 1, seedOf(3, r, n, cbIndex(cb)), workloads.Gaussian)
				if w == nil {
					return
				}
				e := expectW(w)
				for fill := 0; fill <= 4; fill++ {
					m := w.M.Clone()
					name := fmt.Sprint(fill)
					if fill < 4 {
						m.FillPadding(uint8(fill))
					} else {
						name = "junk"
						junkPadding(m, seedOf(33, r, n))
					}
					c.cas = fmt.Sprintf("%dx%d pad=%s", r, n, name)
					c.runFull(m, w.X, e)
				}
			}
		}
	})
}

// junkPadding fills every padding code with a pseudo-random one.
func junkPadding(m *kernels.Matrix, seed uint64) {
	g := seed | 1
	padded := m.Blocks() * kernels.BlockCols
	for r := 0; r < m.Rows; r++ {
		for col := m.Cols; col < padded; col++ {
			g ^= g << 13
			g ^= g >> 7
			g ^= g << 17
			m.SetCode(r, col, uint8(g>>32)&3)
		}
	}
}

// unaligned: x and y at odd offsets inside bigger buffers.
func (s *suite) unaligned() []group {
	return s.one(PartUnaligned, func(c *checker, cb kernels.Codebook) {
		offs := [][2]int{{1, 1}, {3, 5}, {5, 3}, {7, 7}, {0, 1}, {1, 0}, {2, 2}, {15, 9}}
		for i, sh := range [][2]int{{1, 1}, {7, 255}, {8, 3200}, {3, 4096}, {2, 8640}, {67, 512}} {
			if !s.shapeOK(sh[0], sh[1]) {
				continue
			}
			w := c.gen(sh[0], sh[1], cb, 1, seedOf(4, i, cbIndex(cb)), workloads.Gaussian)
			if w == nil {
				return
			}
			e := expectW(w)
			c.cas = fmt.Sprintf("%dx%d", sh[0], sh[1])
			p := c.prepare(w.M)
			if p == nil {
				continue
			}
			in := c.newInput(p)
			if in == nil {
				continue
			}
			for j, o := range offs {
				fill := float32(math.NaN())
				if j%2 == 1 {
					fill = 3e30
				}
				c.cas = fmt.Sprintf("%dx%d xoff=%d yoff=%d fill=%g", sh[0], sh[1], o[0], o[1], fill)
				x := placeX(w.X, o[0], fill)
				if !c.load(in, x) {
					continue
				}
				c.gemvCheck(in, alignedYBuf(sh[0], o[1]), e, 0, sh[0])
			}
		}
	})
}

// alignedYBuf returns a ybuf whose window starts off floats past a 64-byte
// boundary, with at least 16 guard floats on each side.
func alignedYBuf(n, off int) *ybuf {
	buf := make([]float32, n+off+48)
	b := &ybuf{buf: buf, off: alignFloats(buf) + 16 + off, n: n}
	b.reset()
	return b
}

// ranges: sub-ranges of rows, empty ones included.
func (s *suite) ranges() []group {
	return s.one(PartRanges, func(c *checker, cb kernels.Codebook) {
		for i, sh := range append([][2]int{{1, 256}, {2, 7}, {3, 255}, {7, 512}, {8, 3200}, {67, 1536}}, tallShapes...) {
			if !s.shapeOK(sh[0], sh[1]) {
				continue
			}
			r := sh[0]
			w := c.gen(r, sh[1], cb, 1, seedOf(5, i, cbIndex(cb)), workloads.Gaussian)
			if w == nil {
				return
			}
			e := expectW(w)
			c.cas = fmt.Sprintf("%dx%d", r, sh[1])
			_, in := c.setup(w.M, w.X)
			if in == nil {
				continue
			}
			rs := [][2]int{{0, 1}, {r - 1, r}, {r / 3, r - r/3}, {0, 0}, {r / 2, r / 2}, {r, r}, {1, r}, {0, r - 1}, {0, r}}
			for _, rg := range rs {
				if rg[0] > rg[1] {
					continue
				}
				c.cas = fmt.Sprintf("%dx%d rows [%d,%d)", r, sh[1], rg[0], rg[1])
				c.gemvCheck(in, newYBuf(r, 5, 6), e, rg[0], rg[1])
			}
			// Consecutive pieces fill the whole of y.
			c.cas = fmt.Sprintf("%dx%d pieces", r, sh[1])
			yb := newYBuf(r, 4, 4)
			cuts := []int{0, r / 4, r / 4, r / 2, r - 1, r}
			ok := true
			for j := 0; j+1 < len(cuts) && ok; j++ {
				if cuts[j] <= cuts[j+1] {
					ok = c.gemv(in, yb.y(), cuts[j], cuts[j+1])
				}
			}
			if ok {
				c.checkY(yb, e, 0, r)
			}
		}
	})
}

// inputs: no stale or shared mutable state; x and W are read-only.
func (s *suite) inputs() []group {
	return s.one(PartInputs, func(c *checker, cb kernels.Codebook) {
		for i, sh := range [][2]int{{3, 255}, {8, 3200}, {67, 512}} {
			if !s.shapeOK(sh[0], sh[1]) {
				continue
			}
			rows, cols := sh[0], sh[1]
			w := c.gen(rows, cols, cb, 1, seedOf(6, i, cbIndex(cb)), workloads.Gaussian)
			if w == nil {
				return
			}
			x2, _ := workloads.GenerateX(cols, workloads.Outliers, seedOf(61, i))
			for j := range x2 {
				x2[j] *= 3
			}
			xs := [][]float32{w.X, x2, make([]float32, cols), scaled(w.X, 1e-3), w.X, x2}
			es := make([]*expected, len(xs))
			for j, x := range xs {
				es[j] = expectCached(fmt.Sprintf("inputs|%d|%s", j, w.Source), w.M, x)
			}
			data := append([]byte(nil), w.M.Data...)
			keep := make([][]float32, len(xs))
			for j, x := range xs {
				keep[j] = append([]float32(nil), x...)
			}

			// Repeated Loads on one Input.
			p := c.prepare(w.M)
			if p == nil {
				continue
			}
			in := c.newInput(p)
			if in == nil {
				continue
			}
			for j, x := range xs {
				c.cas = fmt.Sprintf("%dx%d Load #%d", rows, cols, j)
				if c.load(in, x) {
					c.gemvCheck(in, newYBuf(rows, 2, 2), es[j], 0, rows)
				}
			}

			// Two Inputs on one Prepared, interleaved: Load A, Load B, GEMV A, GEMV B.
			c.cas = fmt.Sprintf("%dx%d two Inputs", rows, cols)
			a, b := c.newInput(p), c.newInput(p)
			if a != nil && b != nil && c.load(a, xs[0]) && c.load(b, xs[1]) {
				c.gemvCheck(a, newYBuf(rows, 1, 1), es[0], 0, rows)
				c.gemvCheck(b, newYBuf(rows, 1, 1), es[1], 0, rows)
				if c.load(a, xs[3]) {
					c.gemvCheck(b, newYBuf(rows, 1, 1), es[1], 0, rows)
					c.gemvCheck(a, newYBuf(rows, 1, 1), es[3], 0, rows)
				}
			}

			// Two Prepared of different matrices, interleaved.
			c.cas = fmt.Sprintf("%dx%d two Prepared", rows, cols)
			w2 := c.gen(rows+1, cols, cb, 0.5, seedOf(62, i), workloads.Gaussian)
			if w2 == nil {
				return
			}
			e2 := expect(w2.M, xs[1])
			p2 := c.prepare(w2.M)
			if p2 != nil {
				a, b := c.newInput(p), c.newInput(p2)
				if a != nil && b != nil && c.load(a, xs[0]) && c.load(b, xs[1]) {
					c.gemvCheck(a, newYBuf(rows, 1, 1), es[0], 0, rows)
					c.gemvCheck(b, newYBuf(rows+1, 1, 1), e2, 0, rows+1)
				}
			}

			c.cas = fmt.Sprintf("%dx%d read-only", rows, cols)
			for j, x := range xs {
				if !sameBits(x, keep[j]) {
					c.failf("x #%d was modified by Load or GEMV; x is read-only", j)
				}
			}
			if string(data) != string(w.M.Data) {
				c.failf("the matrix data was modified by Prepare, Load or GEMV; a Matrix is read-only")
			}
		}
	})
}

func scaled(x []float32, f float32) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = v * f
	}
	return out
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// concurrent: goroutines on one Input (disjoint ranges) and on separate Inputs.
func (s *suite) concurrent() []group {
	return s.one(PartConcurrent, func(c *checker, cb kernels.Codebook) {
		const workers = 4
		rounds := 6
		if s.opt.Short {
			rounds = 3
		}
		c.concurrentPrepare(cb, workers)
		for i, sh := range [][2]int{{67, 4096}, {64, 3200}} {
			if !s.shapeOK(sh[0], sh[1]) {
				continue
			}
			rows, cols := sh[0], sh[1]
			w := c.gen(rows, cols, cb, 1, seedOf(7, i, cbIndex(cb)), workloads.Gaussian)
			if w == nil {
				return
			}
			e := expectW(w)
			p := c.prepare(w.M)
			if p == nil {
				continue
			}

			// One Input shared by goroutines on disjoint ranges after one Load.
			c.cas = fmt.Sprintf("%dx%d shared Input", rows, cols)
			in := c.newInput(p)
			if in == nil || !c.load(in, w.X) {
				continue
			}
			yb := newYBuf(rows, 3, 3)
			for round := 0; round < rounds; round++ {
				yb.reset()
				errs := make([]error, workers)
				var wg sync.WaitGroup
				start := make(chan struct{}) // start together, to overlap as much as possible
				for g := 0; g < workers; g++ {
					r0, r1 := rows*g/workers, rows*(g+1)/workers
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						errs[g] = c.call(func() error { return in.GEMV(yb.y(), r0, r1) })
					}()
				}
				close(start)
				wg.Wait()
				bad := false
				for g, err := range errs {
					if err != nil {
						c.failf("goroutine %d: GEMV: %v", g, err)
						bad = true
					}
				}
				if bad || !c.checkY(yb, e, 0, rows) {
					break
				}
			}

			// Separate Inputs, each with its own x, on the same Prepared.
			c.cas = fmt.Sprintf("%dx%d separate Inputs", rows, cols)
			xs := make([][]float32, workers)
			es := make([]*expected, workers)
			for g := range xs {
				xs[g], _ = workloads.GenerateX(cols, workloads.Gaussian, seedOf(71, i, g))
				for j := range xs[g] {
					xs[g][j] *= float32(g + 1)
				}
				es[g] = expect(w.M, xs[g])
			}
			msgs := make([]string, workers)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for g := 0; g < workers; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					var in kernels.Input
					if err := c.call(func() error { in = p.NewInput(); return nil }); err != nil || in == nil {
						msgs[g] = fmt.Sprintf("goroutine %d: NewInput: %v", g, err)
						return
					}
					for round := 0; round < rounds; round++ {
						yb := newYBuf(rows, 2, 2)
						if err := c.call(func() error {
							if err := in.Load(xs[g]); err != nil {
								return err
							}
							return in.GEMV(yb.y(), 0, rows)
						}); err != nil {
							msgs[g] = fmt.Sprintf("goroutine %d round %d: %v", g, round, err)
							return
						}
						if why := yb.untouched(0, rows); why != "" {
							msgs[g] = fmt.Sprintf("goroutine %d round %d: %s", g, round, why)
							return
						}
						if why := c.verify(es[g], yb.y(), 0, rows); why != "" {
							msgs[g] = fmt.Sprintf("goroutine %d round %d (its own x, scaled by %d): %s", g, round, g+1, why)
							return
						}
					}
				}()
			}
			close(start)
			wg.Wait()
			for _, m := range msgs {
				if m != "" {
					c.failf("%s", m)
				}
			}
		}
	})
}

// concurrentPrepare: goroutines each Prepare their own matrix (different
// shapes and scales) and run it, catching global state in Prepare.
func (c *checker) concurrentPrepare(cb kernels.Codebook, workers int) {
	c.cas = "concurrent Prepare"
	type job struct {
		m *kernels.Matrix
		x []float32
		e *expected
	}
	var jobs []job
	for g := 0; g < workers; g++ {
		rows, cols := 5+g*7, 256*(g+1)
		w := c.gen(rows, cols, cb, float32(g+1)*0.5, seedOf(72, g, cbIndex(cb)), workloads.Gaussian)
		if w == nil {
			return
		}
		jobs = append(jobs, job{w.M, w.X, expectW(w)})
	}
	msgs := make([]string, workers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			yb := newYBuf(j.m.Rows, 1, 1)
			if err := c.call(func() error {
				p, err := c.k.Prepare(j.m)
				if err != nil {
					return err
				}
				return kernels.GEMV(p, j.x, yb.y())
			}); err != nil {
				msgs[g] = fmt.Sprintf("goroutine %d (%s): %v", g, j.m.Shape(), err)
				return
			}
			if why := c.verify(j.e, yb.y(), 0, j.m.Rows); why != "" {
				msgs[g] = fmt.Sprintf("goroutine %d (%s, scale %g): %s", g, j.m.Shape(), j.m.Scale, why)
			}
		}()
	}
	close(start)
	wg.Wait()
	for _, m := range msgs {
		if m != "" {
			c.failf("%s", m)
		}
	}
}

// errors: misuse gives errors, never a panic, and writes nothing.
func (s *suite) errors() []group {
	return s.one(PartErrors, func(c *checker, cb kernels.Codebook) {
		rows, cols := 3, 255
		if !s.shapeOK(rows, cols) {
			cols = 256
		}
		w := c.gen(rows, cols, cb, 1, seedOf(8, cbIndex(cb)), workloads.Gaussian)
		if w == nil {
			return
		}
		e := expectW(w)
		p := c.prepare(w.M)
		if p == nil {
			return
		}
		wantErr := func(what string, err error, yb *ybuf) {
			c.cas = what
			switch err.(type) {
			case nil:
				c.failf("no error; want one")
			case *panicError:
				c.failf("%v; want an error, not a panic", err)
			}
			if yb != nil {
				if why := yb.untouched(0, 0); why != "" {
					c.failf("failed call %s", why)
				}
			}
		}

		in := c.newInput(p)
		if in == nil {
			return
		}
		yb := newYBuf(rows, 2, 2)
		wantErr("GEMV before Load", c.call(func() error { return in.GEMV(yb.y(), 0, rows) }), yb)
		for _, x := range [][]float32{nil, {}, w.X[:cols-1], append(append([]float32(nil), w.X...), 1)} {
			fresh := c.newInput(p)
			if fresh == nil {
				return
			}
			wantErr(fmt.Sprintf("Load(x of len %d, nil=%v)", len(x), x == nil), c.call(func() error { return fresh.Load(x) }), nil)
		}
		if !c.load(in, w.X) {
			return
		}
		for _, y := range []struct {
			name string
			y    []float32
		}{{"nil", nil}, {"empty", []float32{}}, {"short", make([]float32, rows-1)}, {"long", make([]float32, rows+1)}} {
			wantErr(fmt.Sprintf("GEMV(y %s, 0, %d)", y.name, rows), c.call(func() error { return in.GEMV(y.y, 0, rows) }), nil)
		}
		for _, rg := range [][2]int{{-1, 1}, {0, rows + 1}, {2, 1}, {rows + 1, rows + 1}, {-1, -1}, {rows, rows + 1}, {-5, rows}} {
			yb := newYBuf(rows, 2, 2)
			wantErr(fmt.Sprintf("GEMV(y, %d, %d)", rg[0], rg[1]), c.call(func() error { return in.GEMV(yb.y(), rg[0], rg[1]) }), yb)
		}
		// The Input still works after all that.
		c.cas = "GEMV after the errors"
		c.gemvCheck(in, newYBuf(rows, 2, 2), e, 0, rows)

		// Invalid matrices.
		bad := []struct {
			name string
			m    *kernels.Matrix
		}{
			{"nil matrix", nil},
			{"data one byte short", &kernels.Matrix{Rows: rows, Cols: cols, Data: w.M.Data[:len(w.M.Data)-1], Codebook: cb, Scale: 1}},
			{"data one byte long", &kernels.Matrix{Rows: rows, Cols: cols, Data: append(append([]byte(nil), w.M.Data...), 0), Codebook: cb, Scale: 1}},
			{"nil data", &kernels.Matrix{Rows: rows, Cols: cols, Codebook: cb, Scale: 1}},
			{"0 rows", &kernels.Matrix{Rows: 0, Cols: cols, Codebook: cb, Scale: 1}},
			{"negative cols", &kernels.Matrix{Rows: rows, Cols: -256, Data: w.M.Data, Codebook: cb, Scale: 1}},
			{"codebook entry 3", &kernels.Matrix{Rows: rows, Cols: cols, Data: w.M.Data, Codebook: kernels.Codebook{-2, -1, 1, 3}, Scale: 1}},
			{"NaN scale", &kernels.Matrix{Rows: rows, Cols: cols, Data: w.M.Data, Codebook: cb, Scale: float32(math.NaN())}},
			{"Inf scale", &kernels.Matrix{Rows: rows, Cols: cols, Data: w.M.Data, Codebook: cb, Scale: float32(math.Inf(-1))}},
		}
		for _, b := range bad {
			var p kernels.Prepared
			err := c.call(func() (err error) { p, err = c.k.Prepare(b.m); return err })
			wantErr("Prepare("+b.name+")", err, nil)
			_ = p
		}
		// Codebooks the kernel rejects are rejected by Prepare too.
		for _, o := range Codebooks {
			if s.supports(o) == nil {
				continue
			}
			m := w.M.Clone()
			m.Codebook = o
			var p kernels.Prepared
			err := c.call(func() (err error) { p, err = c.k.Prepare(m); return err })
			wantErr("Prepare(unsupported codebook "+o.Name()+")", err, nil)
			_ = p
		}
	})
}

// worstcase: docs/format.md §2's extreme i8 sums.
func (s *suite) worstcase() []group {
	return s.perCodebook(PartWorstCase, Codebooks, func(c *checker, cb kernels.Codebook) {
		cols := []int{255, 4096, 16384, 16383}
		if s.opt.Short {
			cols = []int{255, 16384}
		}
		for _, n := range cols {
			if !s.shapeOK(1, n) {
				continue
			}
			for xi, xk := range []string{"+1", "-1", "alternating", "random signs"} {
				x := make([]float32, n)
				g := seedOf(9, n, xi) | 1
				for i := range x {
					switch xk {
					case "+1":
						x[i] = 1
					case "-1":
						x[i] = -1
					case "alternating":
						x[i] = float32(1 - 2*(i&1))
					default:
						g ^= g << 13
						g ^= g >> 7
						g ^= g << 17
						x[i] = float32(1 - 2*int(g>>63))
					}
				}
				m := worstMatrix(cb, x)
				c.cas = fmt.Sprintf("%dx%d x=%s", m.Rows, n, xk)
				c.runFull(m, x, expectCached(fmt.Sprintf("worst|%s|%d|%s", cb.Values(), n, xk), m, x))
			}
		}
	})
}

// worstMatrix builds the 4 extreme rows for x (every |x| = 1, so every
// |q| = 127): row 0 has every product cb*q at its maximum, row 1 at its
// minimum, row 2 every weight at cb's largest entry (cb+2 = 4 for ±2
// codebooks), row 3 at its smallest. Padding holds row 2's code.
func worstMatrix(cb kernels.Codebook, x []float32) *kernels.Matrix {
	hi, lo := 0, 0
	for i, v := range cb {
		if v > cb[hi] {
			hi = i
		}
		if v < cb[lo] {
			lo = i
		}
	}
	m, err := kernels.NewMatrix(4, len(x), cb, 1)
	if err != nil {
		panic(err) // len(x) <= 16384 and cb valid: cannot happen
	}
	for col, v := range x {
		pos, neg := uint8(hi), uint8(lo)
		if v < 0 {
			pos, neg = neg, pos
		}
		m.SetCode(0, col, pos)
		m.SetCode(1, col, neg)
		m.SetCode(2, col, uint8(hi))
		m.SetCode(3, col, uint8(lo))
	}
	m.FillPadding(uint8(hi))
	return m
}

// specialx: x vectors chosen to hit quantizer corner cases.
func (s *suite) specialx() []group {
	return s.perCodebook(PartSpecialX, []kernels.Codebook{kernels.QK256, kernels.Ternary, {1, -1, 2, -2}}, func(c *checker, cb kernels.Codebook) {
		for i, sh := range [][2]int{{8, 3200}, {3, 256}, {2, 7}, {5, 1}} {
			rows, cols := sh[0], sh[1]
			if !s.shapeOK(rows, cols) {
				continue
			}
			w := c.gen(rows, cols, cb, 1, seedOf(10, i, cbIndex(cb)), workloads.Gaussian)
			if w == nil {
				return
			}
			for _, sx := range specialXs(cols, seedOf(101, i)) {
				if s.mode == kernels.Peer && !sx.peer {
					continue
				}
				c.cas = fmt.Sprintf("%dx%d x=%s", rows, cols, sx.name)
				c.runFull(w.M, sx.x, expectCached(fmt.Sprintf("specialx|%s|%s|%s", w.Name, w.Source, sx.name), w.M, sx.x))
			}
		}
	})
}

type specialX struct {
	name string
	x    []float32
	peer bool // a realistic input a peer kernel must handle
}

func specialXs(n int, seed uint64) []specialX {
	fill := func(vals []float32) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = vals[i%len(vals)]
		}
		return x
	}
	out := []specialX{{name: "zero", x: make([]float32, n), peer: true}}
	o, _ := workloads.GenerateX(n, workloads.Outliers, seed)
	out = append(out, specialX{name: "outliers", x: o, peer: true})
	spike := make([]float32, n)
	spike[n/2] = 1.75
	out = append(out, specialX{name: "spike", x: spike, peer: true})
	// Every |x| alike: every q = ±127, the slow path of kernels that take a
	// shortcut where the activations are small (avx2lut-i8's table pairs).
	e, _ := workloads.GenerateX(n, workloads.Extreme, seed+2)
	out = append(out, specialX{name: "extreme", x: e, peer: true})
	out = append(out, specialX{name: "constant", x: fill([]float32{0.3}), peer: true})
	// amax 127 makes s exactly 1: every x.5 is a tie, round half to even.
	out = append(out, specialX{name: "ties127", x: fill([]float32{127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 125.5, -126.5, 126.5, 3.5, -3.5, 63.5, -64.5})})
	// amax 254 makes s exactly 0.5: every odd integer is a tie.
	out = append(out, specialX{name: "ties254", x: fill([]float32{-254, 1, 3, 5, -1, -3, -5, 253, -253, 251, 127, -125})})
	out = append(out, specialX{name: "float32ties", x: fill(float32Ties())})
	g, _ := workloads.GenerateX(n, workloads.Gaussian, seed+1)
	out = append(out, specialX{name: "tiny", x: scaled(g, 1e-7)})
	out = append(out, specialX{name: "subnormal", x: scaled(g, 1e-40)})
	out = append(out, specialX{name: "huge", x: scaled(g, 1e20)})
	return out
}

// float32Ties returns x values (with amax 3, s = float32(127/3)) whose
// product x*s is not a tie exactly but rounds to one in float32: the
// quantizer must round the float32 product (docs/format.md §2), not the exact one.
func float32Ties() []float32 {
	const amax = 3
	s := float32(127) / float32(amax)
	out := []float32{amax}
	for k := 0; k < 126; k++ {
		t := float32(k) + 0.5
		c := t / s
		for d := -8; d <= 8; d++ {
			v := math.Float32frombits(uint32(int64(math.Float32bits(c)) + int64(d)))
			if v <= 0 || v >= amax {
				continue
			}
			if v*s == t && float64(v)*float64(s) != float64(t) {
				out = append(out, v, -v)
			}
		}
	}
	return out
}
