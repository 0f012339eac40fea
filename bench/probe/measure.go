package probe

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"
)

// A readLoop reads n bytes at p reps times and returns a checksum.
type readLoop struct {
	width string // "ymm", "zmm", "neon"
	isa   string
	instr string
	avail func() error
	run   func(p *byte, n, reps int) uint64
}

// A computeLoop runs n iterations of an unrolled instruction block and
// returns the operations it did.
type computeLoop struct {
	name, kind, isa, instr, unit string
	avail                        func() error
	run                          func(n int) int
}

func readLoops() []readLoop { return archRead() }

func computeLoops() []computeLoop { return append(archCompute(), goLoops()...) }

// widestRead returns the last available read loop (the loops are listed
// narrow to wide).
func widestRead() (readLoop, bool) {
	ls := readLoops()
	for i := len(ls) - 1; i >= 0; i-- {
		if ls[i].avail() == nil {
			return ls[i], true
		}
	}
	return readLoop{}, false
}

// timer times loops: samples runs of about target each.
type timer struct {
	target  time.Duration
	samples int
}

func newTimer(quick bool) timer {
	if quick {
		return timer{target: 2 * time.Millisecond, samples: 2}
	}
	return timer{target: 10 * time.Millisecond, samples: 9}
}

// A job is one figure being measured: sample times one run and returns
// its rate in units of 1e9 per second. Run interleaves the samples of all
// jobs, so that a burst of load from other processes spoils one sample of
// many figures rather than every sample of one.
type job struct {
	fig    Figure
	sample func() float64
	rates  []float64
}

// finish computes the figure from the samples taken.
func (j *job) finish() Figure {
	f := j.fig
	if f.Unavailable == "" {
		f.Best, f.Median = bestMedian(j.rates)
		f.Samples = len(j.rates)
	}
	return f
}

// compute prepares a compute loop: it finds the iteration count that takes
// about t.target; each sample runs it on one locked OS thread.
func (t timer) compute(l computeLoop) *job {
	j := &job{fig: Figure{Name: l.name, Kind: l.kind, ISA: l.isa, Instr: l.instr, Threads: 1, Unit: l.unit}}
	if err := l.avail(); err != nil {
		j.fig.Unavailable = err.Error()
		return j
	}
	runtime.LockOSThread()
	// Grow n until a run takes an eighth of the target, then scale it up.
	n := 16
	var d time.Duration
	for {
		start := time.Now()
		l.run(n)
		d = time.Since(start)
		if d >= t.target/8 || n >= 1<<40 {
			break
		}
		n *= 2
	}
	runtime.UnlockOSThread()
	n = max(1, int(float64(n)*float64(t.target)/float64(max(d, time.Microsecond))))
	j.sample = func() float64 {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var ops int
		d := timeThread(func() { ops = l.run(n) })
		return float64(ops) / max(d.Seconds(), 1e-9) / 1e9
	}
	return j
}

// read prepares a read loop over size bytes of buf, split evenly between
// threads goroutines. Each sample starts them (each on its own locked OS
// thread, its share read once to warm caches and TLB) together and divides
// the bytes all of them read by the wall time. A single thread is timed
// like the compute loops (timeThread).
func (t timer) read(l readLoop, buf []byte, size int64, threads int) *job {
	j := &job{fig: Figure{
		Name: fmt.Sprintf("read %s %s", l.width, sizeName(size)), Kind: KindRead, ISA: l.isa,
		Instr: l.instr, WorkingSet: size, Threads: threads, Unit: "GB/s",
	}}
	if err := l.avail(); err != nil {
		j.fig.Unavailable = err.Error()
		return j
	}
	share := size / int64(threads) / readBlock * readBlock
	if share <= 0 || int64(threads)*share > int64(len(buf)) {
		j.fig.Unavailable = fmt.Sprintf("working set %d B does not fit %d threads x %d-byte blocks in the %d-byte buffer", size, threads, readBlock, len(buf))
		return j
	}
	part := func(i int) *byte { return &buf[int64(i)*share] }

	// Find how many passes make a sample.
	runtime.LockOSThread()
	l.run(part(0), int(share), 1)
	start := time.Now()
	sink ^= l.run(part(0), int(share), 1)
	d := time.Since(start)
	runtime.UnlockOSThread()
	reps := max(1, int((t.target+d-1)/max(d, time.Microsecond)))

	sums := make([]uint64, threads)
	if threads == 1 {
		j.sample = func() float64 {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			l.run(part(0), int(share), 1) // warm caches and TLB
			d := timeThread(func() { sums[0] ^= l.run(part(0), int(share), reps) })
			sink ^= sums[0]
			return float64(share) * float64(reps) / max(d.Seconds(), 1e-9) / 1e9
		}
		return j
	}
	j.sample = func() float64 {
		var ready, done sync.WaitGroup
		begin := make(chan struct{})
		ready.Add(threads)
		done.Add(threads)
		for i := range threads {
			go func() {
				defer done.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				l.run(part(i), int(share), 1) // bring this thread's share into its caches
				ready.Done()
				<-begin
				sums[i] ^= l.run(part(i), int(share), reps)
			}()
		}
		ready.Wait()
		start := time.Now()
		close(begin)
		done.Wait()
		d := time.Since(start)
		for _, s := range sums {
			sink ^= s
		}
		bytes := float64(share) * float64(threads) * float64(reps)
		return bytes / max(d.Seconds(), 1e-9) / 1e9
	}
	return j
}

// timeThread times f on the calling (locked) OS thread by its CPU time
// where the OS gives it (see threadClock), else by wall time.
func timeThread(f func()) time.Duration {
	if t0, ok := threadClock(); ok {
		f()
		if t1, ok := threadClock(); ok && t1 > t0 {
			return time.Duration(t1 - t0)
		}
	}
	start := time.Now()
	f()
	return time.Since(start)
}

// sink keeps the read checksums alive.
var sink uint64

func bestMedian(rs []float64) (best, median float64) {
	s := append([]float64(nil), rs...)
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return 0, 0
	}
	median = s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return s[n-1], median
}

// newBuffer returns size bytes, every page written, in a pattern that does
// not sum to zero.
func newBuffer(size int64) []byte {
	b := make([]byte, size)
	n := min(len(b), 4093) // a prime period, so 64-bit lanes differ
	for i := range n {
		b[i] = byte(i*131 + i>>7)
	}
	for i := n; i < len(b); i += n {
		copy(b[i:], b[:n])
	}
	return b
}

// sizeName returns "32KiB", "4MiB", "128MiB" or a byte count.
func sizeName(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}
