package gguf

import "testing"

// pairShift is pair written with shifts only; the multiply trick in pair must
// give the same bits for every input.
func pairShift(w uint64, sh uint) uint64 {
	x := w >> sh & 0x0303030303030303
	y := x | x>>6
	z := y & 0x000f000f000f000f
	z |= z >> 12
	return z&0xff | z>>24&0xff00
}

func TestPairMultiplyTrick(t *testing.T) {
	check := func(w uint64) {
		for sh := uint(0); sh <= 6; sh += 2 {
			if pair(w, sh) != pairShift(w, sh) {
				t.Fatalf("pair(%#x, %d) = %#x, want %#x", w, sh, pair(w, sh), pairShift(w, sh))
			}
		}
	}
	for i := uint64(0); i < 1<<20; i++ {
		check(i * 0x9e3779b97f4a7c15)
	}
	check(^uint64(0))
	check(0)
}
