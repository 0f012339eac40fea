package gate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeResults writes a benchfmt file with count samples per cell; cell i's
// true time is base[i]*factor[i], each sample with multiplicative noise.
func writeResults(t *testing.T, name string, rng *rand.Rand, base, factor []float64, noise float64, count int) string {
	t.Helper()
	var sb strings.Builder
	sb.WriteString("goos: linux\ngoarch: amd64\n")
	for range count {
		for i := range base {
			v := base[i] * factor[i] * (1 + noise*(2*rng.Float64()-1))
			fmt.Fprintf(&sb, "BenchmarkGEMV/kernel=k%d/shape=2048x4096/threads=1-2 \t 1000\t %.1f ns/op\t 99.0 GMAC/s\n", i, v)
		}
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCompareFiles(t *testing.T) {
	base := []float64{20e3, 30e3, 60e3, 400e3}
	ones := []float64{1, 1, 1, 1}
	for _, c := range []struct {
		name    string
		factor  []float64
		noise   float64
		regress []int // cells that must regress
		// wrong is how many of the 100 trials may get a verdict wrong:
		// with ±10% noise a chance difference beyond 5% happens, and the
		// test's alpha (0.05 across the cells) is what bounds it.
		wrong int
	}{
		{"equal", ones, 0.01, nil, 0},
		{"one cell 30% slower", []float64{1, 1.3, 1, 1}, 0.01, []int{1}, 0},
		{"3% slower everywhere", []float64{1.03, 1.03, 1.03, 1.03}, 0.005, nil, 0},
		{"equal but noisy", ones, 0.10, nil, 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			wrong := 0
			defer func() {
				if wrong > c.wrong {
					t.Errorf("%d of 100 trials got a verdict wrong, want at most %d", wrong, c.wrong)
				}
			}()
			for trial := range 100 {
				rng := rand.New(rand.NewPCG(uint64(trial), 3))
				a := writeResults(t, "base.txt", rng, base, ones, c.noise, 10)
				b := writeResults(t, "head.txt", rng, base, c.factor, c.noise, 10)
				rep, warn, err := CompareFiles(a, b, DefaultOptions, false)
				if err != nil {
					t.Fatal(err)
				}
				if len(warn) > 0 {
					t.Errorf("warnings: %v", warn)
				}
				if len(rep.Cells) != len(base) {
					t.Fatalf("%d cells, want %d", len(rep.Cells), len(base))
				}
				for i, cell := range rep.Cells {
					want := false
					for _, r := range c.regress {
						want = want || r == i
					}
					if got := cell.Verdict == Regressed; got != want {
						wrong++
						t.Logf("trial %d: cell %s: verdict %s (ratio %s, p %.3g), want regressed=%v", trial, cell.Kernel, cell.Verdict, Interval(cell.Ratio, cell.Low, cell.High), cell.P, want)
					}
					if cell.Kernel != fmt.Sprintf("k%d", i) || cell.Shape != "2048x4096" || cell.Threads != 1 {
						t.Errorf("cell %d parsed as %+v", i, cell)
					}
				}
				if rep.Pass != (len(c.regress) == 0) {
					t.Logf("trial %d: pass = %v", trial, rep.Pass)
				}
			}
		})
	}
}

// Values that are not finite and positive are dropped with a warning that
// names the file and line; they never reach the Mann–Whitney test (which
// runs out of memory on NaN).
func TestCompareFilesBadValues(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.txt")
	b := filepath.Join(dir, "b.txt")
	os.WriteFile(a, []byte("BenchmarkX 1 5 ns/op\nBenchmarkX 1 6 ns/op\nBenchmarkX 1 7 ns/op\n"), 0o644)
	os.WriteFile(b, []byte("BenchmarkX 1 NaN ns/op\nBenchmarkX 1 -6 ns/op\nBenchmarkX 1 0 ns/op\nBenchmarkX 1 +Inf ns/op\nBenchmarkX 1 6 ns/op\n"), 0o644)
	rep, warn, err := CompareFiles(a, b, DefaultOptions, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(warn) != 4 {
		t.Errorf("warnings %q, want 4 (NaN, -6, 0, +Inf)", warn)
	}
	for _, w := range warn {
		if !strings.Contains(w, "b.txt:") {
			t.Errorf("warning %q does not name the file and line", w)
		}
	}
	if len(rep.Cells) != 1 || rep.Cells[0].Samples != [2]int{3, 1} || rep.Cells[0].Verdict == Regressed {
		t.Errorf("cells %+v", rep.Cells)
	}
	os.WriteFile(b, []byte("BenchmarkY 1 NaN ns/op\n"), 0o644)
	if _, _, err := CompareFiles(a, b, DefaultOptions, false); err == nil {
		t.Error("a file with no usable time: no error")
	}
	if _, _, err := CompareFiles(a, dir, DefaultOptions, false); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a folder as results file: %v", err)
	}
	if _, _, err := CompareFiles(a, filepath.Join(dir, "missing.txt"), DefaultOptions, false); err == nil {
		t.Error("a missing file: no error")
	}
}

func TestShiftEstimate(t *testing.T) {
	b := []float64{10, 11, 12, 13, 14, 15, 16, 17, 18, 19}
	h := make([]float64, len(b))
	for i, v := range b {
		h[i] = v * 1.5
	}
	e := shiftEstimate(b, h, 0.95)
	if math.Abs(e.Ratio-1.5) > 0.05 || !(e.Low < e.Ratio && e.Ratio < e.High) {
		t.Errorf("estimate %+v, want about 1.5 inside its interval", e)
	}
}
