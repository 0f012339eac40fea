package probe

// The plain-Go loops: what a Go kernel without assembly can do per core.
// They run in every build, purego included.

const goN = 1024 // elements per pass: 1 KiB of int8, 4 KiB of float32 each side, in L1

var (
	goW8, goX8   [goN]int8
	goW32, goX32 [goN]float32
	goSink8      int32
	goSink32     float32
)

func init() {
	for i := range goN {
		goW8[i] = int8(i%5 - 2)
		goX8[i] = int8(i*37%255 - 127)
		goW32[i] = float32(i%5-2) * 0.5
		goX32[i] = float32(i%7) * 0.25
	}
}

func goLoops() []computeLoop {
	ok := func() error { return nil }
	return []computeLoop{
		{name: "Go int8 MAC", kind: KindInt8, isa: "go", unit: "GMAC/s", avail: ok, run: goI8,
			instr: "Go: s += int32(w[i]) * int32(x[i]) over 1 KiB, 4 accumulators"},
		{name: "Go f32 MAC", kind: KindF32, isa: "go", unit: "GFMA/s", avail: ok, run: goF32,
			instr: "Go: s += w[i] * x[i] (float32) over 4 KiB, 4 accumulators"},
	}
}

// goI8 does n passes of goN int8 multiply-adds and returns n*goN.
func goI8(n int) int {
	w, x := goW8[:], goX8[:len(goW8)]
	var s0, s1, s2, s3 int32
	for range n {
		for i := 0; i+4 <= len(w) && i+4 <= len(x); i += 4 {
			s0 += int32(w[i]) * int32(x[i])
			s1 += int32(w[i+1]) * int32(x[i+1])
			s2 += int32(w[i+2]) * int32(x[i+2])
			s3 += int32(w[i+3]) * int32(x[i+3])
		}
	}
	goSink8 = s0 + s1 + s2 + s3
	return n * goN
}

// goF32 does n passes of goN float32 multiply-adds and returns n*goN.
func goF32(n int) int {
	w, x := goW32[:], goX32[:len(goW32)]
	var s0, s1, s2, s3 float32
	for range n {
		for i := 0; i+4 <= len(w) && i+4 <= len(x); i += 4 {
			s0 += w[i] * x[i]
			s1 += w[i+1] * x[i+1]
			s2 += w[i+2] * x[i+2]
			s3 += w[i+3] * x[i+3]
		}
	}
	goSink32 = s0 + s1 + s2 + s3
	return n * goN
}
