//go:build amd64 && !purego

package amd64

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"
	"github.com/qkbench/qkbench/kernels"
)

// emulatorEnv names the command the tests run under when they run on an
// emulated CPU with AVX2 and without AVX-512 (make test-haswell sets it to
// "qemu-x86_64-static -cpu Haswell"); faultEnv asks the child of
// TestEmulatedCPU to execute an AVX-512 instruction.
const (
	emulatorEnv = "QKBENCH_EMULATOR"
	faultEnv    = "QKBENCH_AVX512_FAULT"
)

// TestEmulatedCPU proves what a run under a CPU model without AVX-512
// proves: the CPU reports AVX2 and no AVX-512, every AVX-512 kernel says it
// is unavailable (kerneltest.Run then checks that Prepare refuses it), the
// AVX2 kernels are usable (QKBENCH_REQUIRE makes their suites fail rather
// than skip), and an AVX-512 instruction faults: a child test that runs one
// under the same emulator must die of SIGILL. So an AVX-512 instruction in
// an AVX2 kernel would crash that kernel's tests here.
func TestEmulatedCPU(t *testing.T) {
	emu := strings.Fields(os.Getenv(emulatorEnv))
	if len(emu) == 0 {
		t.Skipf("not on an emulated CPU (%s is unset; see make test-haswell)", emulatorEnv)
	}
	if !cpuid.CPU.Supports(cpuid.AVX2) || cpuid.CPU.Supports(cpuid.AVX512F) {
		t.Fatalf("%s=%q: CPU %q has AVX2 %v, AVX512F %v; want a CPU model with AVX2 and without AVX-512",
			emulatorEnv, os.Getenv(emulatorEnv), cpuid.CPU.BrandName, cpuid.CPU.Supports(cpuid.AVX2), cpuid.CPU.Supports(cpuid.AVX512F))
	}
	for _, k := range []kernels.Kernel{AVX512VNNII8, AVX512LUTI8, ArchsimdI8} {
		if err := k.Available(); err == nil {
			t.Errorf("%s: available on a CPU without AVX-512", k.Info().ID)
		}
	}
	for _, k := range []kernels.Kernel{AVX2F32, AVX2I8, AVX2LUTI8} {
		if err := k.Available(); err != nil {
			t.Errorf("%s: unavailable on a CPU with AVX2: %v", k.Info().ID, err)
		}
	}
	cmd := exec.Command(emu[0], append(emu[1:], os.Args[0], "-test.run=^TestEmulatedAVX512Fault$", "-test.count=1")...)
	cmd.Env = append(os.Environ(), faultEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "SIGILL") {
		t.Fatalf("an AVX-512 instruction under %q: exit %v, want a death by SIGILL; output:\n%s", os.Getenv(emulatorEnv), err, out)
	}
}

// TestEmulatedAVX512Fault runs an AVX-512 instruction (lutFlip's VPXORD on
// zmm registers); TestEmulatedCPU runs it in a child that must die.
func TestEmulatedAVX512Fault(t *testing.T) {
	if os.Getenv(faultEnv) == "" {
		t.Skipf("runs only as TestEmulatedCPU's child (%s=1)", faultEnv)
	}
	var src [64]int8
	var dst [64]uint8
	lutFlip(&dst[0], &src[0], 1)
	t.Fatalf("lutFlip (AVX-512) ran on CPU %q: dst[0] = %#x", cpuid.CPU.BrandName, dst[0])
}
