package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// CPUMeter measures how much of the machine's CPU time other processes use
// over an interval: all CPUs' busy time, less what the caller says its own
// processes used.
type CPUMeter struct {
	busy, total float64
	ok          bool
}

// StartCPUMeter starts measuring (a zero meter when the system cannot
// say, see Other).
func StartCPUMeter() CPUMeter {
	b, t, ok := machineCPU()
	return CPUMeter{busy: b, total: t, ok: ok}
}

// Other returns the share (0..1) of the machine's CPU time since the meter
// started that was busy beyond own seconds of CPU time (this process and
// its children doing the work measured); ok is false when unknown.
func (m CPUMeter) Other(own float64) (share float64, ok bool) {
	b, t, ok2 := machineCPU()
	if !m.ok || !ok2 || t-m.total <= 0 {
		return 0, false
	}
	return max(0, b-m.busy-own) / (t - m.total), true
}

// BusyWarning measures the machine for d while this process idles and
// returns a warning when other processes used more than a tenth of its CPU
// time ("" when the machine is quiet or the system cannot say).
func BusyWarning(ctx context.Context, d time.Duration) string {
	m := StartCPUMeter()
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return ""
	}
	share, ok := m.Other(0)
	if !ok || share <= 0.1 {
		return ""
	}
	return fmt.Sprintf("the machine is busy: other processes used %.0f%% of its CPU time just now; timings will be noisier", 100*share)
}

// Governor returns the CPU frequency governor of CPU 0 ("" when the system
// does not say, as in most VMs).
func Governor() string {
	b, err := os.ReadFile("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
