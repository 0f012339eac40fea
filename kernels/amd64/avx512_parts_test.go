package amd64

import (
	"fmt"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

// BenchmarkAVX512Parts times Load (quantize, permute, tables) and GEMV apart.
func BenchmarkAVX512Parts(b *testing.B) {
	for _, k := range avx512Kernels() {
		w, err := workloads.Generate(workloads.Spec{Rows: 2048, Cols: 4096, Codebook: kernels.QK256, Seed: 42})
		if err != nil {
			b.Fatal(err)
		}
		for _, part := range []string{"load", "gemv"} {
			b.Run(fmt.Sprintf("kernel=%s/part=%s", k.Info().ID, part), func(b *testing.B) {
				avx512Skip(b, k)
				p, err := k.Prepare(w.M)
				if err != nil {
					b.Fatal(err)
				}
				in := p.NewInput()
				y := make([]float32, w.M.Rows)
				if err := in.Load(w.X); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if part == "load" {
						_ = in.Load(w.X)
					} else {
						_ = in.GEMV(y, 0, w.M.Rows)
					}
				}
			})
		}
	}
}

// BenchmarkAVX512Prepare times the one-time repack (none for avx512vnni-i8).
func BenchmarkAVX512Prepare(b *testing.B) {
	w, err := workloads.Generate(workloads.Spec{Rows: 2048, Cols: 4096, Codebook: kernels.QK256, Seed: 42})
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range avx512Kernels() {
		b.Run("kernel="+k.Info().ID, func(b *testing.B) {
			avx512Skip(b, k)
			for b.Loop() {
				if _, err := k.Prepare(w.M); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
