package probe

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// quick is shared by the tests that need a real measurement.
var quick struct {
	m   *Result
	err error
}

func quickMachine(t *testing.T) *Result {
	t.Helper()
	if quick.m == nil && quick.err == nil {
		quick.m, quick.err = Run(Options{Quick: true})
	}
	if quick.err != nil {
		t.Fatal(quick.err)
	}
	return quick.m
}

func TestRunQuick(t *testing.T) {
	m := quickMachine(t)
	for _, f := range m.Figures {
		t.Log(f)
		if f.Unavailable != "" {
			if f.Best != 0 || f.Median != 0 {
				t.Errorf("%s: unavailable (%s) but has figures %v, %v", f.Name, f.Unavailable, f.Best, f.Median)
			}
			continue
		}
		if !(f.Best > 0) || math.IsInf(f.Best, 0) || !(f.Median > 0) || f.Median > f.Best || f.Samples != 2 {
			t.Errorf("%s: best %v median %v samples %d: want finite 0 < median <= best, 2 samples", f.Name, f.Best, f.Median, f.Samples)
		}
	}
	if err := m.validate(); err != nil {
		t.Error(err)
	}
	// The plain-Go loops run in every build.
	if m.PeakMACs("i8", "go") <= 0 || m.PeakMACs("f32", "go") <= 0 {
		t.Errorf("Go loops: i8 %v, f32 %v MAC/s: want > 0", m.PeakMACs("i8", "go"), m.PeakMACs("f32", "go"))
	}
	asm := (runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64") && asmUnavailable() == ""
	if !asm {
		if m.Unavailable == "" || m.ReadBandwidth(1<<20) != 0 || m.ClockGHz != 0 {
			t.Errorf("no assembly: Unavailable %q, read %v, clock %v: want a reason and no figures", m.Unavailable, m.ReadBandwidth(1<<20), m.ClockGHz)
		}
		return
	}
	if m.Unavailable != "" {
		t.Errorf("Unavailable = %q in a build with assembly", m.Unavailable)
	}
	if !(m.ClockGHz > 0.1 && m.ClockGHz < 20) {
		t.Errorf("clock %v GHz: want a plausible positive figure", m.ClockGHz)
	}
	want := len(sizes) + 1
	if len(m.Read) != want {
		t.Errorf("%d read points, want %d: %+v", len(m.Read), want, m.Read)
	}
	if got := m.Read[len(m.Read)-1].WorkingSet; got < 4*m.Caches.Last() {
		t.Errorf("DRAM working set %d B < 4x last-level cache %d B", got, m.Caches.Last())
	}
	if m.Threads > 1 && len(m.ReadThreads) != 3 {
		t.Errorf("%d multi-thread read points, want 3", len(m.ReadThreads))
	}
	for _, ws := range []int64{1 << 10, 1 << 20, 3 << 20, 1 << 40} {
		if bw := m.ReadBandwidth(ws); !(bw > 0) || math.IsInf(bw, 0) {
			t.Errorf("ReadBandwidth(%d) = %v, want > 0", ws, bw)
		}
	}
	if m.BestInt8() <= 0 {
		t.Errorf("best int8 %v MAC/s", m.BestInt8())
	}
	if m.BestF32() <= 0 {
		t.Errorf("best f32 %v", m.BestF32())
	}
	if d := m.Floor(2<<20, 2048*4096, "i8"); d <= 0 {
		t.Errorf("Floor = %v, want > 0", d)
	}
}

// synthetic is a machine with round figures: 100 GB/s at 1 MiB, 25 from
// 64 MiB; int8 64 GMAC/s (VNNI), 32 (avx2), 1 (go); f32 16 GFMA/s.
func synthetic() *Result {
	fig := func(name, kind, isa string, best float64) Figure {
		return Figure{Name: name, Kind: kind, ISA: isa, Threads: 1, Best: best, Median: best, Samples: 1}
	}
	return &Result{
		Version: FormatVersion, Key: "test", Cores: 2, Threads: 2,
		Read:        []Point{{WorkingSet: 1 << 20, BytesPerSec: 100e9}, {WorkingSet: 4 << 20, BytesPerSec: 50e9}, {WorkingSet: 64 << 20, BytesPerSec: 25e9}},
		ReadThreads: []Point{{WorkingSet: 1 << 20, BytesPerSec: 190e9}, {WorkingSet: 64 << 20, BytesPerSec: 28e9}},
		Figures: []Figure{
			fig("VPDPBUSD zmm", KindInt8, "avx512vnni", 64),
			fig("VPMADDUBSW+VPADDW ymm", KindInt8, "avx2", 32),
			fig("VPMADDUBSW+VPADDW zmm", KindInt8, "avx512bw", 40),
			fig("Go int8 MAC", KindInt8, "go", 1),
			fig("VFMADD231PS zmm", KindF32, "avx512f", 16),
			fig("VFMADD231PS ymm", KindF32, "fma3", 12),
			fig("Go f32 MAC", KindF32, "go", 0.5),
			{Name: "SDOT .4S", Kind: KindInt8, ISA: "neon+dotprod", Unavailable: "no"},
		},
	}
}

func TestReadBandwidthInterpolates(t *testing.T) {
	m := synthetic()
	for _, c := range []struct {
		ws   int64
		want float64
	}{
		{1, 100e9}, {1 << 20, 100e9}, {2 << 20, 75e9}, {4 << 20, 50e9},
		{16 << 20, 37.5e9}, {64 << 20, 25e9}, {1 << 40, 25e9},
	} {
		if got := m.ReadBandwidth(c.ws); math.Abs(got-c.want) > 1e-3*c.want {
			t.Errorf("ReadBandwidth(%d) = %v, want %v", c.ws, got, c.want)
		}
	}
	if got := m.ReadBandwidthThreads(1<<20, 2); got != 190e9 {
		t.Errorf("2 threads at 1 MiB: %v, want 190e9", got)
	}
	if got := m.ReadBandwidthThreads(1<<20, 1); got != 100e9 {
		t.Errorf("1 thread at 1 MiB: %v, want 100e9", got)
	}
	m.ReadThreads[1].BytesPerSec = 10e9 // slower than one thread: other jobs ran
	if got := m.ReadBandwidthThreads(64<<20, 2); got != 25e9 {
		t.Errorf("2 threads below 1 thread: %v, want the 1-thread 25e9", got)
	}
	if got := (&Result{}).ReadBandwidth(1 << 20); got != 0 {
		t.Errorf("nothing measured: %v, want 0", got)
	}
}

func TestPeakMACs(t *testing.T) {
	m := synthetic()
	for _, c := range []struct {
		mode, isa string
		want      float64
	}{
		{"i8", "avx512vnni+vbmi", 64e9},
		{"i8", "avx512bw", 40e9},
		{"i8", "avx2", 32e9},
		{"i8", "c", 32e9},
		{"peer", "ggml-avx2", 32e9},
		{"i8", "go", 1e9},
		{"i8", "", 64e9},
		{"i8", "neon+dotprod", 64e9}, // SDOT unavailable: the machine's best
		{"i8", "neondot", 64e9},
		{"f32", "avx512f", 16e9},
		{"f32", "avx2", 12e9},
		{"f32", "go", 0.5e9},
		{"f32", "whatever", 16e9},
	} {
		if got := m.PeakMACs(c.mode, c.isa); got != c.want {
			t.Errorf("PeakMACs(%q, %q) = %v, want %v", c.mode, c.isa, got, c.want)
		}
	}
}

func TestBound(t *testing.T) {
	m := synthetic()
	// 2 MiB of weights at 75 GB/s: 27962 ns; 2048x4096 MACs at 64 GMAC/s: 131072 ns.
	b, err := m.Bound(Work{WeightBytes: 2 << 20, MACs: 2048 * 4096, Mode: "i8"})
	if err != nil {
		t.Fatal(err)
	}
	if b.BoundBy != "compute" || b.ComputeTime != 131072*time.Nanosecond || b.MemoryTime != 27962*time.Nanosecond || b.Floor != b.ComputeTime {
		t.Errorf("hot i8: %+v", b)
	}
	if got := m.Floor(2<<20, 2048*4096, "i8"); got != b.Floor {
		t.Errorf("Floor = %v, want %v", got, b.Floor)
	}
	// Cold: the same weights rotated through 64 MiB: 25 GB/s, memory bound.
	b, _ = m.Bound(Work{WeightBytes: 2 << 20, MACs: 1 << 20, Mode: "i8", WorkingSet: 64 << 20})
	if b.BoundBy != "memory" || b.MemoryTime != 83886*time.Nanosecond {
		t.Errorf("cold: %+v", b)
	}
	// Two threads: 190 GB/s and twice the peak.
	b, _ = m.Bound(Work{WeightBytes: 1 << 20, MACs: 1 << 30, Mode: "f32", Threads: 2})
	if b.BytesPerSec != 190e9 || b.MACsPerSec != 32e9 {
		t.Errorf("2 threads: %+v", b)
	}
	if _, err := (&Result{}).Bound(Work{WeightBytes: 1, MACs: 1, Mode: "i8"}); !errors.Is(err, ErrNotMeasured) {
		t.Errorf("empty machine: err %v, want ErrNotMeasured", err)
	}
	if _, err := m.Bound(Work{WeightBytes: -1}); err == nil {
		t.Error("negative weight bytes: no error")
	}
	if got := (&Result{}).Floor(1, 1, "i8"); got != 0 {
		t.Errorf("empty machine Floor = %v, want 0", got)
	}
}

func TestRooflineFraction(t *testing.T) {
	if got := RooflineFraction(50*time.Microsecond, 200*time.Microsecond); got != 0.25 {
		t.Errorf("got %v, want 0.25", got)
	}
	if got := RooflineFraction(0, time.Second); got != 0 {
		t.Errorf("zero floor: %v", got)
	}
	if got := RooflineFraction(time.Second, 0); got != 0 {
		t.Errorf("zero measured: %v", got)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	m := synthetic()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.ReadBandwidth(2<<20) != m.ReadBandwidth(2<<20) || back.PeakMACs("i8", "avx2") != 32e9 {
		t.Errorf("round trip changed the figures: %s", b)
	}
	bound, _ := m.Bound(Work{WeightBytes: 1 << 20, MACs: 1 << 20, Mode: "i8"})
	if _, err := json.Marshal(bound); err != nil {
		t.Error(err)
	}
}

func TestCached(t *testing.T) {
	dir := t.TempDir()
	m1, path, measured, err := Cached(CacheOptions{Options: Options{Quick: true}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !measured || filepath.Dir(path) != dir || !strings.HasPrefix(filepath.Base(path), "machine-"+Key()) {
		t.Errorf("first call: measured %v, path %s", measured, path)
	}
	m2, _, measured, err := Cached(CacheOptions{Options: Options{Quick: true}, Dir: dir})
	if err != nil || measured || !m2.MeasuredAt.Equal(m1.MeasuredAt) || m2.ReadBandwidth(1<<20) != m1.ReadBandwidth(1<<20) {
		t.Errorf("second call: err %v, measured %v: want the cached figures", err, measured)
	}
	// A cached quick measurement does not stand in for a full one, and a
	// full one does for a quick request: fake a full one and ask quick.
	full := *m1
	full.Quick = false
	full.Seconds = 12345
	if err := full.Save(path); err != nil {
		t.Fatal(err)
	}
	m3, _, measured, err := Cached(CacheOptions{Options: Options{Quick: true}, Dir: dir})
	if err != nil || measured || m3.Seconds != 12345 {
		t.Errorf("full cache for a quick request: err %v, measured %v", err, measured)
	}
	_, _, measured, err = Cached(CacheOptions{Options: Options{Quick: true}, Dir: dir, Refresh: true})
	if err != nil || !measured {
		t.Errorf("refresh: err %v, measured %v", err, measured)
	}
	// A file of another machine or a broken file is measured again.
	other := *m1
	other.Key = "someoneelse"
	other.Seconds = 999
	if err := other.Save(path); err != nil {
		t.Fatal(err)
	}
	m4, _, measured, err := Cached(CacheOptions{Options: Options{Quick: true}, Dir: dir})
	if err != nil || !measured || m4.Key != Key() {
		t.Errorf("other machine's file: err %v, measured %v, key %s", err, measured, m4.Key)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, measured, err := Cached(CacheOptions{Options: Options{Quick: true}, Dir: dir}); err != nil || !measured {
		t.Errorf("broken file: err %v, measured %v", err, measured)
	}
}

func TestLoadRejects(t *testing.T) {
	dir := t.TempDir()
	for name, edit := range map[string]func(*Result){
		"version":  func(m *Result) { m.Version = FormatVersion + 1 },
		"key":      func(m *Result) { m.Key = "" },
		"negative": func(m *Result) { m.Figures[0].Best = -1; m.Figures[0].Median = -2 },
		"median":   func(m *Result) { m.Figures[0].Median = m.Figures[0].Best * 2 },
		"unsorted": func(m *Result) { m.Read[0], m.Read[1] = m.Read[1], m.Read[0] },
		"zero bw":  func(m *Result) { m.Read[1].BytesPerSec = 0 },
	} {
		m := synthetic()
		edit(m)
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		if err := m.Save(path); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err == nil {
			t.Errorf("%s: Load accepted a bad file", name)
		}
	}
	m := synthetic()
	path := filepath.Join(dir, "good.json")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Errorf("good file: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
	// A cache that is a link to /dev/zero was read until memory ran out.
	zero := filepath.Join(dir, "zero.json")
	os.Symlink("/dev/zero", zero)
	if _, err := Load(zero); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("cache linked to /dev/zero: %v", err)
	}
}

func TestOptions(t *testing.T) {
	if _, err := Run(Options{Threads: -1}); err == nil {
		t.Error("Threads=-1: no error")
	}
}

// readRef is what the read loops compute: vectors of vbytes bytes go in turn
// to nacc accumulators of 64-bit lanes, reps times; the result is the xor
// of every lane.
func readRef(buf []byte, reps, vbytes, nacc int) uint64 {
	lanes := vbytes / 8
	acc := make([]uint64, nacc*lanes)
	for range reps {
		for v := 0; v*vbytes < len(buf); v++ {
			for l := range lanes {
				off := v*vbytes + 8*l
				var x uint64
				for j := 7; j >= 0; j-- {
					x = x<<8 | uint64(buf[off+j])
				}
				acc[(v%nacc)*lanes+l] += x
			}
		}
	}
	var s uint64
	for _, a := range acc {
		s ^= a
	}
	return s
}
