package bench

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qkbench/qkbench/kernels"
)

// MaxThreads bounds the thread count a Runner accepts: more is a typo, and a
// count from the command line must not size allocations unchecked.
const MaxThreads = 1024

// RowAlign is the granularity of a Runner's split points: 16 float32 values
// are one 64-byte cache line of y, so two threads never write the same line.
const RowAlign = 16

// RowBlocker is implemented by a Prepared whose kernel computes rows in
// groups; a Runner then splits rows only at multiples of RowBlock() (and of
// RowAlign).
type RowBlocker interface {
	RowBlock() int
}

// Runner runs threaded GEMVs through one Prepared matrix. The rows are split
// once into contiguous ranges, one per thread; the calling goroutine loads x
// and computes the first range, and persistent worker goroutines (started
// once, by NewRunner) compute the others. It is what the benchmarks and the
// sweep time. A Runner is not for concurrent use: GEMV calls are serialized.
// Close stops the workers.
type Runner struct {
	p      kernels.Prepared   // ps[0]
	ps     []kernels.Prepared // copies of one matrix (cold mode rotates through them)
	ins    []kernels.Input    // one per copy
	next   int                // the copy the next GEMV uses
	rows   int
	ranges [][2]int

	mu      sync.Mutex // serializes GEMV and Close
	closed  bool
	workers []*worker // one per range after the first
	exited  sync.WaitGroup

	// The hand-off: GEMV publishes y, bumps seq and waits until pending is
	// zero. Workers spin on seq for a while after each job before they go
	// to sleep on their wake channel (see Runner.wait).
	y       []float32
	cur     int // the copy (ps, ins) the current GEMV uses
	seq     atomic.Uint64
	pending atomic.Int32
	stop    atomic.Bool
	yield   int // polls between runtime.Gosched calls while spinning
}

// worker is one persistent worker goroutine's state.
type worker struct {
	rg       [2]int
	err      error         // of the last job; read by GEMV after pending reaches 0
	sleeping atomic.Bool   // parked on wake (GEMV must send)
	wake     chan struct{} // capacity 1
}

// spinFor is how long a worker (and GEMV, for the workers) polls before
// sleeping. Waking a sleeping goroutine goes through the Go scheduler, whose
// hand-off to an idle core can take longer than a whole in-cache GEMV (the
// woken goroutine waits in the waker's run queue): measured at 2048x4096 on
// 2 cores, channel hand-off gave avx512vnni-i8 no speed-up at 2 threads,
// spinning gave 2.08x. Spinning costs CPU only between back-to-back GEMVs.
const spinFor = 200 * time.Microsecond

// How many polls the spinning goroutines make between runtime.Gosched
// calls: rarely when every thread has a P of its own (a Gosched takes
// longer than a cross-core hand-off: yielding every 64 polls made the
// Runner's own cost at 2 threads ~980 ns per GEMV, every 1024 ~190 ns,
// BenchmarkRunnerOverhead), often when there are more threads than
// GOMAXPROCS, where a spinner holds the P another thread needs (4 threads
// on 2 Ps: 2.9 us at 64, 5 us at 1024, 69 us at 16384).
const (
	yieldAlone  = 1024
	yieldShared = 64
)

// NewRunner returns a Runner computing p's GEMV with the given number of
// threads (1..MaxThreads). More threads than aligned row groups is fine: the
// extra threads get no rows and no goroutine is started for them.
func NewRunner(p kernels.Prepared, threads int) (*Runner, error) {
	return NewRotatingRunner([]kernels.Prepared{p}, threads)
}

// NewRotatingRunner is NewRunner over copies of one matrix (prepared by one
// kernel): each GEMV uses the next copy in turn, so that in cold mode the
// weights come from memory while the same worker goroutines serve every copy.
func NewRotatingRunner(ps []kernels.Prepared, threads int) (*Runner, error) {
	if len(ps) == 0 || ps[0] == nil {
		return nil, errors.New("bench: NewRunner: nil Prepared")
	}
	p := ps[0]
	for i, q := range ps {
		if q == nil || q.Kernel() != p.Kernel() || q.Matrix().Rows != p.Matrix().Rows || q.Matrix().Cols != p.Matrix().Cols {
			return nil, fmt.Errorf("bench: NewRotatingRunner: copy %d is not the same kernel and shape as copy 0", i)
		}
	}
	if threads < 1 || threads > MaxThreads {
		return nil, fmt.Errorf("bench: thread count %d, want 1..%d", threads, MaxThreads)
	}
	m := p.Matrix()
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	align := RowAlign
	if rb, ok := p.(RowBlocker); ok {
		b := rb.RowBlock()
		if b < 1 || b > kernels.MaxDim {
			return nil, fmt.Errorf("bench: kernel %s: RowBlock() = %d, want 1..%d", p.Kernel().Info().ID, b, kernels.MaxDim)
		}
		align = lcm(align, b)
	}
	r := &Runner{
		p:      p,
		ps:     ps,
		rows:   m.Rows,
		ranges: Split(m.Rows, threads, align),
		yield:  yieldAlone,
	}
	if len(r.ranges) > runtime.GOMAXPROCS(0) {
		r.yield = yieldShared
	}
	for _, q := range ps {
		r.ins = append(r.ins, q.NewInput())
	}
	n := len(r.ranges) - 1
	r.exited.Add(n)
	for i := range n {
		w := &worker{rg: r.ranges[i+1], wake: make(chan struct{}, 1)}
		r.workers = append(r.workers, w)
		go r.work(w)
	}
	return r, nil
}

// Split cuts [0, rows) into at most threads contiguous, non-empty ranges
// whose inner split points are multiples of align, as evenly as align allows.
// It returns at least one range. align must be positive.
func Split(rows, threads, align int) [][2]int {
	align = max(align, 1)
	threads = max(threads, 1)
	units := (rows + align - 1) / align
	n := min(threads, max(units, 1))
	out := make([][2]int, 0, n)
	for i := range n {
		u0, u1 := i*units/n, (i+1)*units/n
		r0, r1 := min(u0*align, rows), min(u1*align, rows)
		if r1 > r0 || len(out) == 0 && i == n-1 {
			out = append(out, [2]int{r0, r1})
		}
	}
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b int) int { return a / gcd(a, b) * b }

// Prepared returns the matrix the Runner computes with.
func (r *Runner) Prepared() kernels.Prepared { return r.p }

// Copies returns how many copies of the matrix the Runner rotates through.
func (r *Runner) Copies() int { return len(r.ps) }

// Ranges returns the row ranges [r0, r1), one per working thread.
func (r *Runner) Ranges() [][2]int { return append([][2]int(nil), r.ranges...) }

// Threads returns the number of threads that get rows (at most the count
// asked for).
func (r *Runner) Threads() int { return len(r.ranges) }

// GEMV computes y = W x: it loads x on the calling goroutine, then computes
// the row ranges concurrently and waits for all of them. The error names
// the first range that failed.
func (r *Runner) GEMV(x, y []float32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errors.New("bench: Runner used after Close")
	}
	if len(y) != r.rows {
		return fmt.Errorf("bench: %s: len(y)=%d, want %d", r.p.Kernel().Info().ID, len(y), r.rows)
	}
	r.cur = r.next
	r.next = (r.next + 1) % len(r.ins)
	if err := r.load(x); err != nil {
		return err
	}
	r.y = y
	r.pending.Store(int32(len(r.workers)))
	r.seq.Add(1) // publishes y and pending to the workers
	for _, w := range r.workers {
		if w.sleeping.Load() {
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
	}
	err := r.run(y, r.ranges[0])
	for i := 0; r.pending.Load() != 0; i++ {
		if i%r.yield == r.yield-1 {
			runtime.Gosched()
		}
	}
	r.y = nil
	for _, w := range r.workers {
		if w.err != nil && err == nil {
			err = w.err
		}
	}
	return err
}

// run computes one range, turning a kernel panic into an error so that a
// broken kernel fails its benchmark instead of killing the process from a
// worker goroutine.
func (r *Runner) load(x []float32) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("bench: %s panicked loading x: %v", r.p.Kernel().Info().ID, p)
		}
	}()
	return r.ins[r.cur].Load(x)
}

func (r *Runner) run(y []float32, rg [2]int) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("bench: %s panicked on rows [%d, %d): %v", r.p.Kernel().Info().ID, rg[0], rg[1], p)
		}
	}()
	if err := r.ins[r.cur].GEMV(y, rg[0], rg[1]); err != nil {
		return fmt.Errorf("bench: rows [%d, %d): %w", rg[0], rg[1], err)
	}
	return nil
}

func (r *Runner) work(w *worker) {
	defer r.exited.Done()
	var last uint64
	for {
		seq := r.wait(w, last)
		if r.stop.Load() {
			return
		}
		last = seq
		w.err = r.run(r.y, w.rg)
		r.pending.Add(-1)
	}
}

// wait returns once seq has moved past last (or the runner stops): it polls
// for spinFor, then parks on the worker's wake channel.
func (r *Runner) wait(w *worker, last uint64) uint64 {
	deadline := time.Now().Add(spinFor)
	for i := 0; ; i++ {
		if s := r.seq.Load(); s != last || r.stop.Load() {
			return s
		}
		if i%r.yield == r.yield-1 {
			if time.Now().After(deadline) {
				break
			}
			runtime.Gosched()
		}
	}
	for {
		w.sleeping.Store(true)
		// Check again after announcing the sleep: GEMV bumps seq before it
		// looks at sleeping, so one of the two sees the other.
		if s := r.seq.Load(); s != last || r.stop.Load() {
			w.sleeping.Store(false)
			select { // drop a wake-up that may have raced in
			case <-w.wake:
			default:
			}
			return s
		}
		<-w.wake
		w.sleeping.Store(false)
	}
}

// Close stops the worker goroutines and waits for them to exit. It is safe
// to call more than once; GEMV fails after it.
func (r *Runner) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.stop.Store(true)
	for _, w := range r.workers {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	r.exited.Wait()
	return nil
}
