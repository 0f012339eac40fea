package gate

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"

	"github.com/qkbench/qkbench/internal/stats"
	"github.com/qkbench/qkbench/reports"
)

// CompareFiles judges two Go benchmark result files (sweep's results.txt,
// go test -bench output) unpaired: for each benchmark in both, the
// two-sample Hodges–Lehmann estimate of head/base with its Mann–Whitney
// interval, the Mann–Whitney p-value (benchmath, as benchstat computes it)
// with Holm's correction across benchmarks, and the gate's threshold rule.
// Benchmarks match by name without the GOMAXPROCS suffix. Values that are
// not finite and positive are dropped, each with a warning naming its file
// and line.
func CompareFiles(basePath, headPath string, o Options, strict bool) (*Report, []string, error) {
	base, bw, err := readTimes(basePath)
	if err != nil {
		return nil, nil, err
	}
	head, hw, err := readTimes(headPath)
	if err != nil {
		return nil, nil, err
	}
	warnings := append(bw, hw...)
	rep := &Report{Schema: ReportSchema, Started: time.Now(), Method: "unpaired",
		Base: BuildInfo{Rev: basePath, File: basePath}, Head: BuildInfo{Rev: headPath, File: headPath},
		Options: ReportOpts{Threshold: o.Threshold, Margin: o.Margin, Alpha: o.Alpha, Level: 1 - o.Alpha, Strict: strict}}
	var es []Estimate
	for _, name := range base.order {
		b, h := base.values[name], head.values[name]
		if len(h) == 0 {
			rep.Skipped = append(rep.Skipped, Skipped{Kernel: name, Reason: "only in " + basePath})
			continue
		}
		e := shiftEstimate(b, h, 1-o.Alpha)
		es = append(es, e)
		rep.Cells = append(rep.Cells, cellFromName(name, b, h, e))
	}
	for _, name := range head.order {
		if len(base.values[name]) == 0 {
			rep.Skipped = append(rep.Skipped, Skipped{Kernel: name, Reason: "only in " + headPath})
		}
	}
	if len(rep.Cells) == 0 {
		return nil, warnings, fmt.Errorf("gate: %s and %s have no benchmark in common", basePath, headPath)
	}
	vs, adj := o.Finalize(es)
	rep.Pass = true
	for i := range rep.Cells {
		rep.Cells[i].Verdict, rep.Cells[i].P = vs[i], adj[i]
		if Fails(vs[i], strict) {
			rep.Pass = false
			rep.Status = 1
		}
	}
	rep.Finished = time.Now()
	return rep, warnings, nil
}

// cellFromName fills a report cell from a benchmark name such as
// GEMV/kernel=avx2-i8/shape=2048x4096/threads=1/mode=hot.
func cellFromName(name string, b, h []float64, e Estimate) CellReport {
	cr := CellReport{Name: name, Kernel: name, BaseNs: stats.Median(b) * 1e9, HeadNs: stats.Median(h) * 1e9, Ratio: e.Ratio, Low: e.Low, High: e.High,
		Samples: [2]int{len(b), len(h)}}
	for _, part := range strings.Split(name, "/")[1:] {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "kernel":
			cr.Kernel = v
		case "shape":
			cr.Shape = v
		case "threads":
			fmt.Sscan(v, &cr.Threads)
		case "mode":
			cr.Mode = v
		}
	}
	return cr
}

// shiftEstimate is the two-sample Hodges–Lehmann estimate of the ratio
// head/base (the median of all ln h - ln b, exponentiated) with the interval
// from the Mann–Whitney statistic's normal approximation, and the
// Mann–Whitney p-value.
func shiftEstimate(b, h []float64, level float64) Estimate {
	var d []float64
	for _, x := range b {
		for _, y := range h {
			d = append(d, math.Log(y)-math.Log(x))
		}
	}
	slices.Sort(d)
	n, m := float64(len(b)), float64(len(h))
	e := Estimate{Pairs: 0, Ratio: math.Exp(stats.Median(d)), Low: 0, High: math.Inf(1), P: mannWhitneyP(b, h)}
	z := stats.NormQuantile(1 - (1-level)/2)
	k := int(math.Floor(n*m/2 - z*math.Sqrt(n*m*(n+m+1)/12)))
	if k >= 0 && k < len(d) {
		e.Low, e.High = math.Exp(d[k]), math.Exp(d[len(d)-1-k])
	}
	if math.IsNaN(e.P) {
		e.P = 1
	}
	e.Pairs = min(len(b), len(h)) // samples behind the estimate, for the verdict rule
	return e
}

// mannWhitneyP is the two-sided Mann–Whitney U test's p-value (benchmath,
// as benchstat computes it) for samples a and b of positive finite values.
func mannWhitneyP(a, b []float64) float64 {
	thr := benchmath.DefaultThresholds
	sa := benchmath.NewSample(append([]float64(nil), a...), &thr)
	sb := benchmath.NewSample(append([]float64(nil), b...), &thr)
	return benchmath.AssumeNothing.Compare(sa, sb).P
}

// times holds the seconds per op of each benchmark of one file.
type times struct {
	order  []string
	values map[string][]float64
}

// readTimes reads the time per op (sec/op or ns/op) of every benchmark in
// a result file, through reports.ReadResults (which drops values that are
// not finite and positive, with warnings naming file and line).
func readTimes(path string) (*times, []string, error) {
	res, warnings, err := reports.ReadResults([]string{path})
	if err != nil {
		return nil, nil, fmt.Errorf("gate: %w", err)
	}
	t := &times{values: map[string][]float64{}}
	for _, r := range res {
		name := benchName(r.Name)
		for _, v := range r.Values {
			var sec float64
			switch v.Unit {
			case "sec/op":
				sec = v.Value
			case "ns/op":
				sec = v.Value * 1e-9
			default:
				continue
			}
			if _, ok := t.values[name]; !ok {
				t.order = append(t.order, name)
			}
			t.values[name] = append(t.values[name], sec)
		}
	}
	if len(t.order) == 0 {
		return nil, warnings, fmt.Errorf("gate: %s holds no benchmark times (sec/op or ns/op)", path)
	}
	return t, warnings, nil
}

// benchName is a benchmark's name without "Benchmark" and the GOMAXPROCS
// suffix.
func benchName(n benchfmt.Name) string {
	base, parts := n.Parts()
	if len(parts) > 0 && strings.HasPrefix(string(parts[len(parts)-1]), "-") {
		parts = parts[:len(parts)-1]
	}
	var sb strings.Builder
	sb.Write(base)
	for _, p := range parts {
		sb.Write(p)
	}
	return sb.String()
}
