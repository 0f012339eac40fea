// Package probe measures the machine qkbench runs on: read bandwidth at
// several working-set sizes, peak int8 MAC and f32 FMA rates and the clock,
// each with a small assembly loop (docs/format.md §5). Its figures give every GEMV
// result a roofline: the floor max(weightBytes/bandwidth, MACs/peak) and
// the fraction of it a kernel reaches.
//
// Measuring takes a few seconds, so Cached keeps the result per machine in
// os.UserCacheDir()/qkbench/machine-<key>.json. Where this build has no
// assembly for the CPU (purego, a GOARCH other than amd64 and arm64) or the
// CPU lacks an instruction, that figure is reported unavailable with the
// reason; nothing is estimated in its place. The plain-Go MAC loops (ISA
// "go") run everywhere.
package probe

import (
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"
	"strings"
	"time"
)

//go:generate sh -c "cd ../../kernels/_gen && go run ./probe -arch amd64"
//go:generate sh -c "cd ../../kernels/_gen && go run ./probe -arch arm64"

// FormatVersion changes when the JSON form or what is measured changes; a
// cached file of another version is measured again.
const FormatVersion = 1

// Kinds of figure.
const (
	KindRead  = "read"  // bytes read per second (Unit GB/s)
	KindInt8  = "int8"  // int8 multiply-accumulates per second (GMAC/s)
	KindF32   = "f32"   // f32 fused multiply-adds per second (GFMA/s)
	KindClock = "clock" // dependent adds per second, one per cycle (GHz)
)

// Figure is one measured rate.
type Figure struct {
	Name  string `json:"name"`  // e.g. "read zmm 1MiB", "VPDPBUSD zmm"
	Kind  string `json:"kind"`  // KindRead, KindInt8, KindF32 or KindClock
	ISA   string `json:"isa"`   // what the loop needs: "avx2", "avx512vnni", "neon+dotprod", "go", ...
	Instr string `json:"instr"` // the instructions timed
	// WorkingSet is, for reads, the bytes read over and over (all threads together).
	WorkingSet int64  `json:"working_set_bytes,omitempty"`
	Threads    int    `json:"threads"`
	Unit       string `json:"unit"` // "GB/s", "GMAC/s", "GFMA/s" or "GHz"
	// Best and Median are over Samples timed runs, in Unit (1e9 per second).
	Best    float64 `json:"best"`
	Median  float64 `json:"median"`
	Samples int     `json:"samples"`
	// Unavailable says why the figure was not measured; Best and Median are 0.
	Unavailable string `json:"unavailable,omitempty"`
}

// Ok reports whether f was measured.
func (f Figure) Ok() bool { return f.Unavailable == "" && f.Best > 0 }

// Rate returns the figure's best rate per second (bytes, MACs, FMAs or adds),
// or 0 when it was not measured.
func (f Figure) Rate() float64 {
	if !f.Ok() {
		return 0
	}
	return f.Best * 1e9
}

// Caches are the data cache sizes, in bytes (0 when unknown), as
// machine.Hardware finds them (sysfs, else cpuid).
type Caches struct {
	L1D int64 `json:"l1d"`
	L2  int64 `json:"l2"`
	L3  int64 `json:"l3"`
}

// Last returns the last-level cache size (0 when none is known).
func (c Caches) Last() int64 {
	return max(c.L1D, c.L2, c.L3)
}

// Point is one read bandwidth measurement: bytes per second at a working set.
type Point struct {
	WorkingSet  int64   `json:"working_set_bytes"`
	BytesPerSec float64 `json:"bytes_per_sec"`
	Figure      string  `json:"figure"` // the Figure it comes from
}

// Result is what Run measured, with enough about the machine to tell
// whether a cached copy still describes it. Rates in Figures are in units of
// 1e9 per second; the derived fields (Read, ReadThreads) are in bytes/s.
type Result struct {
	Version    int       `json:"version"`
	Key        string    `json:"key"`
	CPU        string    `json:"cpu"`
	GOOS       string    `json:"goos"`
	GOARCH     string    `json:"goarch"`
	Features   []string  `json:"features"`
	Cores      int       `json:"cores"`
	Caches     Caches    `json:"caches"`
	GoVersion  string    `json:"go_version"`
	Quick      bool      `json:"quick"`
	Statistic  string    `json:"statistic"`
	MeasuredAt time.Time `json:"measured_at"`
	Seconds    float64   `json:"seconds"` // how long measuring took
	// Unavailable says why the assembly loops did not run at all in this
	// build ("" when they did; single figures may still be unavailable).
	Unavailable string `json:"unavailable,omitempty"`

	// ClockGHz is the dependent-add rate: an estimate of the core clock.
	ClockGHz float64 `json:"clock_ghz"`
	// Read is single-thread read bandwidth, best vector width per size,
	// sorted by working set.
	Read []Point `json:"read"`
	// ReadThreads is the aggregate bandwidth of Threads threads each
	// reading its own share of the working set.
	ReadThreads []Point `json:"read_threads"`
	Threads     int     `json:"threads"`

	Figures []Figure `json:"figures"`
}

// Options control Run.
type Options struct {
	// Quick measures each figure twice for a few milliseconds: for tests,
	// not for results.
	Quick bool
	// Threads for the aggregate read bandwidth; 0 means min(2, NumCPU).
	Threads int
	// Progress, when not nil, gets a line per round of samples.
	Progress io.Writer
}

// sizes are the single-thread read working sets below the DRAM one.
var sizes = []int64{32 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20}

// dramSize returns a working set that has to come from DRAM: 4x the last
// level cache (at least 64 MiB when cpuid reports no cache, and 4x the
// largest cache size measured; at most 1 GiB, so that a huge L3 cannot make
// the probe allocate gigabytes), rounded to readBlock.
func dramSize(c Caches) int64 {
	s := 4 * c.Last()
	s = min(max(s, 64<<20, 4*sizes[len(sizes)-1]), 1<<30)
	return s / readBlock * readBlock
}

// Run measures every figure this build and CPU can measure. It returns an
// error only for bad options; missing instructions show up as unavailable
// figures.
func Run(opts Options) (*Result, error) {
	if opts.Threads < 0 {
		return nil, fmt.Errorf("probe: Threads=%d, want 0 (default) or a positive count", opts.Threads)
	}
	if opts.Threads == 0 {
		opts.Threads = min(2, runtime.NumCPU())
	}
	start := time.Now()
	m := describe()
	m.Quick = opts.Quick
	m.Threads = opts.Threads
	m.MeasuredAt = start.UTC().Truncate(time.Second)
	m.Unavailable = asmUnavailable()
	t := newTimer(opts.Quick)
	m.Statistic = fmt.Sprintf("best (highest rate) of %d samples of about %v each, taken in rounds over all figures, timed by %s (multi-thread reads: wall time); median also recorded", t.samples, t.target, threadClockName)

	// Prepare every job (availability, calibration), then take the samples
	// in rounds over all jobs.
	var jobs []*job
	for _, l := range computeLoops() {
		if l.kind == KindClock {
			jobs = append(jobs, t.compute(l))
		}
	}
	dram := dramSize(m.Caches)
	all := append(append([]int64(nil), sizes...), dram)
	buf := newBuffer(dram)
	for _, l := range readLoops() {
		for _, s := range all {
			jobs = append(jobs, t.read(l, buf, s, 1))
		}
	}
	if opts.Threads > 1 {
		// One size in L2 per core, one in L3, and DRAM; the widest loop only.
		if l, ok := widestRead(); ok {
			for _, s := range []int64{int64(opts.Threads) * (256 << 10), 4 << 20, dram} {
				jobs = append(jobs, t.read(l, buf, s, opts.Threads))
			}
		}
	}
	for _, l := range computeLoops() {
		if l.kind != KindClock {
			jobs = append(jobs, t.compute(l))
		}
	}
	for round := range t.samples {
		for _, j := range jobs {
			if j.sample != nil {
				j.rates = append(j.rates, j.sample())
			}
		}
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "probe: round %d of %d done (%.1f s)\n", round+1, t.samples, time.Since(start).Seconds())
		}
	}
	for _, j := range jobs {
		f := j.finish()
		m.Figures = append(m.Figures, f)
		if f.Kind == KindRead && f.Ok() {
			p := Point{WorkingSet: f.WorkingSet, BytesPerSec: f.Rate(), Figure: f.Name}
			if f.Threads == 1 {
				m.Read = addPoint(m.Read, p)
			} else {
				m.ReadThreads = addPoint(m.ReadThreads, p)
			}
		}
	}
	for _, f := range m.Figures {
		if f.Kind == KindClock && f.Ok() {
			m.ClockGHz = f.Best
		}
	}
	m.Seconds = math.Round(time.Since(start).Seconds()*100) / 100
	runtime.KeepAlive(buf)
	return m, nil
}

// addPoint keeps the higher bandwidth of two loops at one working set.
func addPoint(ps []Point, p Point) []Point {
	for i := range ps {
		if ps[i].WorkingSet == p.WorkingSet {
			if p.BytesPerSec > ps[i].BytesPerSec {
				ps[i] = p
			}
			return ps
		}
	}
	ps = append(ps, p)
	sort.Slice(ps, func(i, j int) bool { return ps[i].WorkingSet < ps[j].WorkingSet })
	return ps
}

// String formats a figure as one line.
func (f Figure) String() string {
	name := f.Name
	if f.Threads > 1 {
		name += fmt.Sprintf(" x%d threads", f.Threads)
	}
	if !f.Ok() {
		return fmt.Sprintf("%-36s unavailable: %s", name, f.Unavailable)
	}
	return fmt.Sprintf("%-36s %8.2f %-6s (median %.2f, %d samples)", name, f.Best, f.Unit, f.Median, f.Samples)
}

// ReadBandwidth returns the single-thread read bandwidth in bytes/s for a
// working set of the given size, interpolated linearly in log(size) between
// the measured sizes and clamped to the smallest and largest (DRAM) ones.
// It returns 0 when no bandwidth was measured.
func (m *Result) ReadBandwidth(workingSetBytes int64) float64 {
	return interpolate(m.Read, workingSetBytes)
}

// ReadBandwidthThreads is ReadBandwidth for the aggregate of threads threads
// (each reading its share of the working set). For threads <= 1, or when
// no multi-thread figure was measured, it is ReadBandwidth. With more
// threads than were measured (m.Threads) it returns the measured aggregate:
// extra threads share the same memory system. It is never below
// ReadBandwidth (threads can leave all the work to one; a lower measured
// aggregate means other jobs took the cores).
func (m *Result) ReadBandwidthThreads(workingSetBytes int64, threads int) float64 {
	one := m.ReadBandwidth(workingSetBytes)
	if threads <= 1 || len(m.ReadThreads) == 0 {
		return one
	}
	return max(one, interpolate(m.ReadThreads, workingSetBytes))
}

func interpolate(ps []Point, ws int64) float64 {
	if len(ps) == 0 {
		return 0
	}
	if ws <= ps[0].WorkingSet {
		return ps[0].BytesPerSec
	}
	last := ps[len(ps)-1]
	if ws >= last.WorkingSet {
		return last.BytesPerSec
	}
	for i := 1; i < len(ps); i++ {
		a, b := ps[i-1], ps[i]
		if ws <= b.WorkingSet {
			t := math.Log(float64(ws)/float64(a.WorkingSet)) / math.Log(float64(b.WorkingSet)/float64(a.WorkingSet))
			return a.BytesPerSec + t*(b.BytesPerSec-a.BytesPerSec)
		}
	}
	return last.BytesPerSec
}

// best returns the highest rate per second among the measured figures that
// keep says yes to (0 when there is none).
func (m *Result) best(keep func(Figure) bool) float64 {
	r := 0.0
	for _, f := range m.Figures {
		if f.Ok() && f.Threads <= 1 && keep(f) {
			r = max(r, f.Rate())
		}
	}
	return r
}

// BestInt8 returns the machine's best single-core int8 MAC rate (MAC/s)
// over every instruction chain measured, or 0.
func (m *Result) BestInt8() float64 {
	return m.best(func(f Figure) bool { return f.Kind == KindInt8 })
}

// BestF32 returns the machine's best single-core f32 FMA rate (FMA/s), or 0.
func (m *Result) BestF32() float64 {
	return m.best(func(f Figure) bool { return f.Kind == KindF32 })
}

// PeakMACs returns the single-core peak rate (MACs per second) for a kernel
// of the given mode ("i8", "peer" or "f32") written with the given ISA (a
// kernels.Info.ISA such as "avx512vnni+vbmi", "avx2", "neon", "go"):
//
//   - i8/peer: ISA with "vnni": VPDPBUSD; other "avx512": the VPMADDUBSW
//     chains (zmm or ymm); "avx2", "avx", "c", "cgo", "ggml": the ymm
//     VPMADDUBSW chains; "dotprod", "sdot", "neondot", "asimddp": SDOT;
//     "go", "scalar", "ref": the plain-Go int8 loop.
//   - f32: "avx512": VFMADD231PS zmm or ymm; "avx2"/"fma"/"avx": ymm;
//     "neon": FMLA; "go", "scalar", "ref": the plain-Go f32 loop.
//
// For any other ISA, "" or a figure this machine did not measure, it
// returns the machine's best rate for the mode (BestInt8 or BestF32): a
// floor from it is never too high. It returns 0 when nothing was measured.
//
// These are rates of multiply-add instructions: a kernel that replaces
// MACs by table lookups (T-MAC style, in Go or AVX-512) is not bound by
// them and can beat its ISA's figure. The roofline of docs/format.md §5 (Floor, and
// Bound with ISA "") uses the machine's best rate, which is safe for every
// kernel.
func (m *Result) PeakMACs(mode, isa string) float64 {
	isa = strings.ToLower(isa)
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(isa, s) {
				return true
			}
		}
		return false
	}
	pick := func(isas ...string) float64 {
		kind := KindInt8
		if mode == "f32" {
			kind = KindF32
		}
		return m.best(func(f Figure) bool {
			if f.Kind != kind {
				return false
			}
			for _, i := range isas {
				if f.ISA == i {
					return true
				}
			}
			return false
		})
	}
	var r float64
	switch mode {
	case "f32":
		switch {
		case has("avx512"):
			r = pick("avx512f", "fma3")
		case has("avx2", "fma", "avx"):
			r = pick("fma3")
		case has("neon", "asimd"):
			r = pick("neon")
		case has("go", "scalar", "ref"):
			r = pick("go")
		}
		if r == 0 {
			r = m.BestF32()
		}
	default:
		switch {
		case has("vnni"):
			r = pick("avx512vnni", "avx512vnni+vl")
		case has("avx512"):
			r = pick("avx512bw", "avx2")
		case has("avx2", "avx", "ggml") || isa == "c" || isa == "cgo" || strings.HasPrefix(isa, "c-"):
			r = pick("avx2")
		case has("dotprod", "sdot", "neondot", "asimddp"):
			r = pick("neon+dotprod")
		case has("go", "scalar", "ref"):
			r = pick("go")
		}
		if r == 0 {
			r = m.BestInt8()
		}
	}
	return r
}

// Work describes one GEMV for the roofline.
type Work struct {
	WeightBytes int64  `json:"weight_bytes"`
	MACs        int64  `json:"macs"`
	Mode        string `json:"mode"` // "i8", "peer" or "f32"
	// ISA of the kernel (kernels.Info.ISA); "" uses the machine's best rate
	// for the mode, as docs/format.md §5 does.
	ISA string `json:"isa,omitempty"`
	// Threads running the GEMV; 0 means 1.
	Threads int `json:"threads,omitempty"`
	// WorkingSet is how many bytes the repeated GEMVs stream through: the
	// weights for "hot", all rotated copies for "cold". 0 means WeightBytes.
	WorkingSet int64 `json:"working_set_bytes,omitempty"`
}

// Bound is the roofline of one Work on this machine.
type Bound struct {
	Floor       time.Duration `json:"floor_ns"`
	MemoryTime  time.Duration `json:"memory_ns"`  // WeightBytes / BytesPerSec
	ComputeTime time.Duration `json:"compute_ns"` // MACs / MACsPerSec
	BoundBy     string        `json:"bound_by"`   // "memory" or "compute"
	BytesPerSec float64       `json:"bytes_per_sec"`
	MACsPerSec  float64       `json:"macs_per_sec"`
}

// ErrNotMeasured is returned by Bound when the machine has neither a read
// bandwidth nor a peak rate for the work's mode.
var ErrNotMeasured = errors.New("probe: no bandwidth or peak rate measured for this work")

// Bound returns the roofline floor of w: max(WeightBytes / read bandwidth
// at the working set, MACs / peak rate) (docs/format.md §5). With Threads > 1 the
// bandwidth is the measured multi-thread aggregate and the peak rate is
// multiplied by min(Threads, Cores). A term whose rate was not measured is
// left out; with neither it returns ErrNotMeasured.
func (m *Result) Bound(w Work) (Bound, error) {
	if w.WeightBytes < 0 || w.MACs < 0 || w.WorkingSet < 0 || w.Threads < 0 {
		return Bound{}, fmt.Errorf("probe: bad work %+v: sizes and counts must be >= 0", w)
	}
	threads := max(w.Threads, 1)
	ws := w.WorkingSet
	if ws == 0 {
		ws = w.WeightBytes
	}
	b := Bound{
		BytesPerSec: m.ReadBandwidthThreads(ws, threads),
		MACsPerSec:  m.PeakMACs(w.Mode, w.ISA) * float64(min(threads, max(m.Cores, 1))),
	}
	if b.BytesPerSec == 0 && b.MACsPerSec == 0 {
		return Bound{}, ErrNotMeasured
	}
	if b.BytesPerSec > 0 {
		b.MemoryTime = seconds(float64(w.WeightBytes) / b.BytesPerSec)
	}
	if b.MACsPerSec > 0 {
		b.ComputeTime = seconds(float64(w.MACs) / b.MACsPerSec)
	}
	b.Floor, b.BoundBy = b.MemoryTime, "memory"
	if b.ComputeTime > b.MemoryTime {
		b.Floor, b.BoundBy = b.ComputeTime, "compute"
	}
	return b, nil
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// Floor returns the single-thread roofline floor of a hot GEMV
// (working set = weightBytes) with the machine's best rate for mode ("i8",
// "peer" or "f32"), or 0 when nothing was measured: see Bound.
func (m *Result) Floor(weightBytes, macs int64, mode string) time.Duration {
	b, err := m.Bound(Work{WeightBytes: weightBytes, MACs: macs, Mode: mode})
	if err != nil {
		return 0
	}
	return b.Floor
}

// RooflineFraction returns floor / measured: 1 means the kernel runs at the
// machine's limit. It returns 0 when either time is not positive.
func RooflineFraction(floor, measured time.Duration) float64 {
	if floor <= 0 || measured <= 0 {
		return 0
	}
	return float64(floor) / float64(measured)
}
