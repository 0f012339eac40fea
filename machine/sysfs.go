package machine

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// sysfs reads Linux's /sys and /proc below root ("/", or a test folder).
type sysfs struct{ root string }

func (s sysfs) read(path string) string {
	b, err := os.ReadFile(filepath.Join(s.root, path))
	if err != nil || len(b) > 1<<20 {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// cpuModel is the CPU's name as /proc/cpuinfo gives it: "model name" on
// x86; on Arm the core named from "CPU implementer" and "CPU part".
func (s sysfs) cpuModel() string {
	f, err := os.Open(filepath.Join(s.root, "proc/cpuinfo"))
	if err != nil {
		return ""
	}
	defer f.Close()
	var impl, part string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "model name", "Model Name", "cpu model":
			if v != "" {
				return v
			}
		case "CPU implementer":
			impl = v
		case "CPU part":
			if part == "" {
				part = v
			}
		}
	}
	return armCore(impl, part)
}

// armCores names common Arm cores by implementer and part number (MIDR):
// the cores of the arm64 machines people benchmark on, cloud CI runners
// included. Others are named by their numbers.
var armCores = map[string]string{
	"0x41/0xd03": "Arm Cortex-A53", "0x41/0xd04": "Arm Cortex-A35", "0x41/0xd05": "Arm Cortex-A55",
	"0x41/0xd07": "Arm Cortex-A57", "0x41/0xd08": "Arm Cortex-A72", "0x41/0xd09": "Arm Cortex-A73",
	"0x41/0xd0a": "Arm Cortex-A75", "0x41/0xd0b": "Arm Cortex-A76", "0x41/0xd0c": "Arm Neoverse N1",
	"0x41/0xd0d": "Arm Cortex-A77", "0x41/0xd40": "Arm Neoverse V1", "0x41/0xd41": "Arm Cortex-A78",
	"0x41/0xd44": "Arm Cortex-X1", "0x41/0xd46": "Arm Cortex-A510", "0x41/0xd47": "Arm Cortex-A710",
	"0x41/0xd48": "Arm Cortex-X2", "0x41/0xd49": "Arm Neoverse N2", "0x41/0xd4a": "Arm Neoverse E1",
	"0x41/0xd4f": "Arm Neoverse V2", "0x41/0xd80": "Arm Cortex-A520", "0x41/0xd81": "Arm Cortex-A720",
	"0x41/0xd82": "Arm Cortex-X4", "0x41/0xd84": "Arm Neoverse V3", "0x41/0xd8e": "Arm Neoverse N3",
	"0xc0/0xac3": "Ampere-1", "0xc0/0xac4": "Ampere-1a",
	"0x61/0x022": "Apple M1 Icestorm", "0x61/0x023": "Apple M1 Firestorm",
}

func armCore(impl, part string) string {
	if impl == "" || part == "" {
		return ""
	}
	impl, part = strings.ToLower(impl), strings.ToLower(part)
	if n, ok := armCores[impl+"/"+part]; ok {
		return n
	}
	return "Arm implementer " + impl + " part " + part
}

// parseList reads a sysfs CPU list such as "0-3,8,10-11".
func parseList(s string) []int {
	var out []int
	for _, r := range strings.Split(strings.TrimSpace(s), ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a || b-a > 1<<16 {
				continue
			}
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out
}

// topology counts the online CPUs, and the physical cores and sockets of
// the given (usable) CPUs, and the most of them that share one core (2
// with SMT); 0 for what sysfs does not say.
func (s sysfs) topology(cpus []int) (online, cores, sockets, perCore int) {
	online = len(parseList(s.read("sys/devices/system/cpu/online")))
	coreSet, pkgSet := map[string]int{}, map[string]bool{}
	for _, c := range cpus {
		dir := "sys/devices/system/cpu/cpu" + strconv.Itoa(c) + "/topology/"
		pkg, core := s.read(dir+"physical_package_id"), s.read(dir+"core_id")
		if pkg == "" || core == "" {
			return online, 0, 0, 0 // partial topology: say nothing rather than undercount
		}
		pkgSet[pkg] = true
		coreSet[pkg+"/"+core]++
		perCore = max(perCore, coreSet[pkg+"/"+core])
	}
	return online, len(coreSet), len(pkgSet), perCore
}

// caches reads cpu's data and unified caches: the L1 data cache, L2 and L3
// sizes in bytes; ok is false when sysfs lists none.
func (s sysfs) caches(cpu int) (l1d, l2, l3 int64, ok bool) {
	dir := "sys/devices/system/cpu/cpu" + strconv.Itoa(cpu) + "/cache/"
	for i := 0; i < 16; i++ {
		idx := dir + "index" + strconv.Itoa(i) + "/"
		level, typ, size := s.read(idx+"level"), s.read(idx+"type"), parseSize(s.read(idx+"size"))
		if level == "" {
			if i == 0 {
				return 0, 0, 0, false
			}
			break
		}
		if typ == "Instruction" || size <= 0 {
			continue
		}
		switch level {
		case "1":
			l1d, ok = size, true
		case "2":
			l2, ok = size, true
		case "3":
			l3, ok = size, true
		}
	}
	return l1d, l2, l3, ok
}

// parseSize reads "32K", "1024K", "32M" or a byte count.
func parseSize(s string) int64 {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 1<<40/mult {
		return 0
	}
	return n * mult
}
