//go:build goexperiment.simd && amd64 && !purego

package amd64

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/qkbench/qkbench/kernels"
)

// TestArchsimdQuant: simdAmax, simdQuant and simdQuantFlip agree bit for
// bit with kernels.QuantizeI8 for every length from 0 to 100 and a few
// longer ones, on random x, exact rounding ties and ±amax, and write
// nothing past len(x).
func TestArchsimdQuant(t *testing.T) {
	avx512Skip(t, ArchsimdI8)
	rng := rand.New(rand.NewPCG(1, 2))
	lens := []int{}
	for n := 0; n <= 100; n++ {
		lens = append(lens, n)
	}
	lens = append(lens, 255, 256, 257, 4095, 8640)
	for _, n := range lens {
		for variant := 0; variant < 3; variant++ {
			x := make([]float32, n)
			for i := range x {
				switch variant {
				case 0:
					x[i] = float32(rng.NormFloat64() * 3)
				case 1: // q = x*127/127 = x: ties at every half
					x[i] = float32(rng.IntN(255)-127) / 2
				case 2:
					x[i] = float32(rng.NormFloat64()) * 1e-7
				}
			}
			if n > 0 && variant == 1 {
				x[rng.IntN(n)] = 127 // amax 127: s = 1, ties stay ties
			}
			want := make([]int8, n)
			s := kernels.QuantizeI8(x, want)
			if got := float32(127) / max(simdAmax(x), float32(1e-5)); math.Float32bits(got) != math.Float32bits(s) {
				t.Fatalf("n=%d variant %d: s = %v, want %v", n, variant, got, s)
			}
			q := make([]int8, n+20)
			qu := make([]uint8, n+20)
			for i := range q {
				q[i], qu[i] = 99, 99
			}
			simdQuant(x, s, q[:n])
			simdQuantFlip(x, s, qu[:n])
			for i := 0; i < n+20; i++ {
				wq, wu := int8(99), uint8(99)
				if i < n {
					wq, wu = want[i], uint8(want[i])^0x80
				}
				if q[i] != wq || qu[i] != wu {
					t.Fatalf("n=%d variant %d: q[%d] = %d, qu = %d, want %d, %d (x = %v, s = %v)", n, variant, i, q[i], qu[i], wq, wu, x[min(i, n-1)], s)
				}
			}
		}
	}
}

// archsimdRandTables fills a table buffer with values a chunk's lookups can
// meet (|entry| <= 762).
func archsimdRandTables(rng *rand.Rand, tbl []int16) {
	for i := range tbl {
		tbl[i] = int16(rng.IntN(1525) - 762)
	}
}

// TestArchsimdParts: each archsimd function computes what its assembly
// counterpart in avx512_amd64.s computes, on random inputs (tables of both
// paths, chunk lookups of both paths over several row blocks and periods,
// the final scale with tails).
func TestArchsimdParts(t *testing.T) {
	avx512Skip(t, ArchsimdI8)
	avx512Skip(t, AVX512LUTI8)
	rng := rand.New(rand.NewPCG(3, 4))
	cbs := []kernels.Codebook{kernels.QK256, {-2, 0, 1, 2}, {2, 2, -2, 1}}
	t.Run("tables", func(t *testing.T) {
		for _, cb := range cbs {
			m, err := kernels.NewMatrix(1, 1, cb, 1)
			if err != nil {
				t.Fatal(err)
			}
			lp, err := (&lutKernel{ArchsimdI8.(*simdKernel).Base}).Prepare(m)
			if err != nil {
				t.Fatal(err)
			}
			p := lp.(*lutPrepared)
			const groups = 40
			q := make([]int8, 3*groups+simdTableSlack)
			for i := range q[:3*groups] {
				q[i] = int8(rng.IntN(255) - 127)
			}
			q[0], q[1], q[2] = 127, -127, 127
			want, got := make([]int16, 64*groups), make([]int16, 64*groups)
			lutTables(&q[0], groups, &p.cbv, &want[0])
			simdTables(q, groups, &p.cbv, got)
			if !slices.Equal(got, want) {
				t.Fatalf("cb %v: simdTables differs from lutTables", cb.Values())
			}
		}
	})
	t.Run("tables3", func(t *testing.T) {
		for _, cb := range []kernels.Codebook{kernels.Ternary, {-2, 2, 0, -2}, {2, 1, 2, 1}} {
			m, err := kernels.NewMatrix(1, 1, cb, 1)
			if err != nil {
				t.Fatal(err)
			}
			lp, err := (&lutKernel{ArchsimdI8.(*simdKernel).Base}).Prepare(m)
			if err != nil {
				t.Fatal(err)
			}
			p := lp.(*lutPrepared)
			if !p.tern {
				t.Fatalf("cb %v: not on the base-3 path", cb.Values())
			}
			const groups = 36
			qu := make([]uint8, 3*groups+simdTableSlack)
			for i := range qu[:3*groups] {
				qu[i] = uint8(rng.IntN(255) + 1) // q in [-127, 127]
			}
			qu[0], qu[1], qu[2] = 1, 255, 255
			want, got := make([]int16, 32*groups), make([]int16, 32*groups)
			qu4 := make([]uint8, 4*groups) // lutFlip's layout
			for g := 0; g < groups; g++ {
				copy(qu4[4*g:4*g+3], qu[3*g:3*g+3])
				qu4[4*g+3] = 0x80
			}
			lut3Tables(&qu4[0], groups, &p.cbv3, &want[0])
			simdTables3(qu, groups, &p.cbv3, got)
			if !slices.Equal(got, want) {
				t.Fatalf("cb %v: simdTables3 differs from lut3Tables", cb.Values())
			}
		}
	})
	// chunk3 in whole and partial periods of 12 and 24 words, and periods
	// that divide nothing.
	t.Run("chunk3", func(t *testing.T) {
		for _, sz := range [][3]int{{1, 12, 12}, {1, 36, 24}, {3, 12, 5}, {2, 48, 24}, {1, 7, 100}, {2, 30, 12}} {
			nrb, words, period := sz[0], sz[1], sz[2]
			w := make([]uint16, nrb*words*lutSets*32)
			for i := range w {
				w[i] = uint16(rng.Uint32())
			}
			tbl := make([]int16, words*3*32)
			archsimdRandTables(rng, tbl)
			want := make([]int32, nrb*lutRowBlock)
			for i := range want {
				want[i] = rng.Int32N(1<<20) - 1<<19
			}
			got := slices.Clone(want)
			lut3Chunk((*byte)(unsafe.Pointer(&w[0])), &tbl[0], words, period, nrb, &want[0])
			simdChunk3(w, tbl, words, period, got)
			if !slices.Equal(got, want) {
				t.Fatalf("nrb %d words %d period %d: simdChunk3 differs from the assembly", nrb, words, period)
			}
		}
	})
	t.Run("chunk6", func(t *testing.T) {
		const words, tbls = lutPeriod * lutSets * 96, lutPeriod * lutOctet * 64 // per row block and period; table entries per period
		for _, sz := range [][2]int{{1, 1}, {1, 3}, {3, 1}, {2, 4}} {
			nrb, nper := sz[0], sz[1]
			w := make([]uint16, nrb*nper*words)
			for i := range w {
				w[i] = uint16(rng.Uint32())
			}
			tbl := make([]int16, nper*tbls)
			archsimdRandTables(rng, tbl)
			want := make([]int32, nrb*lutRowBlock)
			for i := range want {
				want[i] = rng.Int32N(1<<20) - 1<<19
			}
			got := slices.Clone(want)
			lutChunk((*byte)(unsafe.Pointer(&w[0])), &tbl[0], nper, nrb, &want[0])
			simdChunk6(w, tbl, nper, got)
			if !slices.Equal(got, want) {
				t.Fatalf("nrb %d nper %d: simdChunk6 differs from the assembly", nrb, nper)
			}
		}
	})
	t.Run("scale", func(t *testing.T) {
		for _, n := range []int{0, 1, 15, 16, 17, 100, 128} {
			acc := make([]int32, n)
			for i := range acc {
				acc[i] = rng.Int32() >> rng.IntN(31)
			}
			y := make([]float32, n+1)
			y[n] = -1
			inv := float32(rng.Float64())
			simdScale(acc, inv, y[:n])
			for i := 0; i < n; i++ {
				if want := float32(acc[i]) * inv; y[i] != want {
					t.Fatalf("n=%d: y[%d] = %v, want %v", n, i, y[i], want)
				}
			}
			if y[n] != -1 {
				t.Fatalf("n=%d: simdScale wrote y[n]", n)
			}
		}
	})
}

// BenchmarkArchsimdParts times each archsimd function against its assembly
// counterpart on one column chunk of 8 row blocks (1024 rows), the sizes
// avx512lut-i8 uses.
func BenchmarkArchsimdParts(b *testing.B) {
	avx512Skip(b, ArchsimdI8)
	rng := rand.New(rand.NewPCG(5, 6))
	const nrb = lutSuper
	buf := new(lutWork)
	tbl := buf.tables()
	archsimdRandTables(rng, tbl)
	acc := make([]int32, nrb*lutRowBlock)
	// chunk3 with ternary's period (see lut3Period).
	const words3, per3 = lut3ChunkPer * lut3PeriodWords, 2 * lut3PeriodWords
	for _, c := range []struct {
		name        string
		nper, words int
		asm         func(w *byte, tbl *int16, nper int, nrb int, acc *int32)
		simd        func(w []uint16, tbl []int16, nper int, acc []int32)
	}{
		{"chunk3", 1, words3 * lutSets * 32,
			func(w *byte, tbl *int16, _ int, nrb int, acc *int32) { lut3Chunk(w, tbl, words3, per3, nrb, acc) },
			func(w []uint16, tbl []int16, _ int, acc []int32) { simdChunk3(w, tbl, words3, per3, acc) }},
		{"chunk6", lutChunkPer, lutPeriod * lutSets * 96, lutChunk, simdChunk6},
	} {
		w := make([]uint16, nrb*c.nper*c.words)
		for i := range w {
			w[i] = uint16(rng.Uint32())
		}
		b.Run("part="+c.name+"/impl=asm", func(b *testing.B) {
			for b.Loop() {
				c.asm((*byte)(unsafe.Pointer(&w[0])), &tbl[0], c.nper, nrb, &acc[0])
			}
		})
		b.Run("part="+c.name+"/impl=archsimd", func(b *testing.B) {
			for b.Loop() {
				c.simd(w, tbl, c.nper, acc)
			}
		})
	}
	var cbv3 [128]int16
	var cbv [128]int16
	g3 := lut3ChunkPer * lut3PeriodWords * 3
	g6 := lutChunkPer * lutPeriod * lutOctet
	qu := make([]uint8, 3*g3+simdTableSlack)
	qu4 := make([]uint8, 4*g3)
	q := make([]int8, 3*g6+simdTableSlack)
	b.Run("part=tables3/impl=asm", func(b *testing.B) {
		for b.Loop() {
			lut3Tables(&qu4[0], g3, &cbv3, &tbl[0])
		}
	})
	b.Run("part=tables3/impl=archsimd", func(b *testing.B) {
		for b.Loop() {
			simdTables3(qu, g3, &cbv3, tbl)
		}
	})
	b.Run("part=tables/impl=asm", func(b *testing.B) {
		for b.Loop() {
			lutTables(&q[0], g6, &cbv, &tbl[0])
		}
	})
	b.Run("part=tables/impl=archsimd", func(b *testing.B) {
		for b.Loop() {
			simdTables(q, g6, &cbv, tbl)
		}
	})
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	q4 := make([]int8, len(x))
	b.Run(fmt.Sprintf("part=quant%d/impl=asm", len(x)), func(b *testing.B) {
		for b.Loop() {
			avx512Quantize(x, q4)
		}
	})
	b.Run(fmt.Sprintf("part=quant%d/impl=archsimd", len(x)), func(b *testing.B) {
		for b.Loop() {
			simdQuant(x, float32(127)/max(simdAmax(x), 1e-5), q4)
		}
	})
}
