package machine

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeSys writes files under a temporary root.
func fakeSys(t *testing.T, files map[string]string) sysfs {
	root := t.TempDir()
	for p, v := range files {
		p = filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return sysfs{root: root}
}

func cacheFiles(m map[string]string, cpu string, idx int, level, typ, size string) {
	d := "sys/devices/system/cpu/cpu" + cpu + "/cache/index" + string(rune('0'+idx)) + "/"
	m[d+"level"], m[d+"type"], m[d+"size"] = level, typ, size
}

// cpuid inside a VM described the host ("254 physical, 254 logical" on a
// 2-vCPU guest) and the L3 as "?"; the OS knows better.
func TestSysfsVM(t *testing.T) {
	f := map[string]string{
		"proc/cpuinfo":                  "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n\nprocessor\t: 1\nmodel name\t: AMD EPYC\n",
		"sys/devices/system/cpu/online": "0-1",
	}
	for _, c := range []string{"0", "1"} {
		f["sys/devices/system/cpu/cpu"+c+"/topology/physical_package_id"] = "0"
		f["sys/devices/system/cpu/cpu"+c+"/topology/core_id"] = c
	}
	cacheFiles(f, "0", 0, "1", "Data", "32K")
	cacheFiles(f, "0", 1, "1", "Instruction", "32K")
	cacheFiles(f, "0", 2, "2", "Unified", "1024K")
	cacheFiles(f, "0", 3, "3", "Unified", "520192K") // a host-sized L3, as some hypervisors report
	s := fakeSys(t, f)
	if got := s.cpuModel(); got != "AMD EPYC" {
		t.Errorf("cpuModel = %q", got)
	}
	online, cores, sockets, perCore := s.topology([]int{0, 1})
	if online != 2 || cores != 2 || sockets != 1 || perCore != 1 {
		t.Errorf("topology = %d online, %d cores, %d sockets; want 2, 2, 1", online, cores, sockets)
	}
	l1, l2, l3, ok := s.caches(0)
	if !ok || l1 != 32<<10 || l2 != 1<<20 || l3 != 508<<20 {
		t.Errorf("caches = %d %d %d %v", l1, l2, l3, ok)
	}
	m := &Machine{CPU: "AMD EPYC 9R45 96-Core Processor", OSCPU: "AMD EPYC", Threads: 2, Online: 2, Cores: cores, Sockets: sockets, ThreadsPerCore: 1,
		L1D: l1, L2: l2, L3: l3, CacheSource: "sysfs", Hypervisor: "KVM"}
	for got, want := range map[string]string{
		m.CPUText():    "AMD EPYC 9R45 96-Core Processor; the OS says AMD EPYC",
		m.CoresText():  "2 usable CPUs: 2 cores, 1 socket, no SMT",
		m.CachesText(): "L1d 32 KiB, L2 1 MiB, L3 508 MiB (from sysfs; as the KVM hypervisor reports them: a VM's sizes may not be the hardware's)",
	} {
		if got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	}
}

func TestSysfsSMTAndSockets(t *testing.T) {
	f := map[string]string{"sys/devices/system/cpu/online": "0-7"}
	// 8 CPUs: 2 sockets × 2 cores × 2 threads; this process may use 0-5.
	for c := 0; c < 8; c++ {
		d := "sys/devices/system/cpu/cpu" + string(rune('0'+c)) + "/topology/"
		f[d+"physical_package_id"] = string(rune('0' + c/4))
		f[d+"core_id"] = string(rune('0' + c%2))
	}
	s := fakeSys(t, f)
	online, cores, sockets, perCore := s.topology([]int{0, 1, 2, 3, 4, 5})
	if online != 8 || cores != 4 || sockets != 2 || perCore != 2 {
		t.Errorf("topology = %d online, %d cores, %d sockets, %d per core; want 8, 4, 2, 2", online, cores, sockets, perCore)
	}
	m := &Machine{Threads: 6, Online: 8, Cores: 4, Sockets: 2, ThreadsPerCore: perCore}
	if got, want := m.CoresText(), "6 usable CPUs of 8 online: 4 cores, 2 sockets, SMT (2 threads per core)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSysfsMissing(t *testing.T) {
	s := fakeSys(t, map[string]string{"proc/cpuinfo": "processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd49\n"})
	if got := s.cpuModel(); got != "Arm Neoverse N2" {
		t.Errorf("cpuModel = %q", got)
	}
	if _, cores, sockets, _ := s.topology([]int{0}); cores != 0 || sockets != 0 {
		t.Errorf("no topology files: %d cores, %d sockets, want 0 (unknown)", cores, sockets)
	}
	if _, _, _, ok := s.caches(0); ok {
		t.Error("no cache files, but caches found")
	}
	m := &Machine{Threads: 4}
	if got := m.CoresText(); got != "4 usable CPUs (cores and sockets unknown)" {
		t.Errorf("CoresText = %q", got)
	}
	if got := m.CachesText(); got != "L1d unknown, L2 unknown, L3 unknown" {
		t.Errorf("CachesText = %q", got)
	}
}

func TestParseListAndSize(t *testing.T) {
	if got := parseList("0-3,8,10-11"); len(got) != 7 || got[4] != 8 || got[6] != 11 {
		t.Errorf("parseList = %v", got)
	}
	if got := parseList("5-2,x,-1"); len(got) != 0 {
		t.Errorf("parseList of junk = %v", got)
	}
	for in, want := range map[string]int64{"32K": 32 << 10, "1024K": 1 << 20, "32M": 32 << 20, "512": 512, "": 0, "-1K": 0, "99999999999999999G": 0} {
		if got := parseSize(in); got != want {
			t.Errorf("parseSize(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestDescribe(t *testing.T) {
	m := Describe()
	if m.OS != runtime.GOOS || m.Arch != runtime.GOARCH || m.GoVersion != runtime.Version() {
		t.Errorf("os/arch/go = %s/%s/%s", m.OS, m.Arch, m.GoVersion)
	}
	if m.CPU == "" || m.Vendor == "" || m.CC == "" || m.Host == "" || m.Commit == "" || m.Threads != runtime.NumCPU() || m.Version == "" {
		t.Errorf("empty fields in %+v", m)
	}
	if runtime.GOOS == "linux" && (m.Cores < 1 || m.Cores > m.Threads || m.Online < m.Threads) {
		t.Errorf("linux: %d usable CPUs, %d cores, %d online", m.Threads, m.Cores, m.Online)
	}
	if runtime.GOARCH == "amd64" && len(m.Features) == 0 {
		t.Error("no CPU features on amd64")
	}
	// In a git checkout of qkbench (as in development and CI) the commit
	// and dirty state must be found.
	root := ModuleRoot()
	if root == "" {
		t.Fatal("ModuleRoot found no qkbench go.mod above the test's directory")
	}
	if out, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output(); err == nil {
		if want := strings.TrimSpace(string(out)); m.Commit != want || m.Dirty == nil {
			t.Errorf("commit %q dirty %v, want %q and a dirty state", m.Commit, m.Dirty, want)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"cpu":`, `"features":`, `"logical_cores":`, `"commit":`, `"dirty":`, `"cc_version":`, `"qkbench_version":`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s: %s", key, b)
		}
	}
}

func TestIsModuleRoot(t *testing.T) {
	dir := t.TempDir()
	if isModuleRoot(dir) {
		t.Fatal("empty dir is a module root")
	}
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/other\n\ngo 1.26\n"), 0o644)
	if isModuleRoot(dir) {
		t.Fatal("another module counted as qkbench")
	}
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("// c\nmodule "+ModulePath+"\n"), 0o644)
	if !isModuleRoot(dir) {
		t.Fatal("qkbench go.mod not recognized")
	}
}
