package machine

import (
	"fmt"
	"strings"
)

// CPUText names the CPU: cpuid's brand, and the OS's name for it when that
// says something else ("AMD EPYC 9R45; the OS says AMD EPYC").
func (m *Machine) CPUText() string {
	if m.OSCPU != "" && !strings.EqualFold(m.OSCPU, m.CPU) {
		return m.CPU + "; the OS says " + m.OSCPU
	}
	return m.CPU
}

// CoresText says how many CPUs the run could use and how they sit in
// cores and sockets: "2 usable CPUs: 2 cores, 1 socket, no SMT".
func (m *Machine) CoresText() string {
	s := plural(m.Threads, "usable CPU")
	if m.Online > m.Threads {
		s += fmt.Sprintf(" of %d online", m.Online)
	}
	if m.Cores <= 0 {
		return s + " (cores and sockets unknown)"
	}
	s += ": " + plural(m.Cores, "core")
	if m.Sockets > 0 {
		s += ", " + plural(m.Sockets, "socket")
	}
	switch {
	case m.ThreadsPerCore > 1:
		s += fmt.Sprintf(", SMT (%d threads per core)", m.ThreadsPerCore)
	case m.ThreadsPerCore == 1:
		s += ", no SMT"
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// CachesText gives the data cache sizes ("unknown" for a size nobody
// reported), where they come from, and, in a VM, that the hypervisor
// reports them (a guest's L3 can be the host's, or made up).
func (m *Machine) CachesText() string {
	s := fmt.Sprintf("L1d %s, L2 %s, L3 %s", Bytes(m.L1D), Bytes(m.L2), Bytes(m.L3))
	var src []string
	if m.CacheSource != "" {
		src = append(src, "from "+m.CacheSource)
	}
	if m.Hypervisor != "" && m.CacheSource != "" {
		src = append(src, "as the "+m.Hypervisor+" hypervisor reports them: a VM's sizes may not be the hardware's")
	}
	if len(src) > 0 {
		s += " (" + strings.Join(src, "; ") + ")"
	}
	return s
}

// Bytes formats a size in bytes: "48 KiB", "1.5 MiB"; "unknown" for 0 or less.
func Bytes(n int64) string {
	switch {
	case n <= 0:
		return Unknown
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d B", n)
}

// Label names the machine in one short line, to tell runs apart: the CPU,
// the host and the commit ("AMD EPYC 9R45 · ci-runner-3 · 1a2b3c4d5e6f").
func (m *Machine) Label() string {
	return m.CPU + " · " + m.Host + " · " + ShortCommit(m.Commit, m.Dirty)
}
