package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qkbench/qkbench/bench/probe"
)

func TestMachineQuick(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache) // os.UserCacheDir on Linux and the BSDs
	t.Setenv("HOME", cache)           // and on macOS

	var out, errb bytes.Buffer
	if code := run([]string{"machine", "--quick", "--json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
	var got struct {
		CacheFile string        `json:"cache_file"`
		Measured  bool          `json:"measured_now"`
		Machine   *probe.Result `json:"machine"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out.String())
	}
	if !got.Measured || got.Machine == nil || !got.Machine.Quick || len(got.Machine.Figures) == 0 {
		t.Fatalf("first run: measured %v, machine %+v", got.Measured, got.Machine)
	}
	if _, err := os.Stat(got.CacheFile); err != nil || !strings.HasPrefix(got.CacheFile, cache) {
		t.Errorf("cache file %q: %v (want it under %s)", got.CacheFile, err, cache)
	}
	if got.Machine.PeakMACs("i8", "go") <= 0 {
		t.Errorf("no Go int8 figure: %+v", got.Machine.Figures)
	}

	// The second run shows the cached figures as a table.
	out.Reset()
	if code := run([]string{"machine", "--quick"}, &out, &errb); code != 0 {
		t.Fatalf("second run: exit %d, stderr %s", code, errb.String())
	}
	text := out.String()
	for _, want := range []string{"cached", filepath.Base(got.CacheFile), "Go int8 MAC", "GMAC/s", "roofline:"} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
	if got.Machine.Unavailable == "" && !strings.Contains(text, "GB/s") {
		t.Errorf("table lacks read bandwidth:\n%s", text)
	}
}

func TestMachineBadArgs(t *testing.T) {
	for _, args := range [][]string{{"machine", "--nope"}, {"machine", "extra"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %s)", args, code, errb.String())
		}
	}
}

// The table's layout, on fixed figures.
func TestPrintMachineGolden(t *testing.T) {
	m := &probe.Result{
		CPU: "Test CPU", GOOS: "linux", GOARCH: "amd64", Cores: 2,
		Caches:     probe.Caches{L1D: 48 << 10, L2: 1 << 20, L3: 32 << 20},
		MeasuredAt: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC), Seconds: 2.5,
		Statistic: "best of 9", ClockGHz: 4.1,
		Read: []probe.Point{{WorkingSet: 4 << 20, BytesPerSec: 100e9}, {WorkingSet: 128 << 20, BytesPerSec: 25e9}},
		Figures: []probe.Figure{
			{Name: "read zmm 4MiB", Kind: probe.KindRead, ISA: "avx512f", Threads: 1, Unit: "GB/s", Best: 100, Median: 90, Samples: 9},
			{Name: "VPDPBUSD zmm", Kind: probe.KindInt8, ISA: "avx512vnni", Threads: 1, Unit: "GMAC/s", Best: 232.5, Median: 230, Samples: 9},
			{Name: "VFMADD231PS zmm", Kind: probe.KindF32, ISA: "avx512f", Threads: 1, Unit: "GFMA/s", Best: 57.5, Median: 57, Samples: 9},
			{Name: "SDOT .4S", Kind: probe.KindInt8, ISA: "neon+dotprod", Threads: 1, Unit: "GMAC/s", Unavailable: "not arm64"},
		},
	}
	var b bytes.Buffer
	printMachine(&b, m, "/cache/machine-x.json", false)
	want := `cpu:      Test CPU (linux/amd64, 2 CPUs; L1d 48 KiB, L2 1 MiB, L3 32 MiB)
figures:  cached, 2026-11-25 18:00:00Z in 2.5 s; best of 9
cache:    /cache/machine-x.json (qkbench machine --refresh measures again)
clock:    ~4.10 GHz (dependent integer adds)
roofline: best int8 232.5 GMAC/s, best f32 57.5 GFMA/s, read 100.0 GB/s at 4 MiB, 25.0 GB/s from DRAM (128 MiB working
          set)

figure                           threads      best    median  unit    isa
read zmm 4MiB                          1    100.00     90.00  GB/s    avx512f
VPDPBUSD zmm                           1    232.50    230.00  GMAC/s  avx512vnni
VFMADD231PS zmm                        1     57.50     57.00  GFMA/s  avx512f
SDOT .4S                               1         -         -  GMAC/s  neon+dotprod   unavailable: not arm64
`
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
