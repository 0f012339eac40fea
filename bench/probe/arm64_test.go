//go:build arm64 && !purego

package probe

import (
	"math/rand/v2"
	"testing"

	"github.com/klauspost/cpuid/v2"
)

// TestSdotOnce runs one SDOT from its WORD encoding and compares with Go:
// a wrong encoding faults or computes something else.
func TestSdotOnce(t *testing.T) {
	if err := need(cpuid.ASIMD, cpuid.ASIMDDP)(); err != nil {
		t.Skipf("SDOT not run: %v", err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		var a, b [16]int8
		var acc, want [4]int32
		for i := range a {
			a[i], b[i] = int8(r.IntN(256)-128), int8(r.IntN(256)-128)
		}
		for i := range acc {
			acc[i] = int32(r.IntN(1<<20)) - 1<<19
			want[i] = acc[i]
			for j := range 4 {
				want[i] += int32(a[4*i+j]) * int32(b[4*i+j])
			}
		}
		sdotOnce(&acc, &a, &b)
		if acc != want {
			t.Fatalf("a %v b %v: got %v, want %v", a, b, acc, want)
		}
	}
}

func TestLoopsCountOps(t *testing.T) {
	if got := addChain(3); got != 96 {
		t.Errorf("addChain(3) = %d, want 96", got)
	}
	if got := fmlaLoop(3); got != 144 {
		t.Errorf("fmlaLoop(3) = %d, want 144", got)
	}
	if need(cpuid.ASIMDDP)() == nil {
		if got := sdotLoop(3); got != 576 {
			t.Errorf("sdotLoop(3) = %d, want 576", got)
		}
	}
	buf := newBuffer(4096)
	for _, reps := range []int{1, 3} {
		if got, want := readV(&buf[0], len(buf), reps), readRef(buf, reps, 16, 8); got != want {
			t.Errorf("readV(%d bytes, %d reps) = %#x, want %#x", len(buf), reps, got, want)
		}
	}
}
