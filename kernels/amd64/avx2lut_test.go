package amd64

import (
	"testing"

	"github.com/qkbench/qkbench/kernels"
)

// The conformance suite runs avx2lut-i8 with every registered kernel
// (kernels/all, TestConformance).

// TestA2DigitPlanes: every codebook of [-2, 2]^4 is c plus one plane of
// digits in {-1, 0, 1} when its values span at most 2, else two planes, and
// the index byte of every digit pair says which pair it is.
func TestA2DigitPlanes(t *testing.T) {
	var cb kernels.Codebook
	for i := 0; i < 625; i++ {
		for j, n := 0, i; j < 4; j, n = j+1, n/5 {
			cb[j] = int8(n%5) - 2
		}
		planes, d, c := a2DigitPlanes(cb)
		span := max(cb[0], cb[1], cb[2], cb[3]) - min(cb[0], cb[1], cb[2], cb[3])
		if want := map[bool]int{true: 1, false: 2}[span <= 2]; planes != want {
			t.Fatalf("cb %v: %d planes, want %d", cb.Values(), planes, want)
		}
		for code, v := range cb {
			sum := c
			for pl := 0; pl < 2; pl++ {
				if dv := d[pl][code]; dv < -1 || dv > 1 || pl >= planes && dv != 0 {
					t.Fatalf("cb %v: digit %d of code %d in plane %d (of %d)", cb.Values(), dv, code, pl, planes)
				}
				sum += d[pl][code]
			}
			if sum != v {
				t.Fatalf("cb %v: code %d is %d + digits %d, %d = %d, want %d", cb.Values(), code, c, d[0][code], d[1][code], sum, v)
			}
		}
	}
	seen := map[byte]bool{}
	for d0 := 0; d0 < 3; d0++ {
		for d1 := 0; d1 < 3; d1++ {
			s := a2State[d0][d1]
			if (s == 0x80) != (d0 == 1 && d1 == 1) || s != 0x80 && (s > 7 || seen[s]) {
				t.Fatalf("digits (%d, %d): index byte %#x", d0-1, d1-1, s)
			}
			seen[s] = true
		}
	}
}

// TestAVX2LUTSuperBlocks: row counts past one, two and a partial 1024-row
// super-block, ranges that start, end or cross inside and between blocks
// and super-blocks, columns past whole chunks (512 columns, 256 with two
// planes), bit for bit against ref-i8 over two Loads (both chunk orders).
func TestAVX2LUTSuperBlocks(t *testing.T) {
	usable(t, AVX2LUTI8)
	sb := a2Super * a2Block
	for _, c := range []struct {
		cb         kernels.Codebook
		rows, cols int
		planes     int
	}{
		{kernels.Ternary, sb + 1, 545, 1}, {kernels.Ternary, 2 * sb, 1024, 1}, {kernels.Ternary, 2*sb + 3*a2Block + 7, 1000, 1},
		{kernels.QK256, sb + 1, 500, 2}, {kernels.QK256, 2*sb + 3*a2Block + 7, 300, 2},
	} {
		m, _ := kernels.NewMatrix(1, 1, c.cb, 1)
		p, err := AVX2LUTI8.Prepare(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.(*a2Prepared).planes; got != c.planes {
			t.Fatalf("codebook %v: %d digit planes, want %d", c.cb.Values(), got, c.planes)
		}
		lutCheckCuts(t, AVX2LUTI8, c.cb, c.rows, c.cols, [][]int{
			{0, c.rows},
			{0, sb, c.rows},
			{0, 100, sb - a2Block, sb + 5, c.rows},
			{0, sb / 2, sb + a2Block, 2*sb + 1, c.rows},
		})
	}
}
