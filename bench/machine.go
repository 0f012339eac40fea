package bench

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/cpuid/v2"
)

// ModulePath is the module whose commit a receipt records.
const ModulePath = "github.com/qkbench/qkbench"

// Unknown is the value of a Machine string that could not be found out.
const Unknown = "unknown"

// Machine describes where a measurement ran, for receipts (SPEC §6). Sizes
// are bytes; -1 means the CPU did not say.
type Machine struct {
	CPU            string   `json:"cpu"` // brand string
	Vendor         string   `json:"vendor"`
	Family         int      `json:"family"`
	Model          int      `json:"model"`
	Stepping       int      `json:"stepping"`
	Hypervisor     string   `json:"hypervisor,omitempty"`
	X86Level       int      `json:"x86_64_level,omitempty"` // 1..4 on amd64
	Features       []string `json:"features"`
	CacheLine      int      `json:"cache_line_bytes"`
	L1D            int      `json:"l1d_bytes"`
	L2             int      `json:"l2_bytes"`
	L3             int      `json:"l3_bytes"`
	LogicalCores   int      `json:"logical_cores"`
	PhysicalCores  int      `json:"physical_cores"`
	ThreadsPerCore int      `json:"threads_per_core"`
	NumCPU         int      `json:"num_cpu"` // CPUs this process may use
	GOMAXPROCS     int      `json:"gomaxprocs"`
	OS             string   `json:"os"`
	Arch           string   `json:"arch"`
	OSRelease      string   `json:"os_release"`
	GoVersion      string   `json:"go_version"`
	GOAMD64        string   `json:"goamd64,omitempty"`
	CC             string   `json:"cc"` // first line of `cc --version`
	Hostname       string   `json:"hostname"`
	Commit         string   `json:"commit"`
	Dirty          *bool    `json:"dirty"` // null when unknown
}

// Describe inspects this machine and the project checkout. It never
// fails: what it cannot find out is Unknown (or -1, or null).
func Describe() *Machine {
	c := &cpuid.CPU
	m := &Machine{
		CPU:            orUnknown(strings.TrimSpace(c.BrandName)),
		Vendor:         orUnknown(c.VendorString),
		Family:         c.Family,
		Model:          c.Model,
		Stepping:       c.Stepping,
		Features:       c.FeatureSet(),
		CacheLine:      c.CacheLine,
		L1D:            c.Cache.L1D,
		L2:             c.Cache.L2,
		L3:             c.Cache.L3,
		LogicalCores:   c.LogicalCores,
		PhysicalCores:  c.PhysicalCores,
		ThreadsPerCore: c.ThreadsPerCore,
		NumCPU:         runtime.NumCPU(),
		GOMAXPROCS:     runtime.GOMAXPROCS(0),
		OS:             runtime.GOOS,
		Arch:           runtime.GOARCH,
		GoVersion:      runtime.Version(),
		CC:             Unknown,
		Hostname:       Unknown,
		Commit:         Unknown,
	}
	if c.HypervisorVendorString != "" {
		m.Hypervisor = c.HypervisorVendorString
	}
	if runtime.GOARCH == "amd64" {
		m.X86Level = c.X64Level()
	}
	m.OSRelease = Unknown
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.OSRelease = orUnknown(strings.TrimSpace(string(b)))
	}
	if h, err := os.Hostname(); err == nil {
		m.Hostname = orUnknown(h)
	}
	if out, err := command("", "cc", "--version"); err == nil {
		m.CC = orUnknown(firstLine(out))
	}
	bi, _ := debug.ReadBuildInfo()
	if bi != nil {
		for _, s := range bi.Settings {
			switch s.Key {
			case "GOAMD64":
				m.GOAMD64 = s.Value
			case "vcs.revision":
				m.Commit = s.Value
			case "vcs.modified":
				d := s.Value == "true"
				m.Dirty = &d
			}
		}
	}
	if m.GOAMD64 == "" && runtime.GOARCH == "amd64" {
		m.GOAMD64 = "v1"
	}
	// A binary built with VCS stamping says which commit it is; ask git
	// only when it does not (go run, -buildvcs=false): a checkout moved on
	// since the build must not rename the binary's commit.
	if root := ModuleRoot(); root != "" && m.Commit == Unknown {
		if out, err := command(root, "git", "rev-parse", "HEAD"); err == nil {
			m.Commit = orUnknown(firstLine(out))
			if st, err := command(root, "git", "status", "--porcelain"); err == nil {
				d := len(bytes.TrimSpace(st)) > 0
				m.Dirty = &d
			} else {
				m.Dirty = nil
			}
		}
	}
	return m
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
		for {
			if isModuleRoot(dir) {
				return dir
			}
			up := filepath.Dir(dir)
			if up == dir {
				break
			}
			dir = up
		}
	}
	return ""
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
	cmd.Stdin = nil
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
	return strconv.FormatBool(*m.Dirty)
}
