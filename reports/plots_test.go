package reports

import (
	"bytes"
	"image/png"
	"testing"

	"gonum.org/v1/plot"
)

// Charts were bars without intervals on a linear axis (fast kernels next to
// the reference loops flattened to nothing), thread counts got ticks such as
// 1.25, and the legend sat on the data.
func TestChartsScalesTicksLegend(t *testing.T) {
	for _, c := range []struct {
		ratio float64
		log   bool
	}{{4, false}, {400, true}} {
		r := fakeRun(c.ratio)
		p := newPlot("t", "shape", "GMAC/s")
		bars, err := dotPlotBars(p, r.timedKernels(), r.workloadNames(), func(k, w string) point { return gmacPoint(r.Find(k, w, 1)) })
		if err != nil {
			t.Fatal(err)
		}
		if _, isLog := p.Y.Scale.(plot.LogScale); isLog != c.log {
			t.Errorf("values %g× apart: log axis %v, want %v", c.ratio, isLog, c.log)
		}
		n := 0
		for _, e := range bars {
			n += len(e.YErrors)
			for _, y := range e.YErrors {
				if !(y.Low > 0 && y.High > 0) {
					t.Errorf("an error bar of zero length: %+v", y)
				}
			}
		}
		if n != 4 { // 2 kernels × 2 shapes at 1 thread
			t.Errorf("%d error bars, want 4", n)
		}
	}
	r := fakeRun(4)
	p, err := r.threadsPlot()
	if err != nil {
		t.Fatal(err)
	}
	ticks := p.P.X.Tick.Marker.Ticks(p.P.X.Min, p.P.X.Max)
	if len(ticks) != 2 || ticks[0].Label != "1" || ticks[1].Label != "2" {
		t.Errorf("thread ticks %+v, want 1 and 2", ticks)
	}
	// The legend goes beside the data: the image is wider than the 9 inches
	// of a chart without one, and drawing leaves the plot's legend as it was.
	with, err := renderPlot(p.P, "png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(with))
	if err != nil {
		t.Fatal(err)
	}
	if w := img.Bounds().Dx(); w <= 9*96 {
		t.Errorf("chart with a legend is %d px wide, want more than the data's 9 in", w)
	}
	if again, _ := renderPlot(p.P, "png"); !bytes.Equal(again, with) {
		t.Error("rendering twice gave different images: the legend was not restored")
	}
}
