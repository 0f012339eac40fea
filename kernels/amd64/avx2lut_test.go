package amd64

import (
	"fmt"
	"slices"
	"testing"
	"unsafe"

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

// TestA2FastBoundary: a table pair's lookups read E itself only when every
// |q0| + |q1| of its four column pairs is at most 127. Pair sums of 127 and
// 128 with equal and opposite signs, against digits that add them up (E =
// ±127, ±128) and subtract them, in tables of the first and later passes and
// chunks, one and two planes: bit for bit against ref-i8, and the pairs at
// 127 take the one-lookup path, those at 128 the other.
func TestA2FastBoundary(t *testing.T) {
	usable(t, AVX2LUTI8)
	const cols = 1100 // three chunks with one plane, five with two
	x := make([]float32, cols)
	x[cols-1] = 127 // absmax: q = x for the integers below
	type pair struct{ col, a, b int }
	var pairs []pair
	for i, c := range []int{0, 66, 130, 258, 512, 602, 778, 1026} {
		s := 1 - 2*(i&1)
		pairs = append(pairs, pair{c, s * 64, s * 63}, pair{c + 16, 64, -64}, pair{c + 32, -100, 27})
		if i%2 == 0 {
			pairs = append(pairs, pair{c + 48, s * 64, s * 64}) // 128: not in a byte
		}
	}
	for _, p := range pairs {
		x[p.col&^1], x[p.col|1] = float32(p.a), float32(p.b)
	}
	q := make([]int8, cols)
	kernels.QuantizeI8(x, q)
	for _, p := range pairs {
		if int(q[p.col&^1]) != p.a || int(q[p.col|1]) != p.b {
			t.Fatalf("q[%d..] = %d, %d, want %d, %d", p.col&^1, q[p.col&^1], q[p.col|1], p.a, p.b)
		}
	}
	for _, cb := range []kernels.Codebook{kernels.Ternary, {1, -1, 0, 1}, kernels.QK256} {
		m, err := kernels.NewMatrix(70, cols, cb, 1)
		if err != nil {
			t.Fatal(err)
		}
		// Rows of all one code each (adds up), then codes alternating by
		// column (subtracts), then every combination by row.
		for r := 0; r < m.Rows; r++ {
			for c := 0; c < cols; c++ {
				code := uint8(r % 4)
				switch {
				case r >= 4 && r < 16:
					code = uint8((r + c) % 4)
				case r >= 16:
					code = uint8((r*7 + c*c) % 4)
				}
				m.SetCode(r, c, code)
			}
		}
		check(t, AVX2LUTI8, m, x, fmt.Sprintf("cb=%s pair sums 127 and 128", cb.Values()))
		p, err := AVX2LUTI8.Prepare(m)
		if err != nil {
			t.Fatal(err)
		}
		in := p.NewInput().(*a2Input)
		if err := in.Load(x); err != nil {
			t.Fatal(err)
		}
		fast := map[uint64]bool{}
		for ci := 0; ci+1 < len(in.p.chunks); ci++ {
			u0, u1 := in.p.chunks[ci], in.p.chunks[ci+1]
			seg := in.list[u0*in.p.planes*a2Pairs : u1*in.p.planes*a2Pairs]
			for i, e := range seg {
				// The table pair's first column, from toff.
				col := a2Pass*u0 + 8*int(e>>32)/a2Slot
				fast[uint64(col)] = i < in.nfast[ci]
			}
		}
		for _, pp := range pairs {
			col := uint64(pp.col &^ 7)
			want := true
			for _, o := range pairs {
				if uint64(o.col&^7) == col && max(o.a, -o.a)+max(o.b, -o.b) > 127 {
					want = false
				}
			}
			if got, ok := fast[col]; !ok || got != want {
				t.Fatalf("cb=%s: table pair of columns %d..%d on the one-lookup path: %v (listed %v), want %v", cb.Values(), col, col+7, got, ok, want)
			}
		}
	}
}

// TestA2Lists: avx2LUTFast's masks and avx2LUTLists' entries against what
// they promise, for every pattern of short table pairs in a pass, one and
// two planes, with the list ending right before an unmapped page (the back
// end of the list is written first).
func TestA2Lists(t *testing.T) {
	usable(t, AVX2LUTI8)
	// 16 passes: pass u has table pair k short unless bit k of u is set
	// (one column pair of 64 and 64: sum 128), then passes of random q.
	const npass = 24
	q := make([]int8, 32*npass)
	for u := 0; u < 16; u++ {
		for k := 0; k < a2Pairs; k++ {
			c := 32*u + 8*k + 2*(u%4)
			q[c], q[c+1] = 63, -64
			if u>>k&1 == 1 {
				q[c], q[c+1] = -64, 64
			}
		}
	}
	for i := 32 * 16; i < len(q); i++ {
		q[i] = int8(int(uint32(i*2654435761)>>24) - 128)
		if q[i] == -128 {
			q[i] = -127
		}
	}
	mask := make([]uint32, npass)
	avx2LUTFast(&q[0], npass, &mask[0])
	for u := range mask {
		for k := 0; k < a2Pairs; k++ {
			short := true
			for c := 32*u + 8*k; c < 32*u+8*k+8; c += 2 {
				a, b := int(q[c]), int(q[c+1])
				short = short && max(a, -a)+max(b, -b) <= 127
			}
			if got := mask[u]>>(8*k)&0xff == 0; got != short {
				t.Fatalf("pass %d pair %d: mask %#x says short %v, want %v", u, k, mask[u], got, short)
			}
		}
	}
	for planes := 1; planes <= 2; planes++ {
		for _, np := range []int{1, 3, 16, npass} {
			n := np * planes * a2Pairs
			b := guarded(t, 8*n)
			list := unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), n)
			nf := avx2LUTLists(&mask[0], np, planes, &list[0], n)
			if planes == 1 {
				// The one-plane function, into a second guarded list: the same.
				b1 := guarded(t, 8*n)
				list1 := unsafe.Slice((*uint64)(unsafe.Pointer(&b1[0])), n)
				if nf1 := avx2LUTLists1(&mask[0], np, &list1[0], n); nf1 != nf || !slices.Equal(list1, list) {
					t.Fatalf("%d passes: avx2LUTLists1 gives %d short, %#x; avx2LUTLists %d, %#x", np, nf1, list1, nf, list)
				}
			}
			want := map[uint64]bool{} // entry -> short
			for u := 0; u < np; u++ {
				for k := 0; k < a2Pairs; k++ {
					for pl := 0; pl < planes; pl++ {
						woff := ((u*planes+pl)*a2PassVecs + a2Halves*k) * a2VecBytes
						toff := (u*a2Pairs + k) * a2Slot
						want[uint64(woff)|uint64(toff)<<32] = mask[u]>>(8*k)&0xff == 0
					}
				}
			}
			for i, e := range list {
				short, ok := want[e]
				if !ok || short != (i < nf) {
					t.Fatalf("planes %d, %d passes: entry %d of %d (%d short) = %#x: listed %v, short %v", planes, np, i, n, nf, e, ok, short)
				}
				delete(want, e)
			}
			if len(want) != 0 {
				t.Fatalf("planes %d, %d passes: %d entries missing", planes, np, len(want))
			}
		}
	}
}
