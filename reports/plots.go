package reports

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Baseline returns the portable Go kernel a kernel's speedup is measured
// against: go-f32 for f32 kernels, go-i8 for the rest.
func Baseline(mode string) string {
	if mode == "f32" {
		return "go-f32"
	}
	return "go-i8"
}

// workloadNames returns the run's workloads that have a timed cell, in run order.
func (r *Run) workloadNames() []string {
	timed := map[string]bool{}
	for i := range r.Cells {
		if r.Cells[i].Timed() {
			timed[r.Cells[i].Workload] = true
		}
	}
	var out []string
	for _, w := range r.Workloads {
		if timed[w.Name] {
			out = append(out, w.Name)
		}
	}
	return out
}

// minThreads is the smallest thread count of the run (the per-kernel charts use it).
func (r *Run) minThreads() int {
	if t := r.ThreadCounts(); len(t) > 0 {
		return t[0]
	}
	return 1
}

// Plot is one chart: its file stem and the plot.
type Plot struct {
	Name  string // file stem: "gmacps", "speedup", "roofline", "threads", "model"
	Title string
	P     *plot.Plot
}

// Plots builds every chart the run has data for.
func (r *Run) Plots() ([]Plot, error) {
	var out []Plot
	for _, f := range []func() (*Plot, error){r.gmacPlot, r.speedupPlot, r.rooflinePlot, r.threadsPlot, r.modelPlot} {
		p, err := f()
		if err != nil {
			return nil, err
		}
		if p != nil {
			out = append(out, *p)
		}
	}
	return out, nil
}

// SavePlots writes each chart as PNG and SVG into dir (atomically). It
// returns the charts written; a chart that fails to render is left out and
// named in the error, and the others are still written.
func SavePlots(dir string, plots []Plot) ([]Plot, error) {
	var ok []Plot
	var errs []error
	for _, p := range plots {
		if err := savePlot(dir, p); err != nil {
			errs = append(errs, fmt.Errorf("plot %s: %w", p.Name, err))
			continue
		}
		ok = append(ok, p)
	}
	return ok, errors.Join(errs...)
}

func savePlot(dir string, p Plot) (err error) {
	defer func() {
		// gonum/plot panics on some degenerate data (e.g. log axes).
		if v := recover(); v != nil {
			err = fmt.Errorf("rendering failed: %v", v)
		}
	}()
	for _, ext := range []string{"png", "svg"} {
		b, err := renderPlot(p.P, ext)
		if err != nil {
			return err
		}
		if err := WriteFileAtomic(filepath.Join(dir, p.Name+"."+ext), b); err != nil {
			return err
		}
	}
	return nil
}

// renderPlot draws p as PNG or SVG, 9 × 5 inches for the data and its
// legend to the right of it, never over the data.
func renderPlot(p *plot.Plot, format string) ([]byte, error) {
	leg := p.Legend
	p.Legend = plot.NewLegend() // drawn here, beside the plot
	defer func() { p.Legend = leg }()
	w, h := 9*vg.Inch, 5*vg.Inch
	probe, err := draw.NewFormattedCanvas(w, h, format)
	if err != nil {
		return nil, err
	}
	lw := leg.Rectangle(draw.New(probe)).Size().X
	pad := vg.Points(12)
	if lw > 0 {
		lw += 2 * pad
	}
	c, err := draw.NewFormattedCanvas(w+lw, h, format)
	if err != nil {
		return nil, err
	}
	dc := draw.New(c)
	p.Draw(draw.Crop(dc, 0, -lw, 0, -vg.Points(4)))
	if lw > 0 {
		leg.Top, leg.Left = true, true
		leg.XOffs, leg.YOffs = 0, 0
		leg.Draw(draw.Crop(dc, w+pad, -pad, 0, -pad-p.Title.TextStyle.Height(p.Title.Text)))
	}
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	return p
}

// point is a value with its 95% interval (lo = hi = v when there is none).
type point struct{ v, lo, hi float64 }

func (pt point) ok() bool { return pt.v > 0 && !math.IsInf(pt.v, 0) && !math.IsNaN(pt.v) }

// dotPlot draws, for each series, one marker per category with its 95%
// interval as an error bar; the series of a category sit side by side. The
// value axis is logarithmic when the values span more than a decade.
func dotPlot(p *plot.Plot, series, categories []string, value func(s, c string) point) error {
	_, err := dotPlotBars(p, series, categories, value)
	return err
}

// dotPlotBars is dotPlot, returning the error bars it drew.
func dotPlotBars(p *plot.Plot, series, categories []string, value func(s, c string) point) ([]*plotter.YErrorBars, error) {
	if len(series) == 0 || len(categories) == 0 {
		return nil, nil
	}
	lo, hi := math.Inf(1), 0.0
	type drawn struct {
		xys  plotter.XYs
		errs plotter.YErrors
	}
	all := make([]drawn, len(series))
	spread := math.Min(0.8, 0.08*float64(len(series)))
	for i, sName := range series {
		off := 0.0
		if len(series) > 1 {
			off = -spread/2 + spread*float64(i)/float64(len(series)-1)
		}
		for j, cName := range categories {
			pt := value(sName, cName)
			if !pt.ok() {
				continue
			}
			l, h := pt.lo, pt.hi
			if !(l > 0 && l <= pt.v) {
				l = pt.v
			}
			if !(h >= pt.v) || math.IsInf(h, 0) {
				h = pt.v
			}
			all[i].xys = append(all[i].xys, plotter.XY{X: float64(j) + off, Y: pt.v})
			all[i].errs = append(all[i].errs, struct{ Low, High float64 }{pt.v - l, h - pt.v})
			lo, hi = math.Min(lo, l), math.Max(hi, h)
		}
	}
	if hi <= 0 {
		return nil, nil
	}
	var drawnBars []*plotter.YErrorBars
	logY := hi/lo > 10
	for i, d := range all {
		if len(d.xys) == 0 {
			continue
		}
		s, err := plotter.NewScatter(d.xys)
		if err != nil {
			return nil, err
		}
		s.GlyphStyle.Color = kernelColor(i)
		s.GlyphStyle.Shape = plotutil.Shape(i)
		s.GlyphStyle.Radius = vg.Points(3)
		e, err := plotter.NewYErrorBars(errorBars{d.xys, d.errs})
		if err != nil {
			return nil, err
		}
		drawnBars = append(drawnBars, e)
		e.LineStyle.Color = kernelColor(i)
		e.CapWidth = vg.Points(4)
		p.Add(e, s)
		p.Legend.Add(series[i], s)
	}
	p.NominalX(categories...)
	p.X.Min, p.X.Max = -0.6, float64(len(categories))-0.4
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Y.Min, p.Y.Max = lo/1.5, hi*1.5
		p.Y.Label.Text += " (log scale)"
	} else {
		p.Y.Min, p.Y.Max = 0, hi*1.08
	}
	return drawnBars, nil
}

// errorBars gives plotter.NewYErrorBars points and their errors.
type errorBars struct {
	plotter.XYs
	plotter.YErrors
}

// gmacPoint is a cell's GMAC/s with the interval its time's 95% interval gives.
func gmacPoint(c *Cell) point {
	pt := point{v: c.GMACps, lo: c.GMACps, hi: c.GMACps}
	if c.Low > 0 && c.High > 0 {
		pt.lo, pt.hi = float64(c.MACs)/c.High/1e9, float64(c.MACs)/c.Low/1e9
	}
	return pt
}

func (r *Run) gmacPlot() (*Plot, error) {
	ws, ks, th := r.workloadNames(), r.timedKernels(), r.minThreads()
	if len(ws) == 0 {
		return nil, nil
	}
	p := newPlot(fmt.Sprintf("GEMV throughput, %d thread(s), %s; bars: 95%% intervals", th, r.Config.Mode), "shape", "GMAC/s")
	err := dotPlot(p, ks, ws, func(k, w string) point {
		if c := r.Find(k, w, th); c != nil && c.Timed() {
			return gmacPoint(c)
		}
		return point{}
	})
	return &Plot{Name: "gmacps", Title: "GMAC/s per kernel per shape", P: p}, err
}

func (r *Run) timedKernels() []string {
	var out []string
	for _, k := range r.KernelIDs() {
		for i := range r.Cells {
			if r.Cells[i].Kernel == k && r.Cells[i].Timed() {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

// SpeedupRatio returns kernel k's speedup over its Baseline on workload w
// at th threads: the baseline's time over k's
// (PairedRatio); Value is NaN when either cell is missing.
func (r *Run) SpeedupRatio(k, w string, th int) Ratio {
	c := r.Find(k, w, th)
	b := r.Find(Baseline(r.Kernel(k).Mode), w, th)
	if c == nil || b == nil {
		return Ratio{Value: math.NaN()}
	}
	return PairedRatio(b, c)
}

// Speedup is SpeedupRatio's estimate, or NaN.
func (r *Run) Speedup(k, w string, th int) float64 { return r.SpeedupRatio(k, w, th).Value }

func (r *Run) speedupPlot() (*Plot, error) {
	ws, th := r.workloadNames(), r.minThreads()
	var ks []string
	for _, k := range r.timedKernels() {
		for _, w := range ws {
			if !math.IsNaN(r.Speedup(k, w, th)) {
				ks = append(ks, k)
				break
			}
		}
	}
	if len(ks) == 0 {
		return nil, nil
	}
	p := newPlot(fmt.Sprintf("Speedup over portable Go (go-f32 for f32 kernels, go-i8 otherwise), %d thread(s)", th), "shape", "speedup (×)")
	err := dotPlot(p, ks, ws, func(k, w string) point {
		x := r.SpeedupRatio(k, w, th)
		if math.IsNaN(x.Value) {
			return point{}
		}
		pt := point{v: x.Value, lo: x.Value, hi: x.Value}
		if x.Low > 0 { // the paired ratio's own 95% interval
			pt.lo, pt.hi = x.Low, x.High
		}
		return pt
	})
	return &Plot{Name: "speedup", Title: "Speedup over go-*", P: p}, err
}

func (r *Run) rooflinePlot() (*Plot, error) {
	th := r.minThreads()
	var cells []*Cell
	var lo, hi float64 = math.Inf(1), 0
	for i := range r.Cells {
		c := &r.Cells[i]
		if c.Timed() && c.Threads == th {
			cells = append(cells, c)
			lo, hi = math.Min(lo, float64(c.WeightBytes)), math.Max(hi, float64(c.WeightBytes))
		}
	}
	if len(cells) == 0 || !(lo > 0) || math.IsInf(hi, 0) {
		return nil, nil // a log axis needs positive sizes
	}
	p := newPlot(fmt.Sprintf("Roofline: GMAC/s against weight bytes, %d thread(s), %s", th, r.Config.Mode), "weight bytes (working set)", "GMAC/s")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	lo, hi = lo/2, hi*2
	ylo, yhi := math.Inf(1), 0.0
	for _, c := range cells {
		ylo, yhi = math.Min(ylo, c.GMACps), math.Max(yhi, c.GMACps)
	}
	if pr := r.Machine.Probe; pr != nil {
		// Bandwidth roof: MACs per weight byte (4 for QK256 without tails) × read bandwidth.
		var roof plotter.XYs
		macPerByte := float64(cells[0].MACs) / float64(cells[0].WeightBytes)
		for x := lo; x <= hi*1.0001; x *= 1.25 {
			bw := pr.ReadGBpsAt(int64(x))
			if r.Config.Mode == "cold" && len(pr.ReadGBps) > 0 {
				bw = pr.ReadGBps[len(pr.ReadGBps)-1].GBps
			}
			if bw > 0 {
				roof = append(roof, plotter.XY{X: x, Y: bw * macPerByte})
				ylo, yhi = math.Min(ylo, bw*macPerByte), math.Max(yhi, bw*macPerByte)
			}
		}
		if len(roof) > 1 {
			l, err := plotter.NewLine(roof)
			if err != nil {
				return nil, err
			}
			l.Color = color.Black
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
			l.Width = vg.Points(1.5)
			p.Add(l)
			p.Legend.Add("bandwidth roof (read GB/s × MAC/byte)", l)
		}
		peaks := map[string]float64{}
		best, bestName := 0.0, ""
		for n, v := range pr.Int8GMACps {
			if v > best || v == best && n < bestName {
				best, bestName = v, n
			}
		}
		if best > 0 {
			peaks["int8 "+bestName] = best
		}
		if pr.F32GFMAps > 0 {
			peaks["f32 fma"] = pr.F32GFMAps
		}
		var pn []string
		for n := range peaks {
			pn = append(pn, n)
		}
		sort.Strings(pn)
		for i, n := range pn {
			if peaks[n] <= 0 {
				continue
			}
			ylo, yhi = math.Min(ylo, peaks[n]), math.Max(yhi, peaks[n])
			l, err := plotter.NewLine(plotter.XYs{{X: lo, Y: peaks[n]}, {X: hi, Y: peaks[n]}})
			if err != nil {
				return nil, err
			}
			l.Color = color.Gray{Y: uint8(90 + 50*i)}
			l.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
			p.Add(l)
			p.Legend.Add("compute roof: "+n, l)
		}
	}
	for i, k := range r.timedKernels() {
		var xys plotter.XYs
		for _, c := range cells {
			if c.Kernel == k {
				xys = append(xys, plotter.XY{X: float64(c.WeightBytes), Y: c.GMACps})
			}
		}
		if len(xys) == 0 {
			continue
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, err
		}
		s.GlyphStyle.Color = kernelColor(i)
		s.GlyphStyle.Shape = plotutil.Shape(i)
		s.GlyphStyle.Radius = vg.Points(3.5)
		p.Add(s)
		p.Legend.Add(k, s)
	}
	// Log axes need positive, non-empty ranges: set them rather than let an
	// axis of one value be padded to zero.
	p.X.Min, p.X.Max = lo, hi
	p.Y.Min, p.Y.Max = ylo/2, yhi*2
	return &Plot{Name: "roofline", Title: "Roofline", P: p}, nil
}

func (r *Run) threadsPlot() (*Plot, error) {
	ts := r.ThreadCounts()
	ws := r.workloadNames()
	if len(ts) < 2 || len(ws) == 0 {
		return nil, nil
	}
	w := ws[0]
	p := newPlot(fmt.Sprintf("Thread scaling on %s; bars: 95%% intervals", w), "threads", "speedup over 1 thread (×)")
	var ticks plot.ConstantTicks
	for _, t := range ts {
		ticks = append(ticks, plot.Tick{Value: float64(t), Label: fmt.Sprint(t)})
	}
	p.X.Tick.Marker = ticks
	p.X.Min, p.X.Max = float64(ts[0])-0.25, float64(ts[len(ts)-1])+0.25
	ideal, err := plotter.NewLine(plotter.XYs{{X: float64(ts[0]), Y: 1}, {X: float64(ts[len(ts)-1]), Y: float64(ts[len(ts)-1]) / float64(ts[0])}})
	if err != nil {
		return nil, err
	}
	ideal.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	p.Add(ideal)
	p.Legend.Add("ideal", ideal)
	for i, k := range r.timedKernels() {
		base := r.Find(k, w, ts[0])
		if base == nil || !base.Timed() {
			continue
		}
		var xys plotter.XYs
		var errs plotter.YErrors
		for _, t := range ts {
			if c := r.Find(k, w, t); c != nil && c.Timed() {
				x := PairedRatio(base, c) // the 1-thread time over this one
				v, lo, hi := x.Value, x.Value, x.Value
				if math.IsNaN(v) {
					continue
				}
				if x.Low > 0 {
					lo, hi = x.Low, x.High
				}
				xys = append(xys, plotter.XY{X: float64(t), Y: v})
				errs = append(errs, struct{ Low, High float64 }{v - lo, hi - v})
			}
		}
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		e, err := plotter.NewYErrorBars(errorBars{xys, errs})
		if err != nil {
			return nil, err
		}
		l.Color, s.Color, s.Shape, e.LineStyle.Color = kernelColor(i), kernelColor(i), plotutil.Shape(i), kernelColor(i)
		p.Add(l, s, e)
		p.Legend.Add(k, l, s)
	}
	return &Plot{Name: "threads", Title: "Thread scaling", P: p}, nil
}

// TokenTime is a kernel's GEMV time per decoded token for a model preset:
// Σ over the model's matrices (median × count per layer) × layers.
type TokenTime struct {
	Kernel   string
	Threads  int
	Seconds  float64 // per token
	Complete bool    // every matrix shape was timed
}

// TokensPerSecond is the decode-rate bound the GEMV time implies.
func (t TokenTime) TokensPerSecond() float64 { return 1 / t.Seconds }

// Rollup returns the per-token GEMV time per kernel and thread count; empty
// unless the run measured a model preset.
func (r *Run) Rollup() []TokenTime {
	if r.Config.Layers == 0 {
		return nil
	}
	var out []TokenTime
	for _, th := range r.ThreadCounts() {
		for _, k := range r.timedKernels() {
			t := TokenTime{Kernel: k, Threads: th, Complete: true}
			for _, w := range r.Workloads {
				if w.PerLayer == 0 {
					continue
				}
				c := r.Find(k, w.Name, th)
				if c == nil || !c.Timed() {
					t.Complete = false
					continue
				}
				t.Seconds += c.Median * float64(w.PerLayer)
			}
			t.Seconds *= float64(r.Config.Layers)
			if t.Complete && t.Seconds > 0 {
				out = append(out, t)
			}
		}
	}
	return out
}

func (r *Run) modelPlot() (*Plot, error) {
	ru := r.Rollup()
	if len(ru) == 0 {
		return nil, nil
	}
	th := r.minThreads()
	var names []string
	var vals plotter.Values
	for _, t := range ru {
		if t.Threads == th {
			names = append(names, t.Kernel)
			vals = append(vals, t.TokensPerSecond())
		}
	}
	if len(vals) == 0 {
		return nil, nil
	}
	// Tokens/s rather than time per token: on a linear axis the slow
	// reference loops would flatten every fast kernel to nothing.
	p := newPlot(fmt.Sprintf("%s: decode rate bound from GEMV time alone (%d layers), %d thread(s)", r.Config.Model, r.Config.Layers, th), "kernel", "tokens/s (GEMV only, upper bound)")
	b, err := plotter.NewBarChart(vals, vg.Points(math.Min(40, 400/float64(len(vals)))))
	if err != nil {
		return nil, err
	}
	b.Color = kernelColor(0)
	p.Add(b)
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 6
	p.X.Tick.Label.XAlign = draw.XRight
	return &Plot{Name: "model", Title: "Model roll-up: tokens/s bound from GEMV time", P: p}, nil
}

// palette has enough distinct colours for every kernel of a sweep
// (plotutil's cycles after seven, so two kernels would share a colour).
var palette = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
	{188, 189, 34, 255}, {23, 190, 207, 255}, {0, 0, 128, 255}, {255, 215, 0, 255},
	{0, 100, 0, 255}, {128, 0, 0, 255}, {70, 240, 240, 255}, {250, 190, 190, 255},
	{0, 0, 0, 255}, {170, 110, 40, 255}, {128, 128, 0, 255}, {230, 25, 75, 255},
}

func kernelColor(i int) color.RGBA { return palette[i%len(palette)] }
