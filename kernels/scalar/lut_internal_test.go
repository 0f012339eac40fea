package scalar

import (
	"math/rand/v2"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

// TestBuildI8: go-i8's two-entries-per-add tables hold every exact sum
// Σ_j cb[(b>>2j)&3] * q[4g+j] plus 2*i8Bias, for random and extreme q and
// every kind of codebook (on big-endian machines too: make
// test-bigendian).
func TestBuildI8(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 50; trial++ {
		var cb [4]int32
		for i := range cb {
			cb[i] = int32(rng.IntN(5)) - 2
		}
		q := make([]int8, chunkCols)
		for i := range q {
			switch trial % 3 {
			case 0:
				q[i] = int8(rng.IntN(255) - 127)
			case 1:
				q[i] = 127
			default:
				q[i] = -127
			}
		}
		var tab table
		buildTable(tableOf[int32](&tab), q, &cb)
		got := tableOf[int32](&tab)
		for g := 0; g < lutGroups; g++ {
			for b := 0; b < 256; b++ {
				var want int32 = 2 * i8Bias
				for j := 0; j < 4; j++ {
					want += cb[b>>(2*j)&3] * int32(q[4*g+j])
				}
				if got[g][b] != want {
					t.Fatalf("cb %v group %d byte %#x: entry %d, want %d", cb, g, b, got[g][b], want)
				}
			}
		}
	}
}

// TestSharedTables: GEMVs on parts of the rows share one Load's tables
// (the first builds every chunk, the next finds them ready), a Load frees
// them, and a matrix too wide for maxShared builds per range instead.
func TestSharedTables(t *testing.T) {
	for _, k := range []kernels.Kernel{GoF32, GoI8} {
		w, err := workloads.Generate(workloads.Spec{Rows: 40, Cols: 1000, Codebook: kernels.QK256, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		p, err := k.Prepare(w.M)
		if err != nil {
			t.Fatal(err)
		}
		in := p.NewInput()
		ts := func() *tableSet {
			if i, ok := in.(*lutInputI8); ok {
				return i.ts
			}
			return in.(*lutInputF32).ts
		}
		states := func() (n [3]int) {
			for i := range ts().state {
				n[ts().state[i].Load()]++
			}
			return n
		}
		chunks := numChunks(1000)
		y := make([]float32, 40)
		for load := 0; load < 2; load++ {
			if err := in.Load(w.X); err != nil {
				t.Fatal(err)
			}
			if n := states(); n[0] != chunks {
				t.Fatalf("%s: after Load, chunk states %v, want all %d free", k.Info().ID, n, chunks)
			}
			if err := in.GEMV(y, 0, 40); err != nil {
				t.Fatal(err)
			}
			if n := states(); n[0] != chunks {
				t.Fatalf("%s: a whole-range GEMV touched the shared tables: %v", k.Info().ID, n)
			}
			if err := in.GEMV(y, 0, 13); err != nil {
				t.Fatal(err)
			}
			if n := states(); n[2] != chunks {
				t.Fatalf("%s: after a partial GEMV, chunk states %v, want all %d ready", k.Info().ID, n, chunks)
			}
		}
		if ts := newTableSet(maxShared/tableBytes + 1); ts != nil {
			t.Errorf("a tableSet of %d chunks (%d bytes) was made, over maxShared", maxShared/tableBytes+1, (maxShared/tableBytes+1)*tableBytes)
		}
	}
}
