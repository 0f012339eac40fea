// Package machine describes where a measurement ran: the CPU as cpuid and
// as the operating system name it, the CPUs this process may use and how
// they sit in cores and sockets, the caches, the toolchain and the qkbench
// build. Receipts of every verb carry one Machine.
//
// Counts and cache sizes come from the operating system first (Linux sysfs
// and the affinity mask), cpuid second: inside a VM cpuid describes the
// host (254 cores on a 2-vCPU guest) and the cache sizes are whatever the
// hypervisor reports, which a Machine says. What cannot be found out is
// zero (or Unknown), never a guess.
package machine

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/cpuid/v2"
)

// ModulePath is the module whose commit a Machine records.
const ModulePath = "github.com/qkbench/qkbench"

// Unknown is the value of a string that could not be found out.
const Unknown = "unknown"

// Machine describes where a run happened. Counts and sizes are 0 when
// unknown.
type Machine struct {
	Host string `json:"host"`
	// CPU is cpuid's brand string (what go test's "cpu:" line says), or
	// the OS's name where the CPU gives none.
	CPU string `json:"cpu"`
	// OSCPU is the CPU as the operating system names it (/proc/cpuinfo's
	// model name, or the Arm core from its part number); "" when the OS
	// does not say.
	OSCPU string `json:"os_cpu,omitempty"`
	// BenchCPU is the CPU as go test's "cpu:" line names it (GoTestCPU),
	// which results files repeat so that benchstat matches them.
	BenchCPU   string   `json:"bench_cpu,omitempty"`
	Vendor     string   `json:"vendor,omitempty"`
	Family     int      `json:"family,omitempty"`
	Model      int      `json:"model,omitempty"`
	Stepping   int      `json:"stepping,omitempty"`
	Hypervisor string   `json:"hypervisor,omitempty"` // cpuid's hypervisor vendor: "" on bare metal
	X86Level   int      `json:"x86_64_level,omitempty"`
	Features   []string `json:"features,omitempty"`
	CacheLine  int      `json:"cache_line_bytes,omitempty"`

	// Threads is how many logical CPUs this process may use (the affinity
	// mask: runtime.NumCPU); Cores the physical cores and Sockets the
	// packages they belong to, from sysfs; ThreadsPerCore is the most
	// usable CPUs on one core (2 with SMT). Online counts the logical CPUs
	// the OS has online.
	Threads        int `json:"logical_cores"`
	Cores          int `json:"physical_cores"`
	Sockets        int `json:"sockets,omitempty"`
	ThreadsPerCore int `json:"threads_per_core,omitempty"`
	Online         int `json:"online_cpus,omitempty"`
	GOMAXPROCS     int `json:"gomaxprocs,omitempty"`

	// Data cache sizes in bytes (L3: one instance, shared by the cores
	// listed with it), and where they come from: "sysfs" or "cpuid".
	L1D         int64  `json:"l1d_bytes,omitempty"`
	L2          int64  `json:"l2_bytes,omitempty"`
	L3          int64  `json:"l3_bytes,omitempty"`
	CacheSource string `json:"cache_source,omitempty"`

	OS        string `json:"goos"`
	Arch      string `json:"goarch"`
	OSRelease string `json:"os_release,omitempty"`
	GoVersion string `json:"go_version"`
	GOAMD64   string `json:"goamd64,omitempty"`
	CC        string `json:"cc_version,omitempty"` // first line of `cc --version`
	// Commit and Dirty name the qkbench source that ran; Dirty is nil
	// when unknown. Version is the build's own description (qkbench
	// version).
	Commit  string `json:"commit"`
	Dirty   *bool  `json:"dirty"`
	Version string `json:"qkbench_version,omitempty"`

	// Probe holds the measured peaks; nil when the run skipped the probe.
	Probe *Probe `json:"probe,omitempty"`
}

// Probe holds the machine's measured peaks (qkbench machine).
type Probe struct {
	ClockGHz   float64            `json:"clock_ghz,omitempty"`
	ReadGBps   []BandwidthPoint   `json:"read_gbps"`            // by working-set size, 1 thread
	Int8GMACps map[string]float64 `json:"int8_gmacps"`          // by instruction ("vpdpbusd", ...)
	F32GFMAps  float64            `json:"f32_gfmaps,omitempty"` // peak f32 FMA
	Source     string             `json:"source,omitempty"`     // "measured now" or the cache file
}

// BandwidthPoint is the read bandwidth at one working-set size.
type BandwidthPoint struct {
	Bytes int64   `json:"bytes"`
	GBps  float64 `json:"gbps"`
}

// ReadGBpsAt interpolates the probe's read bandwidth (GB/s) at a
// working-set size, log-linearly between measured sizes; 0 without a probe.
func (pr *Probe) ReadGBpsAt(bytes int64) float64 {
	if pr == nil || len(pr.ReadGBps) == 0 {
		return 0
	}
	pts := append([]BandwidthPoint(nil), pr.ReadGBps...)
	sort.Slice(pts, func(i, j int) bool { return pts[i].Bytes < pts[j].Bytes })
	if bytes <= pts[0].Bytes {
		return pts[0].GBps
	}
	for i := 1; i < len(pts); i++ {
		if bytes <= pts[i].Bytes {
			a, b := pts[i-1], pts[i]
			t := (math.Log(float64(bytes)) - math.Log(float64(a.Bytes))) / (math.Log(float64(b.Bytes)) - math.Log(float64(a.Bytes)))
			return a.GBps + t*(b.GBps-a.GBps)
		}
	}
	return pts[len(pts)-1].GBps
}

// Describe inspects this machine and the qkbench checkout or build. It
// never fails: what it cannot find out is Unknown, 0 or nil.
func Describe() *Machine {
	m := Hardware()
	m.Host = Unknown
	if h, err := os.Hostname(); err == nil && h != "" {
		m.Host = h
	}
	m.OSRelease = Unknown
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.OSRelease = orUnknown(strings.TrimSpace(string(b)))
	}
	m.CC = Unknown
	if out, err := command("", "cc", "--version"); err == nil {
		m.CC = orUnknown(firstLine(out))
	}
	b := ReadBuild()
	m.GOAMD64, m.Commit, m.Dirty, m.Version = b.GOAMD64, b.Commit, b.Dirty, b.String()
	return m
}

// Hardware is Describe without the host name, toolchain and checkout: the
// CPU, its topology and caches (cheap: no external commands).
func Hardware() *Machine {
	c := &cpuid.CPU
	m := &Machine{
		CPU:        strings.TrimSpace(c.BrandName),
		Vendor:     c.VendorString,
		Family:     c.Family,
		Model:      c.Model,
		Stepping:   c.Stepping,
		Hypervisor: hypervisor(c),
		Features:   c.FeatureSet(),
		CacheLine:  c.CacheLine,
		Threads:    runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		GoVersion:  runtime.Version(),
	}
	if runtime.GOARCH == "amd64" {
		m.X86Level = c.X64Level()
	}
	sys := sysfs{root: "/"}
	m.OSCPU = sys.cpuModel()
	m.BenchCPU = GoTestCPU()
	if m.CPU == "" {
		m.CPU = m.OSCPU
	}
	if m.CPU == "" {
		m.CPU = "unknown " + runtime.GOARCH + " CPU"
	}
	if m.Vendor == "" {
		m.Vendor = Unknown
	}
	cpus := usableCPUs()
	m.Online, m.Cores, m.Sockets, m.ThreadsPerCore = sys.topology(cpus)
	if l1, l2, l3, ok := sys.caches(first(cpus)); ok {
		m.L1D, m.L2, m.L3, m.CacheSource = l1, l2, l3, "sysfs"
	} else if c.Cache.L1D > 0 || c.Cache.L2 > 0 || c.Cache.L3 > 0 {
		m.L1D, m.L2, m.L3, m.CacheSource = int64(max(c.Cache.L1D, 0)), int64(max(c.Cache.L2, 0)), int64(max(c.Cache.L3, 0)), "cpuid"
	}
	return m
}

// hypervisor names the hypervisor cpuid reports ("" on bare metal).
func hypervisor(c *cpuid.CPUInfo) string {
	switch c.HypervisorVendorID {
	case cpuid.VendorUnknown:
		return strings.TrimSpace(strings.Trim(c.HypervisorVendorString, "\x00"))
	case cpuid.MSVM:
		return "Hyper-V"
	case cpuid.XenHVM:
		return "Xen"
	}
	return c.HypervisorVendorID.String()
}

func first(cpus []int) int {
	if len(cpus) == 0 {
		return 0
	}
	return cpus[0]
}

// GoTestCPU is the CPU name go test prints on its "cpu:" line: cpuid's
// brand string, else /proc/cpuinfo's model name, else "" (go test then
// prints no cpu line).
func GoTestCPU() string {
	if b := strings.TrimLeft(strings.TrimRight(cpuid.CPU.BrandName, "\x00"), " "); b != "" {
		return b
	}
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// LastLevelCache returns the largest cache size known (0 when none is).
func (m *Machine) LastLevelCache() int64 { return max(m.L1D, m.L2, m.L3) }

// Build is what the running qkbench binary says about itself.
type Build struct {
	Module    string // the main module's version ("(devel)" for a checkout build)
	Commit    string // vcs.revision, or the checkout's HEAD when the binary has none
	Time      string // vcs.time
	Dirty     *bool  // vcs.modified
	GoVersion string
	GOAMD64   string
	Settings  []string // GOEXPERIMENT, build tags, CGO_ENABLED: what selects kernels
}

// ReadBuild reads the binary's build information. A binary built without
// VCS stamping (go run, go test) asks git in the checkout it runs in; a
// binary that has a commit keeps it even when the checkout moved on.
func ReadBuild() Build {
	b := Build{Module: Unknown, Commit: Unknown, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		b.Module = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "GOAMD64":
				b.GOAMD64 = s.Value
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.time":
				b.Time = s.Value
			case "vcs.modified":
				d := s.Value == "true"
				b.Dirty = &d
			case "GOEXPERIMENT", "-tags", "CGO_ENABLED":
				b.Settings = append(b.Settings, s.Key+"="+s.Value)
			}
		}
	}
	if b.GOAMD64 == "" && runtime.GOARCH == "amd64" {
		b.GOAMD64 = "v1"
	}
	if root := ModuleRoot(); root != "" && b.Commit == Unknown {
		if out, err := command(root, "git", "rev-parse", "HEAD"); err == nil {
			b.Commit = orUnknown(firstLine(out))
			if st, err := command(root, "git", "status", "--porcelain"); err == nil {
				d := len(bytes.TrimSpace(st)) > 0
				b.Dirty = &d
			}
		}
	}
	return b
}

// String is the build in one line: "qkbench (devel) 1a2b3c4d5e6f (dirty),
// go1.26.0, GOEXPERIMENT=simd CGO_ENABLED=1".
func (b Build) String() string {
	s := "qkbench " + b.Module + " " + ShortCommit(b.Commit, b.Dirty)
	if b.Time != "" {
		s += " of " + b.Time
	}
	s += ", " + b.GoVersion
	if len(b.Settings) > 0 {
		s += ", " + strings.Join(b.Settings, " ")
	}
	return s
}

// ShortCommit is a commit's first 12 hex digits, with " (dirty)" when the
// tree had uncommitted changes.
func ShortCommit(c string, dirty *bool) string {
	if c == "" {
		c = Unknown
	}
	if len(c) > 12 && c != Unknown {
		c = c[:12]
	}
	if dirty != nil && *dirty {
		c += " (dirty)"
	}
	return c
}

// ModuleRoot returns the directory of qkbench's go.mod: the first one
// found walking up from the working directory, or else from the directory
// this file was compiled from; "" if neither is a qkbench checkout.
func ModuleRoot() string {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		if r := moduleRootAbove(dir); r != "" {
			return r
		}
	}
	return ""
}

// CheckoutRoot returns the qkbench checkout that holds the working
// directory ("" when the working directory is not inside one).
func CheckoutRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	return moduleRootAbove(wd)
}

func moduleRootAbove(dir string) string {
	for {
		if isModuleRoot(dir) {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			return ""
		}
		dir = up
	}
}

func isModuleRoot(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) == 2 && fs[0] == "module" {
			return strings.Trim(fs[1], `"`) == ModulePath
		}
	}
	return false
}

// command runs a short external command with a time limit.
func command(dir, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	return cmd.Output()
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(s)
}

func orUnknown(s string) string {
	if s == "" {
		return Unknown
	}
	return s
}

// DirtyString returns "true", "false" or "unknown".
func (m *Machine) DirtyString() string {
	if m.Dirty == nil {
		return Unknown
	}
	return fmt.Sprint(*m.Dirty)
}
