//go:build amd64 && !purego

package probe

import (
	"testing"

	"github.com/klauspost/cpuid/v2"
)

// The read loops must add up every byte they are given; the compute loops
// must report the operations their unrolled blocks do.
func TestAmd64Loops(t *testing.T) {
	buf := newBuffer(3 * readBlock)
	for _, c := range []struct {
		name   string
		run    func(*byte, int, int) uint64
		vbytes int
		feats  []cpuid.FeatureID
	}{
		{"readY", readY, 32, []cpuid.FeatureID{cpuid.AVX2}},
		{"readZ", readZ, 64, []cpuid.FeatureID{cpuid.AVX512F}},
	} {
		if err := need(c.feats...)(); err != nil {
			t.Logf("%s not run: %v", c.name, err)
			continue
		}
		for _, reps := range []int{1, 2} {
			if got, want := c.run(&buf[0], len(buf), reps), readRef(buf, reps, c.vbytes, 8); got != want {
				t.Errorf("%s(%d bytes, %d reps) = %#x, want %#x", c.name, len(buf), reps, got, want)
			}
		}
	}
	if got := addChain(5); got != 160 {
		t.Errorf("addChain(5) = %d, want 160", got)
	}
	for _, l := range archCompute() {
		if l.avail() != nil || l.kind == KindClock {
			continue
		}
		one, three := l.run(1), l.run(3)
		if one <= 0 || three != 3*one {
			t.Errorf("%s: %d ops for 1 iteration, %d for 3", l.name, one, three)
		}
	}
	for _, c := range []struct {
		name  string
		run   func(int) int
		want  int
		feats []cpuid.FeatureID
	}{
		{"vpdpbusdZ", vpdpbusdZ, 12 * 64, []cpuid.FeatureID{cpuid.AVX512F, cpuid.AVX512VNNI}},
		{"maddubswAddwY", maddubswAddwY, 6 * 32, []cpuid.FeatureID{cpuid.AVX2}},
		{"fmaY", fmaY, 12 * 8, []cpuid.FeatureID{cpuid.AVX, cpuid.FMA3}},
		{"fmaZ", fmaZ, 12 * 16, []cpuid.FeatureID{cpuid.AVX512F}},
	} {
		if need(c.feats...)() != nil {
			continue
		}
		if got := c.run(1); got != c.want {
			t.Errorf("%s(1) = %d, want %d", c.name, got, c.want)
		}
	}
}
