package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/perf/benchmath"

	"github.com/qkbench/qkbench/bench/probe"
	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/reports"
	"github.com/qkbench/qkbench/workloads"
)

// SweepWorkload is one workload of a sweep, with its place in a model.
// Either W is set, or Load builds it when the sweep gets to it (and the
// sweep drops it after), so that a sweep holds one workload at a time.
type SweepWorkload struct {
	W    *workloads.Workload
	Load func() (*workloads.Workload, error)
	Info reports.WorkloadInfo
}

// workload returns W, or what Load builds (ErrInterrupted if ctx ends first).
func (sw SweepWorkload) workload(ctx context.Context) (*workloads.Workload, error) {
	if sw.W != nil || sw.Load == nil {
		return sw.W, nil
	}
	var w *workloads.Workload
	err := interruptible(ctx, func() (err error) {
		w, err = sw.Load()
		if err != nil {
			err = fmt.Errorf("workload %s: %w", sw.Info.Name, err)
		}
		return err
	})
	return w, err
}

// Sweep is what the sweep engine measures: every kernel × workload × thread
// count, each agreement-checked first, then timed in samples interleaved
// round-robin across the kernels of a workload so that drift on a shared
// machine hits every kernel alike.
type Sweep struct {
	Kernels   []kernels.Kernel
	Workloads []SweepWorkload
	Threads   []int
	Count     int           // samples per cell; default 10
	MinTime   time.Duration // work per sample; default 50 ms
	// Passes splits the Count rounds into this many passes over all the
	// workloads (--rounds), so that a cell's samples spread over the whole
	// run and its interval includes slow drift; default 1.
	Passes int
	// Resample is how many extra rounds a workload may take, after its
	// last pass, for the cells whose samples are Unstable (and the cells
	// their ratios pair with); 0 takes none.
	Resample int
	// OrderSeed seeds the random order of the cells within each round.
	OrderSeed uint64
	// SliceTime is the length of one slice of a sample (take, Sliced);
	// default 2 ms, negative to take each sample whole.
	SliceTime time.Duration
	// CPUClock returns this process's CPU time in seconds (ProcessCPU when
	// nil); a negative value means unknown, and no sample is then called
	// disturbed.
	CPUClock  func() float64
	Cold      bool  // rotate through copies of W larger than ColdBytes
	ColdBytes int64 // total size of the rotated copies; default 4 × L3 (at least 64 MiB)
	L3        int64 // last-level cache size, for the ColdBytes default
	// CheckOnly checks every cell's agreement and times nothing (qkbench
	// check): a cell that agrees is StatusOK without samples.
	CheckOnly bool
	// Refused names kernels not to run, with the reason (a plugin kernel
	// that crashed in the conformance suite would take this process along):
	// their cells are StatusFailed with it.
	Refused map[string]string
	// Machine gives each cell its roofline floor (docs/format.md §5); nil for none.
	Machine *probe.Result

	// Progress, when set, is told of each finished sample or skipped cell.
	Progress func(done, total int, what string)
	// Finished, when set, is called after each workload with the run so far
	// (its cells all finished); the command writes its files there, so an
	// interrupted run keeps everything it finished.
	Finished func(run *reports.Run) error
	// Profile, when set, wraps every timed sample of a cell (for per-cell
	// CPU profiles); it must call f and return its result.
	Profile func(c *reports.Cell, f func() error) error
}

// Steps returns the number of progress steps a sweep reports.
func (s *Sweep) Steps() int {
	n := 0
	for p := range s.passes() {
		n += s.cellSteps(p)
	}
	return len(s.Kernels) * len(s.Workloads) * len(s.Threads) * n
}

// cellSteps is the progress steps of one cell in pass p: its check and
// calibration, and each sample of the pass.
func (s *Sweep) cellSteps(p int) int {
	if s.CheckOnly {
		return 1
	}
	return s.passCount(p) + 2
}

func (s *Sweep) count() int {
	if s.Count <= 0 {
		return 10
	}
	return s.Count
}

func (s *Sweep) minTime() time.Duration {
	if s.MinTime <= 0 {
		return 50 * time.Millisecond
	}
	return s.MinTime
}

// ErrInterrupted is returned when the context ends a sweep early; the run
// then holds the workloads finished before it.
var ErrInterrupted = errors.New("bench: sweep interrupted")

// interruptible runs f (a Prepare, or a check that computes the reference
// outputs: seconds on a large matrix) and returns its error, or
// ErrInterrupted as soon as ctx ends. f then finishes in the background;
// what it returns is dropped.
func interruptible(ctx context.Context, f func() error) error {
	if ctx.Err() != nil {
		return ErrInterrupted
	}
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ErrInterrupted
	}
}

// cell is one kernel × workload × threads being measured.
type cell struct {
	out    *reports.Cell
	runner *Runner // rotates through the copies of W in cold mode
	mode   kernels.Mode
	iters  int
}

// Run measures every cell and appends them, workload by workload, to run.
// With Passes > 1 it goes over the workloads again (preparing each anew),
// adding samples to the cells of the first pass.
func (s *Sweep) Run(ctx context.Context, run *reports.Run) error {
	done, total := 0, s.Steps()
	step := func(n int, what string) {
		done += n
		if s.Progress != nil {
			s.Progress(done, total, what)
		}
	}
	passes := s.passes()
	first := map[string]int{}     // cell key -> index in run.Cells
	nextRound := map[string]int{} // workload -> its next round number
	for pass := range passes {
		for wi, sw := range s.Workloads {
			if err := ctx.Err(); err != nil {
				return ErrInterrupted
			}
			w, err := sw.workload(ctx)
			if err != nil {
				return err
			}
			earlier := map[string]*reports.Cell{}
			if pass > 0 {
				for k, i := range first {
					earlier[k] = &run.Cells[i]
				}
			}
			cells, cleanup, err := s.prepareWorkload(ctx, w, pass, earlier, step)
			if err == nil && !s.CheckOnly {
				rng := rand.New(rand.NewPCG(s.OrderSeed, uint64(wi)<<8|uint64(pass)))
				m := &measurement{s: s, x: w.X, step: step, rng: rng, round: nextRound[w.Name]}
				err = m.rounds(ctx, cells, s.passCount(pass), pass == passes-1)
				nextRound[w.Name] = m.round
			}
			cleanup()
			if err != nil {
				return err
			}
			for _, c := range cells {
				key := cellKey(c.out)
				if i, ok := first[key]; ok {
					run.Cells[i] = *c.out
					continue
				}
				first[key] = len(run.Cells)
				run.Cells = append(run.Cells, *c.out)
			}
			if s.Finished != nil {
				if err := s.Finished(run); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func cellKey(c *reports.Cell) string { return fmt.Sprintf("%s/%s/%d", c.Kernel, c.Workload, c.Threads) }

func (s *Sweep) passes() int { return min(max(s.Passes, 1), s.count()) }

// passCount is how many of the Count rounds pass p takes.
func (s *Sweep) passCount(p int) int {
	n := s.passes()
	c := s.count() / n
	if p < s.count()%n {
		c++
	}
	return c
}

// prepareWorkload prepares, checks and calibrates every cell of one
// workload. Cells that cannot be timed carry their status and no runner.
//
// earlier holds the cells of an earlier pass by cellKey: a cell found
// there keeps its samples and its iterations per sample (no calibration).
func (s *Sweep) prepareWorkload(ctx context.Context, w *workloads.Workload, pass int, earlier map[string]*reports.Cell, step func(int, string)) ([]*cell, func(), error) {
	var cells []*cell
	cleanup := func() {
		for _, c := range cells {
			if c.runner != nil {
				c.runner.Close()
			}
		}
	}
	expect := &Case{W: w}
	copies := 1
	if s.Cold {
		total := s.ColdBytes
		if total <= 0 {
			total = max(4*s.L3, 64<<20)
		}
		copies = ColdCopies(w.M.WeightBytes(), total)
	}
	mats := []*kernels.Matrix{w.M}
	for len(mats) < copies {
		mats = append(mats, w.M.Clone())
	}
	for _, k := range s.Kernels {
		info := k.Info()
		base := reports.Cell{
			Kernel: info.ID, Workload: w.Name, Shape: w.M.Shape(), Rows: w.M.Rows, Cols: w.M.Cols,
			Mode: map[bool]string{false: "hot", true: "cold"}[s.Cold], WeightBytes: w.M.WeightBytes(), MACs: w.M.MACs(),
		}
		skip := func(status, reason string) {
			for _, th := range s.Threads {
				c := base
				c.Threads, c.Status, c.Reason = th, status, reason
				cells = append(cells, &cell{out: &c})
				step(s.cellSteps(pass), info.ID+" "+status)
			}
		}
		if why, ok := s.Refused[info.ID]; ok {
			skip(reports.StatusFailed, why)
			continue
		}
		if status, reason := Runnable(k, w.M.Codebook); status != "" {
			skip(status, reason)
			continue
		}
		var preps []kernels.Prepared
		var prepErr error
		t0 := time.Now()
		for _, m := range mats {
			var p kernels.Prepared
			err := interruptible(ctx, func() (err error) { p, err = Prepare(k, m); return err })
			if errors.Is(err, ErrInterrupted) {
				return cells, cleanup, err
			}
			if err != nil {
				prepErr = err
				break
			}
			preps = append(preps, p)
		}
		prepSec := time.Since(t0).Seconds() / float64(len(mats))
		if prepErr != nil {
			skip(reports.StatusError, prepErr.Error())
			continue
		}
		for _, th := range s.Threads {
			if err := ctx.Err(); err != nil {
				return cells, cleanup, ErrInterrupted
			}
			c := &cell{out: new(reports.Cell), mode: info.Mode}
			*c.out = base
			c.out.Threads, c.out.PrepareSeconds = th, prepSec
			prev := earlier[cellKey(c.out)]
			if prev != nil && prev.Status == reports.StatusOK {
				*c.out = *prev // its samples so far; checked again below
				c.out.Status = ""
			}
			cells = append(cells, c)
			r, err := NewRotatingRunner(preps, th)
			if err != nil {
				c.out.Status, c.out.Reason = reports.StatusError, err.Error()
				step(s.cellSteps(pass), info.ID+" error")
				continue
			}
			c.runner = r
			c.out.ActiveThreads = r.Threads()
			// Agreement first, on every copy: a kernel that disagrees is
			// reported, not timed.
			for range preps {
				var a kernels.Agreement
				err := interruptible(ctx, func() (err error) { a, err = Verify(r, expect); return err })
				if errors.Is(err, ErrInterrupted) {
					c.runner = nil // may still be in use: left to the process's end
					return cells, cleanup, err
				}
				if a.Rows > 0 {
					c.out.Agreement = &a
				}
				if err != nil {
					c.out.Status, c.out.Reason = reports.StatusError, err.Error()
					if a.Rows > 0 && !a.Pass {
						c.out.Status, c.out.Reason = reports.StatusFailed, a.Why
					}
					break
				}
			}
			if c.out.Status != "" {
				step(s.cellSteps(pass), info.ID+" "+c.out.Status)
				continue
			}
			if s.CheckOnly {
				c.out.Status = reports.StatusOK
				step(s.cellSteps(pass), info.ID+" agreed")
				continue
			}
			if prev != nil && prev.Iterations > 0 {
				c.iters = prev.Iterations
				c.out.Status = reports.StatusOK
				step(2, info.ID+" checked")
				continue
			}
			y := make([]float32, w.M.Rows)
			if err := s.calibrate(ctx, c, w.X, y); errors.Is(err, ErrInterrupted) {
				return cells, cleanup, err
			} else if err != nil {
				c.out.Status, c.out.Reason = reports.StatusError, err.Error()
				step(s.cellSteps(pass), info.ID+" error")
				continue
			}
			c.out.Status = reports.StatusOK
			step(2, info.ID+" calibrated")
		}
	}
	return cells, cleanup, nil
}

// ColdCopies returns how many copies of a matrix of size bytes add up to at
// least total bytes (at least 2, so consecutive GEMVs never reuse W).
func ColdCopies(size, total int64) int {
	n := (total + size - 1) / size
	return int(min(max(n, 2), 4096))
}

// calibrate picks the iterations per sample so that one sample takes at
// least MinTime, then runs one untimed sample as warm-up.
func (s *Sweep) calibrate(ctx context.Context, c *cell, x, y []float32) error {
	n := 1
	for {
		d, err := c.time(ctx, n, x, y)
		if err != nil {
			return err
		}
		if d >= s.minTime() || n >= 1<<30 {
			break
		}
		// Aim 20% past MinTime; grow at most 100× per round.
		next := int(float64(n) * 1.2 * float64(s.minTime()) / math.Max(float64(d), 1))
		n = min(max(next, n+1), n*100)
	}
	c.iters = n
	c.out.Iterations = n
	_, err := c.time(ctx, n, x, y)
	return err
}

// time runs n GEMVs (the runner rotates copies in cold mode) and returns the
// elapsed time, or ErrInterrupted as soon as ctx ends.
func (c *cell) time(ctx context.Context, n int, x, y []float32) (time.Duration, error) {
	t0 := time.Now()
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			return 0, ErrInterrupted
		}
		if err := c.runner.GEMV(x, y); err != nil {
			return 0, err
		}
	}
	return time.Since(t0), nil
}

// MinCPUShare is the share of a sample's elapsed time × its threads that
// the process must spend on the CPU; below it the sample was disturbed
// (descheduled: another process had the core) and is taken again.
const MinCPUShare = 0.97

// sampleTries is how often a disturbed sample is taken at most.
const sampleTries = 3

// measurement takes the rounds of one workload.
type measurement struct {
	s     *Sweep
	x     []float32
	y     []float32
	step  func(int, string)
	rng   *rand.Rand
	round int // the number of the next round
}

// rounds takes n rounds of every timed cell, each round in a fresh random
// order; with last, it then takes up to Resample more rounds of the cells
// that are Unstable and of the cells their ratios pair with. It summarises
// every cell, also when interrupted.
func (m *measurement) rounds(ctx context.Context, cells []*cell, n int, last bool) error {
	var timed []*cell
	for _, c := range cells {
		if c.out.Status == reports.StatusOK {
			timed = append(timed, c)
		}
	}
	if len(timed) == 0 {
		return nil
	}
	m.y = make([]float32, timed[0].out.Rows)
	for range n {
		if err := m.take(ctx, timed, false); err != nil {
			return err
		}
	}
	// Every pass ends with its cells summarised: the command writes the
	// run after each workload of each pass, and an interrupted run keeps
	// the samples of the passes it finished.
	defer func() {
		for _, c := range timed {
			if c.out.Status == reports.StatusOK {
				m.s.summarise(c.out, c.mode, c.runner.Copies())
			}
		}
	}()
	if !last {
		return nil
	}
	for range m.s.Resample {
		var again []*cell
		for _, c := range timed {
			if c.out.Status == reports.StatusOK && m.s.unstable(c) != "" {
				again = append(again, c)
			}
		}
		if len(again) == 0 {
			break
		}
		for _, c := range timed {
			if !slices.Contains(again, c) && pairsWith(c, again) {
				again = append(again, c)
			}
		}
		if err := m.take(ctx, again, true); err != nil {
			return err
		}
	}
	return nil
}

// pairsWith reports whether a ratio of one of the cells is taken against c:
// c is a peer or a portable Go baseline with the same threads, or the same
// kernel's cell with another thread count.
func pairsWith(c *cell, cells []*cell) bool {
	for _, u := range cells {
		if u.out.Threads == c.out.Threads && (c.mode == kernels.Peer || c.out.Kernel == reports.Baseline(u.mode.String())) ||
			u.out.Kernel == c.out.Kernel && u.out.Threads != c.out.Threads {
			return true
		}
	}
	return false
}

// take samples every cell once as round m.round. Each sample is taken in
// slices (Sweep.slices) and the cells' slices are interleaved, each step
// of the round in a fresh random order: every sample then spreads over the
// whole round, and a change of the host's speed that lasts a second or so
// (some cloud hosts flip between states ~20% apart) hits every cell of
// the round alike instead of the few whose turn it was.
func (m *measurement) take(ctx context.Context, cells []*cell, resample bool) error {
	var live []*cell
	for _, c := range cells {
		if c.out.Status == reports.StatusOK {
			live = append(live, c)
		}
	}
	steps := 1
	warm := make([]bool, len(live))
	for i, c := range live {
		var n int
		n, warm[i] = m.s.slices(c)
		steps = max(steps, n)
	}
	acc := make([]sliced, len(live))
	order := make([]int, len(live))
	for i := range order {
		order[i] = i
	}
	for k := range steps {
		m.rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			c, a := live[i], &acc[i]
			if ctx.Err() != nil {
				return ErrInterrupted
			}
			if c.out.Status != reports.StatusOK {
				continue // an error in an earlier slice
			}
			// Run the iterations due by the end of step k, once enough of
			// them are due (or it is the last step), so that a slower
			// cell's fewer slices spread over the round too.
			due := c.iters*(k+1)/steps - a.iters
			if due <= 0 || warm[i] && due < minSliceIters && k < steps-1 {
				continue
			}
			if err := m.slice(ctx, c, a, due, warm[i]); errors.Is(err, ErrInterrupted) {
				return err
			} else if err != nil {
				c.out.Status, c.out.Reason = reports.StatusError, err.Error()
			}
		}
	}
	for i, c := range live {
		if c.out.Status != reports.StatusOK {
			continue
		}
		a, o := &acc[i], c.out
		if a.cpu >= 0 && a.cpu < MinCPUShare*a.wall*c.par() {
			o.Disturbed = append(o.Disturbed, len(o.Samples))
		}
		o.Samples = append(o.Samples, a.wall/float64(a.iters))
		o.SampleRounds = append(o.SampleRounds, m.round)
		o.SliceSeconds = append(o.SliceSeconds, a.times)
		o.Retakes += a.retakes
		if resample {
			o.Resampled++
		} else {
			m.step(1, o.Kernel)
		}
	}
	m.round++
	return nil
}

// par is how many threads c's GEMVs keep busy at once: its CPU time per
// second of an undisturbed sample.
func (c *cell) par() float64 {
	return float64(min(max(c.out.ActiveThreads, 1), runtime.GOMAXPROCS(0)))
}

// minSliceIters is the fewest GEMVs in a slice of a sample (but the last)
// of a cell whose GEMV is shorter than a slice: each such slice starts with
// an untimed GEMV (see slice), and this keeps that to an eighth.
const minSliceIters = 8

// sliced is what the slices of one sample add up to.
type sliced struct {
	iters     int
	wall, cpu float64 // seconds; cpu < 0: unknown
	retakes   int
	times     []float64 // seconds per GEMV of each slice kept (reports.Cell.SliceSeconds)
}

// Sliced returns the length of the slices samples are taken in; 0 when
// they are taken whole: a negative SliceTime, a SliceTime of MinTime/2 or
// more, or a profile (a CPU profile of 2 ms holds nothing).
func (s *Sweep) Sliced() time.Duration {
	st := s.SliceTime
	if st == 0 {
		st = 2 * time.Millisecond
	}
	if s.Profile != nil || st < 0 || s.minTime()/st < 2 {
		return 0
	}
	return st
}

// slices returns how many slices a sample of c is taken in, and whether
// each slice starts with an untimed GEMV: one slice per Sliced of
// MinTime; a cell whose GEMV takes a slice or longer, one GEMV per slice
// and no warm-up (the caches refill in a small part of such a GEMV);
// otherwise at least minSliceIters GEMVs per slice, each slice warmed up.
func (s *Sweep) slices(c *cell) (n int, warm bool) {
	st := s.Sliced()
	if st == 0 {
		return 1, false
	}
	n = int(s.minTime() / st)
	if c.iters <= n {
		return c.iters, false
	}
	return max(1, min(n, c.iters/minSliceIters)), !s.Cold
}

// slice times n GEMVs of c and adds them to a, taking them again up to
// sampleTries times while the process was descheduled during them. With
// warm, one untimed GEMV goes first: the other cells' slices since this
// cell's last one may have pushed its W out of the caches.
func (m *measurement) slice(ctx context.Context, c *cell, a *sliced, n int, warm bool) error {
	if warm {
		if _, err := c.time(ctx, 1, m.x, m.y); err != nil {
			return err
		}
	}
	par := c.par()
	clock := m.s.CPUClock
	if clock == nil {
		clock = ProcessCPU
	}
	for try := range sampleTries {
		var d time.Duration
		cpu0 := clock()
		f := func() error {
			var err error
			d, err = c.time(ctx, n, m.x, m.y)
			return err
		}
		var err error
		if m.s.Profile != nil {
			err = m.s.Profile(c.out, f)
		} else {
			err = f()
		}
		if err != nil {
			return err
		}
		cpu1 := clock()
		disturbed := cpu0 >= 0 && cpu1 >= 0 && cpu1-cpu0 < MinCPUShare*d.Seconds()*par
		if disturbed && try < sampleTries-1 {
			a.retakes++
			continue
		}
		a.iters += n
		a.wall += d.Seconds()
		a.times = append(a.times, reports.Round6(d.Seconds()/float64(n)))
		if cpu0 < 0 || cpu1 < 0 || a.cpu < 0 {
			a.cpu = -1
		} else {
			a.cpu += cpu1 - cpu0
		}
		return nil
	}
	panic("unreachable")
}

// unstable judges a cell's undisturbed samples (Unstable).
func (s *Sweep) unstable(c *cell) string {
	v := c.out.CleanSamples()
	if len(v) < 6 {
		return ""
	}
	sum := benchmath.AssumeNothing.Summary(benchmath.NewSample(v, &benchmath.DefaultThresholds), 0.95)
	return Unstable(v, sum.Center, sum.Lo, sum.Hi)
}

// summarise fills the median, its 95% interval, the stability verdict and
// the derived rates, from the samples that were not disturbed.
func (s *Sweep) summarise(c *reports.Cell, mode kernels.Mode, copies int) {
	v := c.CleanSamples()
	sample := benchmath.NewSample(v, &benchmath.DefaultThresholds)
	sum := benchmath.AssumeNothing.Summary(sample, 0.95)
	c.Median, c.Low, c.High, c.Confidence = sum.Center, sum.Lo, sum.Hi, sum.Confidence
	if math.IsInf(c.Low, 0) || math.IsInf(c.High, 0) {
		// Too few samples for a 95% interval of the median (benchmath needs 6).
		c.Low, c.High, c.Confidence = 0, 0, 0
	}
	c.Unstable = Unstable(v, c.Median, c.Low, c.High)
	if n := len(c.Disturbed); 2*n > len(c.Samples) {
		why := fmt.Sprintf("%d of its %d samples were disturbed (another process had the core)", n, len(c.Samples))
		c.Unstable = strings.TrimPrefix(c.Unstable+"; "+why, "; ")
	}
	c.Quiet = c.QuietTime()
	c.GBps = float64(c.WeightBytes) / c.Median / 1e9
	c.GMACps = float64(c.MACs) / c.Median / 1e9
	if f := Floor(s.Machine, c, mode, copies); f > 0 {
		c.FloorSeconds = f
		c.Roofline = f / c.Median
	}
}

// Floor is docs/format.md §5's lower bound on a cell's time, from the machine probe:
// max(weight bytes / read bandwidth over the working set (all rotated copies
// in cold mode) with the threads that got rows, MACs / the machine's best
// MAC rate for the kernel's mode on those threads). 0 without a probe.
func Floor(m *probe.Result, c *reports.Cell, mode kernels.Mode, copies int) float64 {
	if m == nil {
		return 0
	}
	b, err := m.Bound(probe.Work{WeightBytes: c.WeightBytes, MACs: c.MACs, Mode: mode.String(),
		Threads: max(c.ActiveThreads, 1), WorkingSet: c.WeightBytes * int64(max(copies, 1))})
	if err != nil {
		return 0
	}
	return b.Floor.Seconds()
}

// String describes a sweep's size for logs.
func (s *Sweep) String() string {
	return fmt.Sprintf("%d kernels × %d workloads × %d thread counts × %d samples of >= %v", len(s.Kernels), len(s.Workloads), len(s.Threads), s.count(), s.minTime())
}
