package reports

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/machine"
)

// fakeRun builds a run of two kernels on a two-shape model preset at 1 and 2
// threads, where fast is exactly ratio× faster than go-i8.
func fakeRun(ratio float64) *Run {
	r := &Run{
		Schema: Schema, Command: "qkbench sweep --preset tiny", Started: time.Unix(0, 0), Finished: time.Unix(60, 0),
		Config:  Config{Preset: "tiny", Model: "Tiny", Layers: 3, Codebook: "qk256", Mode: "hot", Threads: []int{1, 2}, Count: 10, MinTime: "50ms"},
		Machine: machine.Machine{CPU: "Test CPU", OS: "linux", Arch: "amd64", Commit: "abc", Probe: &machine.Probe{ReadGBps: []machine.BandwidthPoint{{Bytes: 1 << 20, GBps: 100}, {Bytes: 1 << 26, GBps: 25}}, Int8GMACps: map[string]float64{"vpdpbusd": 200}, F32GFMAps: 50}},
		Kernels: []KernelInfo{{ID: "go-i8", Mode: "i8", Available: true}, {ID: "fast-i8", Mode: "i8", Available: true}, {ID: "gone-i8", Mode: "i8", Reason: "CPU lacks X"}},
		Workloads: []WorkloadInfo{
			{Name: "64x256", Shape: "64x256", Rows: 64, Cols: 256, PerLayer: 2},
			{Name: "128x512", Shape: "128x512", Rows: 128, Cols: 512, PerLayer: 1},
		},
	}
	for _, w := range r.Workloads {
		for _, th := range []int{1, 2} {
			for _, k := range []string{"go-i8", "fast-i8"} {
				base := float64(w.Rows*w.Cols) * 1e-9 / float64(th)
				if k == "fast-i8" {
					base /= ratio
				}
				c := Cell{Kernel: k, Workload: w.Name, Shape: w.Shape, Rows: w.Rows, Cols: w.Cols, Threads: th, Mode: "hot", Status: StatusOK,
					Agreement: &kernels.Agreement{Pass: true, Cosine: 1, ExactMatch: 1, Reference: "ref-i8"}, Iterations: 100,
					WeightBytes: int64(w.Rows * kernels.RowStride(w.Cols)), MACs: int64(w.Rows * w.Cols)}
				for i := 0; i < 10; i++ {
					c.Samples = append(c.Samples, base*(1+0.001*float64(i)))
				}
				c.Median, c.Low, c.High = c.Samples[5], c.Samples[1], c.Samples[8]
				c.GMACps = float64(c.MACs) / c.Median / 1e9
				c.GBps = float64(c.WeightBytes) / c.Median / 1e9
				r.Cells = append(r.Cells, c)
			}
			r.Cells = append(r.Cells, Cell{Kernel: "gone-i8", Workload: w.Name, Shape: w.Shape, Threads: th, Status: StatusUnavailable, Reason: "CPU lacks X"})
		}
	}
	return r
}

func TestRollupAndSpeedup(t *testing.T) {
	r := fakeRun(4)
	if s := r.Speedup("fast-i8", "64x256", 1); math.Abs(s-4) > 1e-9 {
		t.Errorf("speedup = %v, want 4", s)
	}
	if s := r.Speedup("go-i8", "64x256", 1); math.Abs(s-1) > 1e-9 {
		t.Errorf("baseline speedup = %v, want 1", s)
	}
	ru := r.Rollup()
	if len(ru) != 4 {
		t.Fatalf("rollup has %d entries, want 4 (2 kernels x 2 thread counts): %+v", len(ru), ru)
	}
	// go-i8 at 1 thread: (2*median(64x256) + median(128x512)) * 3 layers.
	want := (2*r.Find("go-i8", "64x256", 1).Median + r.Find("go-i8", "128x512", 1).Median) * 3
	if ru[0].Kernel != "go-i8" || math.Abs(ru[0].Seconds-want) > 1e-15 {
		t.Errorf("rollup[0] = %+v, want go-i8 %g s", ru[0], want)
	}
}

func TestMarkdownAndPlots(t *testing.T) {
	r := fakeRun(4)
	plots, err := r.Plots()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range plots {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ","); got != "gmacps,speedup,roofline,threads,model" {
		t.Errorf("plots = %s", got)
	}
	dir := t.TempDir()
	if saved, err := SavePlots(dir, plots); err != nil || len(saved) != len(plots) {
		t.Fatal(err)
	}
	for _, n := range names {
		f, err := os.Open(filepath.Join(dir, n+".png"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() < 100 {
			t.Errorf("%s.png: %v", n, err)
		}
		if b, err := os.ReadFile(filepath.Join(dir, n+".svg")); err != nil || !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("%s.svg: %v", n, err)
		}
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md, plots); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# qkbench sweep on Test CPU", "qkbench sweep --preset tiny", "| fast-i8 | 4.00× | 4.00× |", "unavailable: CPU lacks X", "![GMAC/s per kernel per shape](gmacps.png)", "Tiny: GEMV time per decoded token"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	r.Partial = true
	md.Reset()
	r.WriteMarkdown(&md, nil)
	if !strings.Contains(md.String(), "Partial run") {
		t.Error("a partial run's report does not say so")
	}
}

func TestBenchfmtAndCompare(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, r *Run) string {
		var b bytes.Buffer
		if err := r.WriteBenchfmt(&b); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := WriteFileAtomic(p, b.Bytes()); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.txt", fakeRun(4))
	b := write("b.txt", fakeRun(4))
	c := write("c.txt", fakeRun(8))
	text, _ := os.ReadFile(a)
	if !strings.Contains(string(text), "BenchmarkGEMV/kernel=fast-i8/shape=64x256/threads=1/mode=hot 100 ") || !strings.Contains(string(text), "cpu: Test CPU") {
		t.Fatalf("results file:\n%s", text)
	}
	if strings.Contains(string(text), "gone-i8") {
		t.Error("an unavailable kernel has result lines")
	}
	cs, _, err := Compare([]string{a, b, c}, CompareOptions{Units: []string{"sec/op"}})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	WriteComparisons(&out, cs, FormatTable, DefaultWidth)
	t.Log("\n" + out.String())
	got := map[string][]string{}
	for _, row := range cs[0].Rows {
		got[row[0]] = row
	}
	fast := got["GEMV/kernel=fast-i8/shape=64x256/threads=1/mode=hot"]
	if len(fast) != 6 {
		t.Fatalf("fast-i8 row = %q (header %q)", fast, cs[0].Header)
	}
	if !strings.HasPrefix(fast[3], "~") {
		t.Errorf("identical runs compare as %q, want ~", fast[3])
	}
	if !strings.HasPrefix(fast[5], "-50.00%") {
		t.Errorf("a 2x faster run compares as %q, want -50.00%%", fast[5])
	}
	if _, _, err := Compare([]string{filepath.Join(dir, "missing.txt")}, CompareOptions{}); err == nil {
		t.Error("a missing file is not an error")
	}
}

func TestReceiptRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "receipt.json")
	r := fakeRun(2)
	if err := WriteJSON(p, r); err != nil {
		t.Fatal(err)
	}
	back, err := ReadRun(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Cells) != len(r.Cells) || back.Cells[0].Median != r.Cells[0].Median || back.Machine.Probe.Int8GMACps["vpdpbusd"] != 200 {
		t.Errorf("round trip changed the run")
	}
	os.WriteFile(p, []byte(`{"schema": 99}`), 0o644)
	if _, err := ReadRun(p); err == nil || !strings.Contains(err.Error(), "schema 99") {
		t.Errorf("wrong schema: %v", err)
	}
}

func TestOverlap(t *testing.T) {
	a, b := fakeRun(4), fakeRun(4)
	if o, n := Overlap(a, b); n != 8 || o != 8 {
		t.Errorf("identical runs: %d of %d overlap, want 8 of 8", o, n)
	}
	c := fakeRun(8) // fast-i8 twice as fast: its 4 cells move out of the interval
	if o, n := Overlap(a, c); n != 8 || o != 4 {
		t.Errorf("changed runs: %d of %d overlap, want 4 of 8", o, n)
	}
}
