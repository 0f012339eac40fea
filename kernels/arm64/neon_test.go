package arm64

import (
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/kerneltest"
	_ "github.com/qkbench/qkbench/kernels/scalar" // ref-* kernels
	"github.com/qkbench/qkbench/workloads"
)

// BenchmarkNeon times one whole GEMV (kerneltest.Bench) at the seed's
// 2048x4096, hot, against the scalar references. Under QEMU the times mean
// nothing; run it on arm64 hardware.
func BenchmarkNeon(b *testing.B) {
	w, err := workloads.Generate(workloads.Spec{Rows: 2048, Cols: 4096, Codebook: kernels.QK256, Seed: workloads.DefaultSeed})
	if err != nil {
		b.Fatal(err)
	}
	kerneltest.Bench(b, w, "neondot-i8", "neon-i8", "neon-f32", "ref-i8", "ref-f32")
}

// TestRegistered: both kernels are in the registry on every platform.
func TestRegistered(t *testing.T) {
	for _, id := range []string{"neon-f32", "neondot-i8", "neon-i8"} {
		k, err := kernels.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		if b := k.Info().Backend; b != "arm64" {
			t.Errorf("%s: backend %q, want arm64", id, b)
		}
	}
}

// TestUnavailableElsewhere: without the assembly both kernels say why and
// refuse to prepare.
func TestUnavailableElsewhere(t *testing.T) {
	if asmBuilt {
		t.Skip("arm64 assembly is built")
	}
	m, err := kernels.NewMatrix(4, 256, kernels.QK256, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []kernels.Kernel{NeonF32, NeonDotI8, NeonI8} {
		err := k.Available()
		if err == nil || !strings.Contains(err.Error(), runtime.GOARCH) {
			t.Errorf("%s: Available() = %v, want an error naming GOARCH=%s", k.Info().ID, err, runtime.GOARCH)
		}
		if p, err := k.Prepare(m); err == nil || p != nil {
			t.Errorf("%s: Prepare succeeded without the assembly", k.Info().ID)
		}
	}
}

// TestRepack checks the layout against its definition, for shapes with and
// without tails, and that padding codes in m do not leak into it.
func TestRepack(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, shape := range [][2]int{{1, 1}, {3, 63}, {5, 64}, {2, 65}, {7, 256}, {4, 3200}} {
		rows, cols := shape[0], shape[1]
		m, err := kernels.NewMatrix(rows, cols, kernels.QK256, 1)
		if err != nil {
			t.Fatal(err)
		}
		for i := range m.Data {
			m.Data[i] = byte(rng.Uint32())
		}
		got := repack(m)
		nchunk := (cols + 63) / 64
		groups := (rows + 3) / 4
		if want := groups * 4 * nchunk * 16; len(got) != want {
			t.Fatalf("%dx%d: %d bytes, want %d", rows, cols, len(got), want)
		}
		for r := 0; r < 4*groups; r++ {
			for c := 0; c < nchunk*64; c++ {
				b := got[(r/4)*nchunk*64+64*(c/64)+16*(r%4)+c%16]
				code := b >> (2 * ((c % 64) / 16)) & 3
				var want uint8
				if r < rows && c < cols {
					want = m.Code(r, c)
				}
				if code != want {
					t.Fatalf("%dx%d: row %d col %d: code %d, want %d", rows, cols, r, c, code, want)
				}
			}
		}
	}
}

// TestF32Table: the two byte tables rebuild float32(cb[i&3]) exactly for
// every legal codebook entry.
func TestF32Table(t *testing.T) {
	for _, cb := range []kernels.Codebook{kernels.QK256, kernels.Ternary, {2, 1, 0, -1}, {-2, -2, 2, 2}} {
		i8tab, f32tab, err := tables(cb)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 16; i++ {
			bits := uint32(f32tab[16+i])<<24 | uint32(f32tab[i])<<16
			if got, want := math.Float32frombits(bits), float32(cb[i&3]); got != want {
				t.Errorf("cb %v entry %d: %v, want %v", cb, i, got, want)
			}
			if got, want := int8(i8tab[i]), cb[i&3]; got != want {
				t.Errorf("cb %v i8 entry %d: %d, want %d", cb, i, got, want)
			}
		}
	}
}

// TestI8Extremes runs the assembly directly on the largest legal sums (every
// |q| = 127 times a weight of ±2 of the matching sign) on rows of different
// lengths, so that an int32 lane or the horizontal sum would show overflow
// or a dropped lane.
func TestI8Extremes(t *testing.T) {
	for _, c := range []struct {
		k     kernels.Kernel
		rows4 func(w *byte, q *int8, nchunk int, tab *[16]byte, out *[4]int32)
	}{{NeonDotI8, i8Rows4}, {NeonI8, i8Rows4NoDot}} {
		t.Run(c.k.Info().ID, func(t *testing.T) {
			if err := kernels.Usable(c.k); err != nil {
				t.Skip(err)
			}
			i8Extremes(t, c.rows4)
		})
	}
}

func i8Extremes(t *testing.T, rows4 func(w *byte, q *int8, nchunk int, tab *[16]byte, out *[4]int32)) {
	for _, cols := range []int{64, 4096, 65536} {
		nchunk := cols / 64
		q := make([]int8, cols)
		codes := make([]byte, 4*nchunk*16)
		for c := range q {
			q[c] = 127
			if c%3 == 0 {
				q[c] = -127
			}
		}
		// Row 0: weight +2 where q > 0 and -2 where q < 0 (+254 per
		// column); row 1 the opposite; row 2 all code 1 (cb = -1); row 3
		// code 0 (-2) but +2 in the last column.
		tab := [16]byte{}
		cb := kernels.QK256
		for i := range tab {
			tab[i] = byte(cb[i&3])
		}
		set := func(r, c int, code byte) {
			b := &codes[64*(c/64)+16*r+c%16]
			*b = *b&^(3<<(2*((c%64)/16))) | code<<(2*((c%64)/16))
		}
		var want [4]int32
		for c := 0; c < cols; c++ {
			pos := q[c] > 0
			set(0, c, map[bool]byte{true: 3, false: 0}[pos])
			set(1, c, map[bool]byte{true: 0, false: 3}[pos])
			set(2, c, 1)
			want[0] += 254
			want[1] -= 254
			want[2] -= int32(q[c])
			if c == cols-1 {
				set(3, c, 3)
				want[3] += 2 * int32(q[c])
			} else {
				set(3, c, 0)
				want[3] -= 2 * int32(q[c])
			}
		}
		var out [4]int32
		rows4(&codes[0], &q[0], nchunk, &tab, &out)
		if out != want {
			t.Errorf("cols %d: got %v, want %v", cols, out, want)
		}
	}
}
