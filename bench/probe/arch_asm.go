//go:build (amd64 || arm64) && !purego

package probe

import (
	"fmt"
	"strings"

	"github.com/klauspost/cpuid/v2"
)

func asmUnavailable() string { return "" }

// need returns a check that the CPU has every feature (as the OS reports
// it: XCR0 on amd64, HWCAP on arm64).
func need(fs ...cpuid.FeatureID) func() error {
	return func() error {
		var missing []string
		for _, f := range fs {
			if !cpuid.CPU.Supports(f) {
				missing = append(missing, f.String())
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("CPU (%s) lacks %s", cpuName(), strings.Join(missing, ", "))
		}
		return nil
	}
}
