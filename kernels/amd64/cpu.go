// Package amd64 holds the Go assembly kernels for x86-64, generated with avo
// by the amd64 command of kernels/_gen (with their stubs and layout
// constants: the *_stubs_*.go and *_consts.go files). Every kernel is registered on every platform; where the CPU or
// the build (purego, another GOARCH) lacks what it needs it is listed as
// unavailable with the reason, and never runs.
package amd64

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/klauspost/cpuid/v2"
)

// Feature is one CPU capability a kernel needs.
type Feature string

// The features the amd64 kernels ask for.
const (
	AVX2        Feature = "AVX2"
	FMA3        Feature = "FMA3"
	AVX512F     Feature = "AVX512F"
	AVX512BW    Feature = "AVX512BW"
	AVX512VL    Feature = "AVX512VL"
	AVX512VNNI  Feature = "AVX512_VNNI"
	AVX512VBMI  Feature = "AVX512_VBMI"
	AVX512VBMI2 Feature = "AVX512_VBMI2"
)

var cpuHas = map[Feature]cpuid.FeatureID{
	AVX2: cpuid.AVX2, FMA3: cpuid.FMA3, AVX512F: cpuid.AVX512F, AVX512BW: cpuid.AVX512BW,
	AVX512VL: cpuid.AVX512VL, AVX512VNNI: cpuid.AVX512VNNI, AVX512VBMI: cpuid.AVX512VBMI, AVX512VBMI2: cpuid.AVX512VBMI2,
}

// need returns nil when this build has assembly (see asmBuilt) and the CPU
// (with OS support for the register state, as cpuid checks) has every feature.
func need(fs ...Feature) error {
	if !asmBuilt {
		return fmt.Errorf("no amd64 assembly in this build (GOARCH=%s, purego tag or not amd64)", runtime.GOARCH)
	}
	var missing []string
	for _, f := range fs {
		if !cpuid.CPU.Supports(cpuHas[f]) {
			missing = append(missing, string(f))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("CPU %q lacks %s", cpuid.CPU.BrandName, strings.Join(missing, ", "))
	}
	return nil
}
