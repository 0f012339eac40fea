package amd64

import (
	"fmt"
	"math"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

// TestAVX512Quantize compares avx512Quantize with kernels.QuantizeI8 on
// lengths around the 16-float pieces, on exact .5 ties, on an all-zero x
// and on tiny x (s clamped by the 1e-5 floor).
func TestAVX512Quantize(t *testing.T) {
	avx512Skip(t, AVX512VNNII8)
	var cases [][]float32
	for _, n := range []int{1, 5, 15, 16, 17, 31, 32, 33, 100, 4096, 4099} {
		x, err := workloads.GenerateX(n, workloads.Outliers, uint64(n))
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, x)
	}
	// amax = 127 gives s = 1: every x[i] = k + 0.5 is a tie.
	ties := make([]float32, 40)
	for i := range ties {
		ties[i] = float32(i-20) + 0.5
	}
	ties[7] = 127
	tiny := make([]float32, 37)
	for i := range tiny {
		tiny[i] = float32(i-18) * 1e-7
	}
	cases = append(cases, ties, tiny, make([]float32, 48), []float32{-127, 126.5, -0.5, 0.5, 1.5, -1.5, 2.5, -2.5, 3, 4, 5, 6, 7, 8, 9, 10, 11.5})
	for i, x := range cases {
		t.Run(fmt.Sprintf("case%d/n=%d", i, len(x)), func(t *testing.T) {
			want := make([]int8, len(x))
			ws := kernels.QuantizeI8(x, want)
			var wsum int32
			for _, v := range want {
				wsum += int32(v)
			}
			got := make([]int8, len(x)+3)
			got[len(x)], got[len(x)+1], got[len(x)+2] = 99, 99, 99
			s, qsum := avx512Quantize(x, got)
			if math.Float32bits(s) != math.Float32bits(ws) || qsum != wsum {
				t.Fatalf("s, Σq = %v, %d; want %v, %d", s, qsum, ws, wsum)
			}
			for j := range want {
				if got[j] != want[j] {
					t.Fatalf("q[%d] = %d, want %d (x = %v, s = %v)", j, got[j], want[j], x[j], s)
				}
			}
			if got[len(x)] != 99 || got[len(x)+2] != 99 {
				t.Fatalf("wrote past len(x)")
			}
		})
	}
}

// TestAVX512QuantSteps: avx512Quant's 64-float steps (packs with
// saturation, a byte clamp, Σq from VPSADBW) write and sum what its
// 16-float steps (dword clamps) do, on NaN, infinities, values past ±127
// and past int32 after scaling, and rounding ties.
func TestAVX512QuantSteps(t *testing.T) {
	avx512Skip(t, AVX512VNNII8)
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	specials := []float32{nan, inf, -inf, 127.4, -127.4, 128, -128, 126.5, -126.5, 3e9, -3e9, 0.5, -0.5, 1.5, 0, -0}
	x := make([]float32, 64*3)
	for i := range x {
		if i%3 == 0 {
			x[i] = specials[i/3%len(specials)]
		} else {
			x[i] = float32(i%255-127) * 1.3
		}
	}
	for _, s := range []float32{1, 0.37, 1e30} {
		whole := make([]int8, len(x))
		sum := avx512Quant(&x[0], len(x), s, &whole[0])
		steps := make([]int8, len(x))
		var ssum int32
		for i := 0; i < len(x); i += 16 {
			ssum += avx512Quant(&x[i], 16, s, &steps[i])
		}
		if sum != ssum {
			t.Fatalf("s=%g: Σq = %d in 64-float steps, %d in 16-float steps", s, sum, ssum)
		}
		for i := range whole {
			if whole[i] != steps[i] {
				t.Fatalf("s=%g: q[%d] = %d in 64-float steps, %d in 16-float steps (x = %v)", s, i, whole[i], steps[i], x[i])
			}
		}
	}
}

// TestAVX512Streams compares the stream split with its definition for
// lengths around the 64-byte pieces and 256-column blocks.
func TestAVX512Streams(t *testing.T) {
	avx512Skip(t, AVX512VNNII8)
	for _, n := range []int{1, 63, 64, 65, 128, 200, 255, 256, 257, 320, 1000, 4096} {
		q := make([]int8, n)
		for i := range q {
			q[i] = int8(i*37 + i/256)
		}
		nb := (n + 255) / 256
		got := make([]int8, nb*256+64)
		for i := range got {
			got[i] = -100
		}
		avx512PermuteStreams(got, q)
		want := make([]int8, len(got))
		copy(want, got)
		for c := 0; c < n; c++ {
			b, k, j := c/256, c%256/4, c%4
			want[256*b+64*j+k] = q[c]
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("n=%d: qp[%d] = %d, want %d", n, i, got[i], want[i])
			}
		}
	}
}
