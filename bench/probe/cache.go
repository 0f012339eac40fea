package probe

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/qkbench/qkbench/internal/atomicfile"
	"github.com/qkbench/qkbench/internal/smallfile"
	"github.com/qkbench/qkbench/machine"
)

// describe fills in what identifies the machine (no measurement).
func describe() *Result {
	hw := machine.Hardware()
	feats := append([]string(nil), hw.Features...)
	sort.Strings(feats)
	m := &Result{
		Version:   FormatVersion,
		CPU:       hw.CPU,
		GOOS:      runtime.GOOS,
		GOARCH:    runtime.GOARCH,
		Features:  feats,
		Cores:     hw.Threads,
		Caches:    Caches{L1D: hw.L1D, L2: hw.L2, L3: hw.L3},
		GoVersion: runtime.Version(),
	}
	m.Key = key(m, asmUnavailable())
	return m
}

// cpuName returns the CPU's name (machine.Hardware: cpuid's brand, the
// OS's name, or "unknown <GOARCH> CPU").
func cpuName() string { return machine.Hardware().CPU }

// key hashes what the figures depend on: CPU brand, features, caches, core
// count, GOARCH, whether the assembly is built and the format version.
func key(m *Result, build string) string {
	h := sha256.New()
	fmt.Fprintf(h, "v%d\n%s\n%s/%s\n%s\n%d %d %d\n%d\n%s\n", FormatVersion, m.CPU, m.GOOS, m.GOARCH,
		strings.Join(m.Features, ","), m.Caches.L1D, m.Caches.L2, m.Caches.L3, m.Cores, build)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Key returns this machine's cache key.
func Key() string { return describe().Key }

// DefaultCacheDir returns os.UserCacheDir()/qkbench.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("probe: no user cache directory: %w", err)
	}
	return filepath.Join(d, "qkbench"), nil
}

// CachePath returns the cache file for this machine in dir ("" means
// DefaultCacheDir): dir/machine-<key>.json.
func CachePath(dir string) (string, error) {
	if dir == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return "", err
		}
		dir = d
	}
	return filepath.Join(dir, "machine-"+Key()+".json"), nil
}

// MaxCacheBytes bounds a machine file (a few KB in practice).
const MaxCacheBytes = 16 << 20

// Load reads a Result saved by Save and checks that it is one this
// version wrote with sane figures. It does not check that it describes the
// running machine (compare Key; Cached does).
func Load(path string) (*Result, error) {
	b, err := smallfile.Read(path, MaxCacheBytes)
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	var m Result
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("probe: %s: not a machine file: %w", path, err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("probe: %s: %w", path, err)
	}
	return &m, nil
}

func (m *Result) validate() error {
	if m.Version != FormatVersion {
		return fmt.Errorf("format version %d, want %d", m.Version, FormatVersion)
	}
	if m.Key == "" {
		return errors.New("no machine key")
	}
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) || v < 0 }
	for _, f := range m.Figures {
		if bad(f.Best) || bad(f.Median) || f.Median > f.Best {
			return fmt.Errorf("figure %q: best %v, median %v: want finite, >= 0, median <= best", f.Name, f.Best, f.Median)
		}
	}
	for _, ps := range [][]Point{m.Read, m.ReadThreads} {
		for i, p := range ps {
			if p.WorkingSet <= 0 || bad(p.BytesPerSec) || p.BytesPerSec == 0 {
				return fmt.Errorf("read point %d: working set %d, %v B/s: want both positive", i, p.WorkingSet, p.BytesPerSec)
			}
			if i > 0 && p.WorkingSet <= ps[i-1].WorkingSet {
				return fmt.Errorf("read points not sorted by working set (%d after %d)", p.WorkingSet, ps[i-1].WorkingSet)
			}
		}
	}
	if bad(m.ClockGHz) {
		return fmt.Errorf("clock %v GHz", m.ClockGHz)
	}
	return nil
}

// Save writes m as indented JSON to path (creating its directory),
// through a temporary file so that a reader never sees half a file.
func (m *Result) Save(path string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	if err := atomicfile.WriteFile(path, append(b, '\n')); err != nil {
		return fmt.Errorf("probe: writing %s: %w", path, err)
	}
	return nil
}

// CacheOptions control Cached.
type CacheOptions struct {
	Options
	// Dir holds the cache files; "" means DefaultCacheDir.
	Dir string
	// Refresh measures again even when a cached file is there.
	Refresh bool
}

// Cached returns this machine's figures from its cache file when there is
// a valid one for this machine (a quick measurement does not stand in for
// a full one), and otherwise measures with Run and saves the result. It
// also returns the cache file's path and whether it measured now. When
// there is no cache directory or saving fails it returns the measured
// Result together with the error.
func Cached(opts CacheOptions) (m *Result, path string, measured bool, err error) {
	path, err = CachePath(opts.Dir)
	if err != nil {
		// No cache directory: measure anyway, and say why nothing is kept.
		m, rerr := Run(opts.Options)
		if rerr != nil {
			return nil, "", true, rerr
		}
		return m, "", true, err
	}
	if !opts.Refresh {
		m, err := Load(path)
		switch {
		case err == nil && m.Key == Key() && (!m.Quick || opts.Quick):
			return m, path, false, nil
		case err != nil && !errors.Is(err, fs.ErrNotExist) && opts.Progress != nil:
			fmt.Fprintf(opts.Progress, "measuring again: %v\n", err)
		}
	}
	m, err = Run(opts.Options)
	if err != nil {
		return nil, path, true, err
	}
	if err := m.Save(path); err != nil {
		return m, path, true, err
	}
	return m, path, true, nil
}
