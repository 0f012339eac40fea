package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/google/pprof/profile"

	"github.com/qkbench/qkbench/bench"
	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/reports"
	"github.com/qkbench/qkbench/workloads"
)

func init() {
	verbs["profile"] = verb{summary: "run one kernel × shape under the CPU profiler; write cpu.pprof and print the top functions", run: runProfile}
}

const profileUsage = `Usage: qkbench profile --kernel K [--shape ROWSxCOLS] [--threads N] [--seconds S] [flags]

Checks one kernel on one generated workload against the references, then
runs its GEMV over and over for --seconds under Go's CPU profiler, writes
the profile to --out and prints the functions that took the most time.
The workload is the sweep's for the same shape, codebook and seed, so the
profile shows the code path the sweep times.

Examples:
  qkbench profile --kernel avx2-i8
  qkbench profile --kernel go-i8 --shape 2560x6912 --threads 2 --seconds 10 --out /tmp/go-i8.pprof
  go tool pprof -http : cpu.pprof

Exit status: 0 done; 1 the kernel cannot run here or disagrees with the
references, or anything else failed; 2 a bad flag or argument.
`

func runProfile(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("profile", stderr)
	var c cellFlags
	c.register(fs, cellFlags{shapes: "2048x4096", threads: "1", codebook: defaultCells.codebook, activations: defaultCells.activations})
	fs.StringVar(&c.kernels, "kernel", "", "the kernel `id` (required; --kernels with one id is the same)")
	fs.StringVar(&c.shapes, "shape", "2048x4096", "the `shape`, ROWSxCOLS (--shapes with one shape is the same)")
	seconds := fs.Float64("seconds", 5, "how long to run under the profiler")
	out := fs.String("out", "cpu.pprof", "profile `file` to write")
	top := fs.Int("top", 15, "how many functions to print")
	loadPlugins := pluginFlag(fs)
	setUsage(fs, profileUsage)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q; profile takes only flags (flags after it were not read)", fs.Arg(0))}
	}
	if _, err := loadPlugins(); err != nil {
		return err
	}
	set := setFlags(fs)
	if set["kernel"] && set["kernels"] || set["shape"] && set["shapes"] {
		return usageError{errors.New("--kernel/--kernels and --shape/--shapes: give each once")}
	}
	set["shapes"] = set["shapes"] || set["shape"]
	if strings.TrimSpace(c.kernels) == "" {
		return usageError{fmt.Errorf("--kernel is required; known kernels: %s", strings.Join(kernels.IDs(), ", "))}
	}
	ks, _, err := c.selectKernels()
	if err != nil {
		return err
	}
	preset, threads, cb, err := c.resolve(set)
	if err != nil {
		return err
	}
	if len(ks) != 1 || len(preset.Shapes) != 1 || len(threads) != 1 {
		return usageError{fmt.Errorf("profile takes one kernel, one shape and one thread count; got %d, %d and %d", len(ks), len(preset.Shapes), len(threads))}
	}
	k, s := ks[0], preset.Shapes[0]
	if !(*seconds > 0 && *seconds <= 3600) { // NaN fails both
		return usageError{fmt.Errorf("--seconds %g: want (0, 3600]", *seconds)}
	}
	if *top < 1 {
		return usageError{fmt.Errorf("--top %d: want at least 1", *top)}
	}
	if err := checkOutputFile("--out", *out); err != nil {
		return err
	}
	if status, why := bench.Runnable(k, cb); status != "" {
		return fmt.Errorf("%s: %s: %s", k.Info().ID, status, why)
	}
	sp := workloads.SpecFor(s, cb, c.seed)
	sp.Activations = c.act
	cs, err := bench.NewCase(sp)
	if err != nil {
		return err
	}
	p, err := bench.Prepare(k, cs.W.M)
	if err != nil {
		return err
	}
	r, err := bench.NewRunner(p, threads[0])
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := bench.Verify(r, cs); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		return err
	}
	y := make([]float32, s.Rows)
	n, t0 := 0, time.Now()
	for time.Since(t0).Seconds() < *seconds {
		for i := 0; i < 16; i++ {
			if err := r.GEMV(cs.W.X, y); err != nil {
				pprof.StopCPUProfile()
				return err
			}
		}
		n += 16
	}
	el := time.Since(t0)
	pprof.StopCPUProfile()
	if err := reports.WriteFileAtomic(*out, buf.Bytes()); err != nil {
		return err
	}
	prof, err := profile.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return fmt.Errorf("reading back %s: %w", *out, err)
	}
	fmt.Fprintf(stdout, "%s on %s (%s), %d thread(s): %d GEMVs in %v, %s per GEMV\n", k.Info().ID, s, cb.Name(), threads[0], n, el.Round(time.Millisecond), reports.Duration(el.Seconds()/float64(n)))
	fmt.Fprintf(stdout, "wrote %s (open with: go tool pprof %s)\n\n", *out, *out)
	return reports.WriteTable(stdout, []string{"flat", "flat %", "cum %", "function"}, topFunctions(prof, *top))
}

// topFunctions aggregates a CPU profile by function: flat time (the leaf
// frame) and cumulative time (anywhere on the stack), largest flat first.
func topFunctions(p *profile.Profile, n int) [][]string {
	vi := len(p.SampleType) - 1 // cpu nanoseconds
	flat, cum := map[string]int64{}, map[string]int64{}
	var total int64
	for _, s := range p.Sample {
		v := s.Value[vi]
		total += v
		seen := map[string]bool{}
		for li, loc := range s.Location {
			for l := len(loc.Line) - 1; l >= 0; l-- {
				name := "?"
				if loc.Line[l].Function != nil {
					name = loc.Line[l].Function.Name
				}
				if li == 0 && l == 0 {
					flat[name] += v
				}
				if !seen[name] {
					seen[name] = true
					cum[name] += v
				}
			}
			if len(loc.Line) == 0 && li == 0 {
				flat[fmt.Sprintf("0x%x", loc.Address)] += v
			}
		}
	}
	var names []string
	for name := range flat {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		return flat[names[i]] > flat[names[j]] || flat[names[i]] == flat[names[j]] && names[i] < names[j]
	})
	if len(names) > n {
		names = names[:n]
	}
	var rows [][]string
	for _, name := range names {
		pct := func(v int64) string {
			if total == 0 {
				return "-"
			}
			return fmt.Sprintf("%.1f%%", 100*float64(v)/float64(total))
		}
		rows = append(rows, []string{time.Duration(flat[name]).Round(time.Millisecond).String(), pct(flat[name]), pct(cum[name]), name})
	}
	return rows
}

// cellProfiler collects one CPU profile per sweep cell (sweep --cpuprofile):
// each timed sample runs under the profiler, and the samples of a cell are
// merged into one file when the sweep ends.
type cellProfiler struct {
	dir   string
	order []string
	parts map[string][]*profile.Profile
}

func newCellProfiler(dir string) (*cellProfiler, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, usageError{fmt.Errorf("--cpuprofile: %w", err)}
	}
	if err := checkOutputFile("--cpuprofile", filepath.Join(dir, "cpu.pprof")); err != nil {
		return nil, err
	}
	return &cellProfiler{dir: dir, parts: map[string][]*profile.Profile{}}, nil
}

func (cp *cellProfiler) sample(c *reports.Cell, f func() error) error {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	err := f()
	pprof.StopCPUProfile()
	if p, perr := profile.Parse(&buf); perr == nil {
		key := fmt.Sprintf("cpu-%s-%s-t%d.pprof", c.Kernel, reports.NameEscape(c.Workload), c.Threads)
		if cp.parts[key] == nil {
			cp.order = append(cp.order, key)
		}
		cp.parts[key] = append(cp.parts[key], p)
	}
	return err
}

// write merges and writes every cell's profile; it returns an error naming
// every profile it could not write.
func (cp *cellProfiler) write(stderr io.Writer) error {
	var errs []error
	for _, key := range cp.order {
		p, err := profile.Merge(cp.parts[key])
		if err == nil {
			var b bytes.Buffer
			if err = p.Write(&b); err == nil {
				err = reports.WriteFileAtomic(filepath.Join(cp.dir, key), b.Bytes())
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("--cpuprofile %s: %w", key, err))
		}
	}
	if n := len(cp.order) - len(errs); n > 0 {
		fmt.Fprintf(stderr, "qkbench sweep: wrote %d CPU profiles to %s\n", n, cp.dir)
	}
	return errors.Join(errs...)
}
