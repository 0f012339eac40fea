package bench

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/scalar"
	"github.com/qkbench/qkbench/workloads"
)

func TestSplit(t *testing.T) {
	for _, rows := range []int{1, 2, 15, 16, 17, 31, 33, 67, 100, 640, 2560, 6913} {
		for _, threads := range []int{1, 2, 3, 4, 7, 64, 5000} {
			for _, align := range []int{1, 16, 48} {
				rs := Split(rows, threads, align)
				name := fmt.Sprintf("Split(%d, %d, %d) = %v", rows, threads, align, rs)
				if len(rs) == 0 || len(rs) > threads {
					t.Fatalf("%s: %d ranges, want 1..%d", name, len(rs), threads)
				}
				if want := min(threads, (rows+align-1)/align); len(rs) != want {
					t.Fatalf("%s: %d ranges, want %d", name, len(rs), want)
				}
				if rs[0][0] != 0 || rs[len(rs)-1][1] != rows {
					t.Fatalf("%s: does not cover [0, %d)", name, rows)
				}
				lo, hi := rows, 0
				for i, r := range rs {
					if r[1] <= r[0] {
						t.Fatalf("%s: range %d is empty", name, i)
					}
					if i > 0 && r[0] != rs[i-1][1] {
						t.Fatalf("%s: range %d does not start where %d ends", name, i, i-1)
					}
					if i > 0 && r[0]%align != 0 {
						t.Fatalf("%s: split point %d not a multiple of %d", name, r[0], align)
					}
					lo, hi = min(lo, r[1]-r[0]), max(hi, r[1]-r[0])
				}
				// Balanced: sizes differ by at most one alignment unit, except
				// the last range, which may be short by the tail.
				if len(rs) > 1 && hi-(rs[0][1]-rs[0][0]) > align {
					t.Fatalf("%s: unbalanced (%d..%d rows)", name, lo, hi)
				}
			}
		}
	}
}

func TestRunnerMatchesDirectGEMV(t *testing.T) {
	for _, k := range []kernels.Kernel{scalar.RefI8, scalar.RefF32} {
		for _, rows := range []int{1, 3, 7, 16, 17, 33, 67, 257} {
			for _, cols := range []int{1, 300} {
				w, err := workloads.Generate(workloads.Spec{Rows: rows, Cols: cols, Codebook: kernels.QK256, Seed: uint64(rows*1000 + cols)})
				if err != nil {
					t.Fatal(err)
				}
				p, err := k.Prepare(w.M)
				if err != nil {
					t.Fatal(err)
				}
				want := make([]float32, rows)
				if err := kernels.GEMV(p, w.X, want); err != nil {
					t.Fatal(err)
				}
				for threads := 1; threads <= 4; threads++ {
					r, err := NewRunner(p, threads)
					if err != nil {
						t.Fatal(err)
					}
					// Two GEMVs: the workers must serve more than one job.
					for rep := 0; rep < 2; rep++ {
						y := nans(rows)
						if err := r.GEMV(w.X, y); err != nil {
							t.Fatal(err)
						}
						for i := range y {
							if math.Float32bits(y[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s %dx%d threads=%d: y[%d]=%g, direct GEMV gives %g", k.Info().ID, rows, cols, threads, i, y[i], want[i])
							}
						}
					}
					if err := r.Close(); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
}

func nans(n int) []float32 {
	y := make([]float32, n)
	for i := range y {
		y[i] = float32(math.NaN())
	}
	return y
}

// probe is a test kernel: it records the row ranges it was asked for,
// optionally declares a row block, and can fail or panic on demand.
type testKernel struct {
	kernels.Base
	block     int
	fail      bool
	panics    bool
	wrongRows bool // writes y[r0] wrongly: an agreement check must catch it
	qk256Only bool
	delay     atomic.Int64 // nanoseconds to busy-wait in each GEMV
	onGEMV    func()       // called at each GEMV, when set
}

func (k *testKernel) Supports(cb kernels.Codebook) error {
	if k.qk256Only && cb != kernels.QK256 {
		return errors.New("probe: qk256 only")
	}
	return cb.Validate()
}

func newProbe() *testKernel {
	return &testKernel{Base: kernels.Base{I: kernels.Info{ID: "probe-i8", Backend: "test", ISA: "go", Mode: kernels.I8, Code: "test probe around ref-i8"}}}
}

func (k *testKernel) Available() error { return nil }

func (k *testKernel) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	if err := kernels.CheckPrepare(k, m); err != nil {
		return nil, err
	}
	inner, err := scalar.RefI8.Prepare(m)
	if err != nil {
		return nil, err
	}
	pp := &probePrepared{k: k, inner: inner}
	if k.block > 0 {
		return &blockedPrepared{pp}, nil
	}
	return pp, nil
}

type probePrepared struct {
	k     *testKernel
	inner kernels.Prepared
	mu    sync.Mutex
	seen  [][2]int
}

type blockedPrepared struct{ *probePrepared }

func (p *blockedPrepared) RowBlock() int { return p.k.block }

func (p *probePrepared) Kernel() kernels.Kernel  { return p.k }
func (p *probePrepared) Matrix() *kernels.Matrix { return p.inner.Matrix() }
func (p *probePrepared) NewInput() kernels.Input {
	return &probeInput{p: p, inner: p.inner.NewInput()}
}

type probeInput struct {
	p     *probePrepared
	inner kernels.Input
}

func (in *probeInput) Load(x []float32) error { return in.inner.Load(x) }

func (in *probeInput) GEMV(y []float32, r0, r1 int) error {
	in.p.mu.Lock()
	in.p.seen = append(in.p.seen, [2]int{r0, r1})
	in.p.mu.Unlock()
	k := in.p.k
	if k.onGEMV != nil {
		k.onGEMV()
	}
	if k.panics && r0 > 0 {
		panic("probe panic")
	}
	if k.fail && r0 > 0 {
		return errors.New("probe failure")
	}
	if err := in.inner.GEMV(y, r0, r1); err != nil {
		return err
	}
	if d := time.Duration(k.delay.Load()); d > 0 {
		for t0 := time.Now(); time.Since(t0) < d; {
		}
	}
	if k.wrongRows && r1 > r0 {
		y[r0]++
	}
	return nil
}

func probeCase(t *testing.T, rows, cols int) *Case {
	t.Helper()
	c, err := NewCase(workloads.SpecFor(workloads.Shape{Rows: rows, Cols: cols}, kernels.QK256, 7))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRunnerRowBlock(t *testing.T) {
	k := newProbe()
	k.block = 24 // lcm(16, 24) = 48
	c := probeCase(t, 200, 64)
	p, err := k.Prepare(c.W.M)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(p, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, want := fmt.Sprint(r.Ranges()), "[[0 48] [48 144] [144 200]]"; got != want {
		t.Fatalf("ranges %s, want %s", got, want)
	}
	if _, err := Verify(r, c); err != nil {
		t.Fatal(err)
	}
	pp := p.(*blockedPrepared)
	if len(pp.seen) != 3 {
		t.Fatalf("kernel saw %d ranges %v, want 3", len(pp.seen), pp.seen)
	}
	for _, s := range pp.seen {
		if s[0]%48 != 0 {
			t.Fatalf("kernel got range %v: start not a multiple of 48", s)
		}
	}

	k.block = -1
	if _, err := NewRunner(p, 1); err == nil || !strings.Contains(err.Error(), "RowBlock") {
		t.Fatalf("RowBlock -1: err %v, want an error naming RowBlock", err)
	}
}

func TestRunnerMoreThreadsThanRows(t *testing.T) {
	c := probeCase(t, 3, 10)
	p, err := scalar.RefI8.Prepare(c.W.M)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(p, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Threads() != 1 {
		t.Fatalf("3 rows, 8 threads: %d working threads, want 1", r.Threads())
	}
	if _, err := Verify(r, c); err != nil {
		t.Fatal(err)
	}
}

func TestRunnerErrors(t *testing.T) {
	c := probeCase(t, 67, 100)
	p, err := scalar.RefF32.Prepare(c.W.M)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, -1, MaxThreads + 1} {
		if _, err := NewRunner(p, n); err == nil || !strings.Contains(err.Error(), "thread count") {
			t.Errorf("NewRunner(p, %d): err %v, want a thread count error", n, err)
		}
	}
	if _, err := NewRunner(nil, 1); err == nil {
		t.Error("NewRunner(nil, 1) succeeded")
	}
	r, err := NewRunner(p, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.GEMV(c.W.X, make([]float32, 66)); err == nil || !strings.Contains(err.Error(), "len(y)=66") {
		t.Errorf("short y: err %v", err)
	}
	if err := r.GEMV(c.W.X[:99], make([]float32, 67)); err == nil || !strings.Contains(err.Error(), "len(x)=99") {
		t.Errorf("short x: err %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := r.GEMV(c.W.X, make([]float32, 67)); err == nil || !strings.Contains(err.Error(), "after Close") {
		t.Errorf("GEMV after Close: err %v", err)
	}
}

func TestRunnerKernelFailures(t *testing.T) {
	c := probeCase(t, 64, 100)
	for _, tc := range []struct {
		set  func(*testKernel)
		want string
	}{
		{func(k *testKernel) { k.fail = true }, "probe failure"},
		{func(k *testKernel) { k.panics = true }, "panicked on rows [32, 64)"},
		{func(k *testKernel) { k.wrongRows = true }, "rows differ from ref-i8"},
	} {
		k := newProbe()
		tc.set(k)
		p, err := k.Prepare(c.W.M)
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewRunner(p, 2)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(r, c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err %v, want it to contain %q", err, tc.want)
		}
		// The runner survives a failed job.
		k.fail, k.panics, k.wrongRows = false, false, false
		if _, err := Verify(r, c); err != nil {
			t.Errorf("after a failure: %v", err)
		}
		r.Close()
	}
}

func TestRunnerCloseStopsWorkers(t *testing.T) {
	c := probeCase(t, 256, 64)
	p, err := scalar.RefI8.Prepare(c.W.M)
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	r, err := NewRunner(p, 4)
	if err != nil {
		t.Fatal(err)
	}
	if got := runtime.NumGoroutine(); got < before+3 {
		t.Fatalf("4 threads: %d goroutines, want at least %d", got, before+3)
	}
	r.Close()
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i == 100 {
			t.Fatalf("after Close: %d goroutines, want %d", runtime.NumGoroutine(), before)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBenchGEMV runs the benchmark body on a tiny shape: a correct kernel
// is timed and reports its metrics; a wrong one fails before timing.
func TestBenchGEMV(t *testing.T) {
	bt := flag.Lookup("test.benchtime")
	old := bt.Value.String()
	if err := bt.Value.Set("5x"); err != nil {
		t.Fatal(err)
	}
	defer bt.Value.Set(old)

	c := probeCase(t, 67, 300)
	for _, k := range []kernels.Kernel{scalar.RefI8, scalar.RefF32} {
		p, err := k.Prepare(c.W.M)
		if err != nil {
			t.Fatal(err)
		}
		res := testing.Benchmark(func(b *testing.B) { benchGEMV(b, p, c, 2, 1500*time.Microsecond) })
		if res.N != 5 {
			t.Fatalf("%s: N=%d, want 5", k.Info().ID, res.N)
		}
		if res.Extra["GMAC/s"] <= 0 || res.Extra["prepare-ms"] != 1.5 || res.Bytes != c.W.M.WeightBytes() {
			t.Fatalf("%s: metrics %v, bytes %d", k.Info().ID, res.Extra, res.Bytes)
		}
	}
	k := newProbe()
	k.wrongRows = true
	p, err := k.Prepare(c.W.M)
	if err != nil {
		t.Fatal(err)
	}
	if res := testing.Benchmark(func(b *testing.B) { benchGEMV(b, p, c, 2, 0) }); res.N != 0 {
		t.Fatalf("a wrong kernel was timed: N=%d", res.N)
	}
}
