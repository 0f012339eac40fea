package probe

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"
)

// readBlock is the byte count one iteration of every read loop covers; read
// sizes are multiples of it (the amd64 generator uses the same constant).
const readBlock = 1024

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
	return timer{target: 20 * time.Millisecond, samples: 7}
}

// compute measures a compute loop on one locked OS thread.
func (t timer) compute(l computeLoop) Figure {
	f := Figure{Name: l.name, Kind: l.kind, ISA: l.isa, Instr: l.instr, Threads: 1, Unit: l.unit}
	if err := l.avail(); err != nil {
		f.Unavailable = err.Error()
		return f
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
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
	n = max(1, int(float64(n)*float64(t.target)/float64(max(d, time.Microsecond))))
	rates := make([]float64, 0, t.samples)
	for range t.samples {
		start := time.Now()
		ops := l.run(n)
		d := time.Since(start)
		rates = append(rates, float64(ops)/max(d.Seconds(), 1e-9)/1e9)
	}
	f.Best, f.Median = bestMedian(rates)
	f.Samples = len(rates)
	return f
}

// read measures a read loop over size bytes of buf, split evenly between
// threads goroutines (each on its own locked OS thread, started together);
// the rate is the bytes all of them read over the wall time.
func (t timer) read(l readLoop, buf []byte, size int64, threads int) Figure {
	f := Figure{
		Name: fmt.Sprintf("read %s %s", l.width, sizeName(size)), Kind: KindRead, ISA: l.isa,
		Instr: l.instr, WorkingSet: size, Threads: threads, Unit: "GB/s",
	}
	if err := l.avail(); err != nil {
		f.Unavailable = err.Error()
		return f
	}
	share := size / int64(threads) / readBlock * readBlock
	if share <= 0 || int64(threads)*share > int64(len(buf)) {
		f.Unavailable = fmt.Sprintf("working set %d B does not fit %d threads x %d-byte blocks in the %d-byte buffer", size, threads, readBlock, len(buf))
		return f
	}
	part := func(i int) *byte { return &buf[int64(i)*share] }

	// Warm up (caches, TLB) and find how many passes make a sample.
	runtime.LockOSThread()
	start := time.Now()
	sum := l.run(part(0), int(share), 1)
	d := time.Since(start)
	runtime.UnlockOSThread()
	reps := max(1, int((t.target+d-1)/max(d, time.Microsecond)))

	rates := make([]float64, 0, t.samples)
	sums := make([]uint64, threads)
	for range t.samples {
		var ready, done sync.WaitGroup
		begin := make(chan struct{})
		ready.Add(threads)
		done.Add(threads)
		for i := range threads {
			go func() {
				defer done.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				if threads > 1 {
					l.run(part(i), int(share), 1) // bring this thread's share into its caches
				}
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
		bytes := float64(share) * float64(threads) * float64(reps)
		rates = append(rates, bytes/max(d.Seconds(), 1e-9)/1e9)
	}
	for _, s := range sums {
		sum ^= s
	}
	sink = sum
	f.Best, f.Median = bestMedian(rates)
	f.Samples = len(rates)
	return f
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
