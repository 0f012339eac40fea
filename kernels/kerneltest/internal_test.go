package kerneltest

import (
	"math"
	"testing"

	"github.com/qkbench/qkbench/kernels"
)

// float32Ties must find products that are ties only after float32 rounding.
func TestFloat32Ties(t *testing.T) {
	xs := float32Ties()
	if len(xs) < 21 {
		t.Fatalf("found %d values, want at least 20 besides amax", len(xs)-1)
	}
	q := make([]int8, len(xs))
	s := kernels.QuantizeI8(xs, q)
	diff := 0
	for i, v := range xs[1:] {
		exact := math.RoundToEven(float64(v) * float64(s))
		if int8(exact) != q[i+1] {
			diff++
		}
	}
	if diff == 0 {
		t.Fatalf("no value quantizes differently when the product is rounded exactly: the case tests nothing")
	}
	t.Logf("%d values, %d of which a float64 product would round differently", len(xs)-1, diff)
}

// A kernel that says it is unavailable but prepares anyway is a silent fallback.
type fallback struct{ kernels.Base }

func (*fallback) Available() error { return errTest }
func (*fallback) Prepare(m *kernels.Matrix) (kernels.Prepared, error) {
	return nil, nil
}

type testErr string

func (e testErr) Error() string { return string(e) }

const errTest = testErr("unavailable for the test")

func TestCheckRefuses(t *testing.T) {
	if msg := checkRefuses(&fallback{}); msg == "" {
		t.Fatal("a kernel whose Prepare succeeds while unavailable was not reported")
	}
}

func TestYBufUntouched(t *testing.T) {
	b := newYBuf(4, 2, 3)
	if why := b.untouched(0, 4); why != "" {
		t.Fatal(why)
	}
	b.y()[1] = 0
	if why := b.untouched(2, 4); why == "" {
		t.Fatal("a write to row 1 outside [2, 4) was not seen")
	}
	if why := b.untouched(0, 4); why != "" {
		t.Fatal(why)
	}
	b.buf[len(b.buf)-1] = float32(math.NaN())
	if why := b.untouched(0, 4); why == "" {
		t.Fatal("a NaN with another payload in the tail guard was not seen")
	}
}

func TestPlaceXAlignment(t *testing.T) {
	for off := 0; off < 16; off++ {
		x := placeX([]float32{1, 2, 3}, off, 5)
		if a := alignFloats(x[:1:1]); (16-a)%16 != off%16 {
			t.Fatalf("off %d: window is %d floats past a 64-byte boundary", off, (16-a)%16)
		}
		if x[0] != 1 || x[2] != 3 || len(x) != 3 || cap(x) != 3 {
			t.Fatalf("off %d: window %v cap %d", off, x, cap(x))
		}
	}
}
