package kernels

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
)

func wantErr(t *testing.T, what string, err error, contains ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	for _, c := range contains {
		if !strings.Contains(err.Error(), c) {
			t.Errorf("%s: error %q does not mention %q", what, err, c)
		}
	}
}

func TestRowStride(t *testing.T) {
	for _, c := range []struct{ cols, stride int }{{1, 64}, {255, 64}, {256, 64}, {257, 128}, {3200, 832}, {4096, 1024}, {8640, 2176}} {
		if got := RowStride(c.cols); got != c.stride {
			t.Errorf("RowStride(%d) = %d, want %d", c.cols, got, c.stride)
		}
	}
	// docs/format.md §1's worked example: 2048x4096 is 16 blocks per row, 2,097,152 bytes.
	m, err := NewMatrix(2048, 4096, QK256, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Blocks() != 16 || m.Stride() != 1024 || len(m.Data) != 2097152 || m.WeightBytes() != 2097152 || m.MACs() != 2048*4096 {
		t.Fatalf("2048x4096: blocks %d stride %d bytes %d", m.Blocks(), m.Stride(), len(m.Data))
	}
	if got := m.Row(3); len(got) != 1024 || &got[0] != &m.Data[3*1024] || cap(got) != 1024 {
		t.Fatalf("Row(3) is not bytes [3072, 4096)")
	}
}

func TestMatrixValidation(t *testing.T) {
	good := make([]byte, 3*64)
	for _, c := range []struct {
		name       string
		rows, cols int
		data       []byte
		cb         Codebook
		scale      float32
		contains   []string
	}{
		{"short data", 3, 255, good[:191], QK256, 1, []string{"191 bytes", "want 192"}},
		{"long data", 3, 255, append(append([]byte(nil), good...), 0), QK256, 1, []string{"193 bytes", "want 192"}},
		{"nil data", 3, 255, nil, QK256, 1, []string{"0 bytes"}},
		{"zero rows", 0, 255, nil, QK256, 1, []string{"0x255", "positive"}},
		{"zero cols", 3, 0, nil, QK256, 1, []string{"3x0", "positive"}},
		{"negative rows", -1, 255, good, QK256, 1, []string{"positive"}},
		{"negative cols", 3, -256, good, QK256, 1, []string{"positive"}},
		{"too many cols", 1, MaxDim + 1, nil, QK256, 1, []string{"at most"}},
		{"codebook entry 3", 3, 255, good, Codebook{-2, -1, 1, 3}, 1, []string{"entry 3 is 3", "[-2, 2]"}},
		{"codebook entry -3", 3, 255, good, Codebook{-3, -1, 1, 2}, 1, []string{"entry 0 is -3"}},
		{"NaN scale", 3, 255, good, QK256, float32(math.NaN()), []string{"NaN", "finite"}},
		{"+Inf scale", 3, 255, good, QK256, float32(math.Inf(1)), []string{"Inf", "finite"}},
		{"-Inf scale", 3, 255, good, QK256, float32(math.Inf(-1)), []string{"Inf"}},
	} {
		_, err := FromBytes(c.rows, c.cols, c.data, c.cb, c.scale)
		wantErr(t, "FromBytes "+c.name, err, c.contains...)
	}
	if _, err := FromBytes(3, 255, good, QK256, 0); err != nil {
		t.Errorf("scale 0 is finite and valid: %v", err)
	}
	var nilM *Matrix
	wantErr(t, "nil Validate", nilM.Validate(), "nil matrix")
	_, err := NewMatrix(0, 5, QK256, 1)
	wantErr(t, "NewMatrix 0 rows", err, "positive")
	_, err = NewMatrix(2, 5, Codebook{0, 0, 0, 5}, 1)
	wantErr(t, "NewMatrix bad codebook", err, "[-2, 2]")
	_, err = NewMatrix(2, 5, QK256, float32(math.Inf(1)))
	wantErr(t, "NewMatrix Inf scale", err, "finite")
	// Too many bytes in all, though each dim is allowed: no huge allocation.
	_, err = NewMatrix(MaxDim, MaxDim, QK256, 1)
	wantErr(t, "NewMatrix 8 GiB+", err, "bytes of weights")
}

func TestPackLayout(t *testing.T) {
	// docs/format.md §1: byte k holds elements 4k..4k+3 in bits [1:0], [3:2], [5:4], [7:6].
	m, err := FromCodes(2, 6, []uint8{0, 1, 2, 3, 1, 2, 3, 3, 3, 3, 0, 0}, QK256, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Data[0] != 0xe4 || m.Data[1] != 0x09 || m.Data[64] != 0xff || m.Data[65] != 0x00 {
		t.Fatalf("packed bytes %#x %#x / %#x %#x, want 0xe4 0x09 / 0xff 0x00", m.Data[0], m.Data[1], m.Data[64], m.Data[65])
	}
	if w := m.Weight(0, 3); w != 2 {
		t.Fatalf("Weight(0,3) = %g, want 2", w)
	}
	_, err = FromCodes(2, 6, make([]uint8, 11), QK256, 1)
	wantErr(t, "FromCodes short", err, "11 codes", "want 12")
	bad := make([]uint8, 12)
	bad[7] = 4
	_, err = FromCodes(2, 6, bad, QK256, 1)
	wantErr(t, "FromCodes code 4", err, "row 1 col 1", "is 4")
}

func TestPackRoundTrip(t *testing.T) {
	g := uint64(1)
	for _, sh := range [][2]int{{1, 1}, {3, 7}, {2, 255}, {2, 256}, {3, 257}, {2, 3200}} {
		codes := make([]uint8, sh[0]*sh[1])
		for i := range codes {
			g = g*6364136223846793005 + 1442695040888963407
			codes[i] = uint8(g >> 62)
		}
		m, err := FromCodes(sh[0], sh[1], codes, Ternary, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		m.FillPadding(3)
		got := m.Unpack()
		for i := range codes {
			if got[i] != codes[i] {
				t.Fatalf("%dx%d: code %d is %d after the round trip, want %d", sh[0], sh[1], i, got[i], codes[i])
			}
		}
		for r := 0; r < m.Rows; r++ {
			for c := m.Cols; c < m.Blocks()*BlockCols; c++ {
				if m.Code(r, c) != 3 {
					t.Fatalf("%dx%d: padding (%d,%d) = %d after FillPadding(3)", sh[0], sh[1], r, c, m.Code(r, c))
				}
			}
		}
		cl := m.Clone()
		cl.SetCode(0, 0, (cl.Code(0, 0)+1)&3)
		if m.Code(0, 0) == cl.Code(0, 0) {
			t.Fatal("Clone shares Data with the original")
		}
	}
}

func TestQuantizeI8(t *testing.T) {
	for _, c := range []struct {
		name string
		x    []float32
		s    float32
		q    []int8
	}{
		// amax 127: s = 1 exactly, every .5 is a tie: round half to even.
		{"ties s=1", []float32{127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, -126.5, 3.5, 0.49999997}, 1,
			[]int8{127, 0, 2, 2, 0, -2, -2, 126, -126, 4, 0}},
		// amax 254: s = 0.5, odd integers are ties.
		{"ties s=0.5", []float32{-254, 1, 3, 5, -1, 253, 7}, 0.5, []int8{-127, 0, 2, 2, 0, 126, 4}},
		// amax 3: s = float32(127/3) = 42.333332; the largest |x| gets ±127.
		{"amax 3", []float32{-3, 1, 3, 0}, float32(127) / 3, []int8{-127, 42, 127, 0}},
		// amax 0: s = 127/1e-5 and every q = 0.
		{"zero", []float32{0, 0, 0}, float32(127) / float32(1e-5), []int8{0, 0, 0}},
		// amax below 1e-5 is treated as 1e-5: 2^-20 * 12700000 = 12.11 -> 12.
		{"tiny", []float32{1.0 / (1 << 20), -1.0 / (1 << 21)}, float32(127) / float32(1e-5), []int8{12, -6}},
	} {
		q := make([]int8, len(c.x)+2)
		q[len(c.x)] = 99
		s := QuantizeI8(c.x, q)
		if s != c.s {
			t.Errorf("%s: s = %g, want %g", c.name, s, c.s)
		}
		for i := range c.x {
			if q[i] != c.q[i] {
				t.Errorf("%s: q[%d] = %d (x=%g), want %d", c.name, i, q[i], c.x[i], c.q[i])
			}
		}
		if q[len(c.x)] != 99 {
			t.Errorf("%s: wrote past len(x)", c.name)
		}
	}
	if inv := I8Inv(-2, 0.5); inv != -4 {
		t.Errorf("I8Inv(-2, 0.5) = %g, want -4", inv)
	}
}

// The clamp to [-127, 127] is never needed for the largest |x| (amax*s rounds
// to 127 within an ulp), but every q must stay in range and the largest |x|
// must map to exactly ±127, whatever amax is.
func TestQuantizeI8Extremes(t *testing.T) {
	g := uint64(7)
	q := make([]int8, 3)
	for i := 0; i < 20000; i++ {
		g = g*6364136223846793005 + 1442695040888963407
		// amax from 1e-7 to 1e7, both signs.
		amax := float32(math.Pow(10, float64(g>>11)/(1<<53)*14-7))
		if g&1 != 0 {
			amax = -amax
		}
		frac := float32(g>>40) / (1 << 24)
		QuantizeI8([]float32{amax, amax * frac, -amax * 0.5}, q)
		want := int8(127)
		if amax < 0 {
			want = -127
		}
		if math.Abs(float64(amax)) < 1e-5 {
			continue // s = 127/1e-5: |q| < 127
		}
		if q[0] != want {
			t.Fatalf("amax %g: q = %d, want %d", amax, q[0], want)
		}
		if q[1] < -127 || q[2] < -127 {
			t.Fatalf("amax %g: q = %v outside [-127, 127]", amax, q)
		}
	}
}

// The product x*s is rounded to float32 before rounding to an integer.
func TestQuantizeI8Float32Product(t *testing.T) {
	s := float32(127) / 3
	found := 0
	for k := 0; k < 126; k++ {
		tie := float32(k) + 0.5
		c := tie / s
		for d := -8; d <= 8; d++ {
			v := math.Float32frombits(uint32(int64(math.Float32bits(c)) + int64(d)))
			if v <= 0 || v >= 3 || v*s != tie || float64(v)*float64(s) == float64(tie) {
				continue
			}
			found++
			q := make([]int8, 2)
			QuantizeI8([]float32{3, v}, q)
			if want := int8(math.RoundToEven(float64(tie))); q[1] != want {
				t.Fatalf("x=%g: q=%d, want %d (float32(x*s) is the tie %g)", v, q[1], want, tie)
			}
		}
	}
	if found < 10 {
		t.Fatalf("only %d test values found", found)
	}
}

func TestOracleAndRefI8(t *testing.T) {
	// Row 0: codes 0, 1, 3 -> -2, -1, +2; row 1: 2, 2, 2 -> +1 each.
	m, err := FromCodes(2, 3, []uint8{0, 1, 3, 2, 2, 2}, QK256, -0.5)
	if err != nil {
		t.Fatal(err)
	}
	m.FillPadding(3) // padding must not count
	x := []float32{1, 2, 3}
	y, l1 := Oracle(m, x)
	// row 0: -2 - 2 + 6 = 2 -> -1; L1 10 -> 5. row 1: 6 -> -3; L1 6 -> 3.
	if y[0] != -1 || y[1] != -3 || l1[0] != 5 || l1[1] != 3 {
		t.Fatalf("Oracle = %v, %v; want [-1 -3], [5 3]", y, l1)
	}
	// i8: s = 127/3 = 42.333332; q = [42, 85, 127]; isum row 0 = -84-85+254 = 85, row 1 = 254.
	ref := RefI8(m, x)
	inv := I8Inv(-0.5, float32(127)/3)
	if ref[0] != float32(85)*inv || ref[1] != float32(254)*inv {
		t.Fatalf("RefI8 = %v, want [%g %g]", ref, float32(85)*inv, float32(254)*inv)
	}
	if err := CheckFinite([]float32{1, float32(math.NaN())}); err == nil || !strings.Contains(err.Error(), "x[1]") {
		t.Fatalf("CheckFinite(NaN) = %v", err)
	}
	if err := CheckFinite([]float32{0, 1}); err != nil {
		t.Fatal(err)
	}
}

func TestAgree(t *testing.T) {
	e := &Expected{Oracle: []float64{10, -4, 0}, L1: []float64{20, 8, 0}, I8: []float32{10.5, -4, 0}}
	f32 := func(y ...float32) Agreement { return e.Agree(F32, y) }
	if a := f32(10, -4, 0); !a.Pass || a.ExactMatch != 1 || a.Cosine != 1 || a.Reference != "oracle" {
		t.Errorf("exact f32: %+v", a)
	}
	if a := f32(10+1.9e-3, -4, 0); !a.Pass { // 1.9e-3 / 20 < 1e-4
		t.Errorf("within tolerance: %+v", a)
	}
	if a := f32(10+2.2e-3, -4, 0); a.Pass || !strings.Contains(a.Why, "row 0") {
		t.Errorf("beyond tolerance: %+v", a)
	}
	if a := f32(10, -4, 1e-30); a.Pass || !strings.Contains(a.Why, "row 2") {
		t.Errorf("a row with L1 0 must be exactly 0: %+v", a)
	}
	if a := f32(10, float32(math.NaN()), 0); a.Pass {
		t.Errorf("NaN passed: %+v", a)
	}
	if a := f32(10, -4); a.Pass || !strings.Contains(a.Why, "len(y)=2") {
		t.Errorf("short y: %+v", a)
	}
	// i8: bit-exact with ref-i8, whatever the oracle says.
	if a := e.Agree(I8, []float32{10.5, -4, 0}); !a.Pass || a.ExactMatch != 1 || a.Reference != "ref-i8" {
		t.Errorf("exact i8: %+v", a)
	}
	if a := e.Agree(I8, []float32{10.5, math.Nextafter32(-4, 0), 0}); a.Pass || a.ExactMatch != 2.0/3 || !strings.Contains(a.Why, "1 of 3") {
		t.Errorf("one ulp off: %+v", a)
	}
	// i8 exact with a ref-i8 that is far from the oracle: cosine fails.
	bad := &Expected{Oracle: []float64{1, 0}, L1: []float64{1, 1}, I8: []float32{0, 1}}
	if a := bad.Agree(I8, []float32{0, 1}); a.Pass || !strings.Contains(a.Why, "cosine") {
		t.Errorf("i8 cosine rule: %+v", a)
	}
	// Peers: cosine >= 0.99 only.
	if a := e.Agree(Peer, []float32{10.3, -4.1, 0.01}); !a.Pass {
		t.Errorf("close peer: %+v", a)
	}
	if a := e.Agree(Peer, []float32{-4, 10, 0}); a.Pass {
		t.Errorf("swapped peer passed: %+v", a)
	}
	zero := &Expected{Oracle: []float64{0, 0}, L1: []float64{0, 0}, I8: []float32{0, 0}}
	if a := zero.Agree(Peer, []float32{0, 0}); !a.Pass || a.Cosine != 1 || a.NMSE != 0 {
		t.Errorf("all zero: %+v", a)
	}
	if a := zero.Agree(Peer, []float32{0, 1}); a.Pass || a.Cosine != 0 || !math.IsInf(a.NMSE, 1) {
		t.Errorf("nonzero against zero: %+v", a)
	}
}

func TestParseCodebook(t *testing.T) {
	for in, want := range map[string]Codebook{
		"qk256": QK256, " QK256 ": QK256, "ternary": Ternary, "Ternary": Ternary,
		"-2,-1,1,2": QK256, "1, 0, -1, 2": {1, 0, -1, 2}, "0,0,0,0": {}, "2,2,2,2": {2, 2, 2, 2},
	} {
		got, err := ParseCodebook(in)
		if err != nil || got != want {
			t.Errorf("ParseCodebook(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, contains := range map[string]string{
		"1,2,3":     "four integers",
		"1,2,3,4,5": "four integers",
		"3,0,0,0":   `entry 0 "3"`,
		"0,0,-3,0":  `entry 2 "-3"`,
		"a,b,c,d":   `entry 0 "a"`,
		"bitnet":    "four integers",
		"":          "empty codebook",
	} {
		_, err := ParseCodebook(in)
		wantErr(t, "ParseCodebook "+in, err, contains)
	}
	if QK256.Name() != "qk256" || Ternary.String() != "ternary" || (Codebook{1, -1, 2, -2}).Name() != "1,-1,2,-2" || QK256.Values() != "-2,-1,1,2" {
		t.Error("codebook names")
	}
}

func TestModeString(t *testing.T) {
	if F32.String() != "f32" || I8.String() != "i8" || Peer.String() != "peer" || Mode(9).String() != "Mode(9)" {
		t.Error("Mode.String")
	}
}

// testKernel is a registry entry for these tests; GEMV is a plain loop.
type testKernel struct {
	Base
	avail error
}

func (k *testKernel) Available() error { return k.avail }
func (k *testKernel) Prepare(m *Matrix) (Prepared, error) {
	if err := CheckPrepare(k, m); err != nil {
		return nil, err
	}
	return &testPrepared{k, m}, nil
}

type testPrepared struct {
	k *testKernel
	m *Matrix
}

func (p *testPrepared) Kernel() Kernel  { return p.k }
func (p *testPrepared) Matrix() *Matrix { return p.m }
func (p *testPrepared) NewInput() Input { return &testInput{p: p} }
func (in *testInput) Load(x []float32) error {
	if err := CheckX(in.p.k.I.ID, in.p.m, x); err != nil {
		return err
	}
	in.x = x
	return nil
}

type testInput struct {
	p *testPrepared
	x []float32
}

func (in *testInput) GEMV(y []float32, r0, r1 int) error {
	if err := CheckY(in.p.k.I.ID, in.p.m, y, r0, r1); err != nil {
		return err
	}
	if in.x == nil {
		return ErrNotLoaded
	}
	o, _ := Oracle(in.p.m, in.x)
	for r := r0; r < r1; r++ {
		y[r] = float32(o[r])
	}
	return nil
}

type ternaryOnly struct{ testKernel }

func (k *ternaryOnly) Supports(cb Codebook) error {
	if cb != Ternary {
		return errors.New("only the ternary codebook")
	}
	return nil
}

func (k *ternaryOnly) Prepare(m *Matrix) (Prepared, error) {
	if err := CheckPrepare(k, m); err != nil {
		return nil, err
	}
	return &testPrepared{&k.testKernel, m}, nil
}

var (
	regOnce sync.Once
	kGo     = &testKernel{Base: Base{I: Info{ID: "t-go-f32", Backend: "scalar", ISA: "go", Mode: F32}}}
	kAsm    = &testKernel{Base: Base{I: Info{ID: "t-avx-i8", Backend: "amd64", ISA: "avx2", Mode: I8}}}
	kRef    = &testKernel{Base: Base{I: Info{ID: "ref-t", Backend: "scalar", ISA: "go", Mode: F32}}}
	kPeer   = &testKernel{Base: Base{I: Info{ID: "t-peer", Backend: "cgo", ISA: "c", Mode: Peer}}, avail: errors.New("library missing")}
	kTern   = &ternaryOnly{testKernel{Base: Base{I: Info{ID: "t-tern", Backend: "other", ISA: "go", Mode: F32}}}}
)

func register() {
	regOnce.Do(func() {
		for _, k := range []Kernel{kPeer, kAsm, kGo, kTern, kRef} {
			Register(k)
		}
	})
}

func TestRegistry(t *testing.T) {
	register()
	t.Setenv("QKBENCH_DISABLE", "")
	t.Setenv("QKBENCH_REQUIRE", "")
	if got, want := strings.Join(IDs(), " "), "ref-t t-go-f32 t-avx-i8 t-peer t-tern"; got != want {
		t.Fatalf("IDs() = %q, want %q (references, Go, assembly, C, others)", got, want)
	}
	if k, err := Lookup("t-avx-i8"); err != nil || k != kAsm {
		t.Fatalf("Lookup = %v, %v", k, err)
	}
	_, err := Lookup("avx9")
	wantErr(t, "Lookup unknown", err, `"avx9"`, "t-go-f32")
	all, err := Select("all")
	if err != nil || len(all) != 5 {
		t.Fatalf("Select(all) = %d, %v", len(all), err)
	}
	if all, _ := Select(""); len(all) != 5 {
		t.Fatalf("Select(\"\") = %d kernels", len(all))
	}
	av, err := Select("available")
	if err != nil || len(av) != 4 {
		t.Fatalf("Select(available) = %d, %v; want 4 (t-peer is unavailable)", len(av), err)
	}
	ks, err := Select(" t-tern, t-go-f32,t-tern,,")
	if err != nil || len(ks) != 2 || ks[0] != kTern || ks[1] != kGo {
		t.Fatalf("Select list = %v, %v", ks, err)
	}
	_, err = Select("t-go-f32,nope")
	wantErr(t, "Select unknown", err, `"nope"`)
	_, err = Select(" , ")
	wantErr(t, "Select empty list", err, "names no kernel")

	for _, id := range []string{"", "Upper", "with space", "ends-12", "t-go-f32"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", id)
				}
			}()
			Register(&testKernel{Base: Base{I: Info{ID: id}}})
		}()
		// Add reports the same as an error (plugins are loaded at run time).
		if err := Add(&testKernel{Base: Base{I: Info{ID: id}}}); err == nil {
			t.Errorf("Add(%q) succeeded", id)
		}
	}
	err = Add(&testKernel{Base: Base{I: Info{ID: "t-go-f32", Backend: "plugin"}}})
	wantErr(t, "Add duplicate", err, `"t-go-f32"`, "scalar and plugin")
	if got := len(List()); got != 5 {
		t.Errorf("%d kernels registered after the refused ones, want 5", got)
	}
}

func TestDisableRequire(t *testing.T) {
	register()
	t.Setenv("QKBENCH_REQUIRE", "")
	for _, c := range []struct {
		disable string
		off     []Kernel
	}{
		{"t-go-f32", []Kernel{kGo}},
		{"t-avx", []Kernel{kAsm}},                    // id prefix
		{"amd64, scalar", []Kernel{kAsm, kGo, kRef}}, // backends
		{"", nil},
	} {
		t.Setenv("QKBENCH_DISABLE", c.disable)
		for _, k := range []Kernel{kGo, kAsm, kRef, kTern} {
			off := false
			for _, o := range c.off {
				off = off || o == k
			}
			err := Usable(k)
			if off != (err != nil) {
				t.Errorf("QKBENCH_DISABLE=%q: Usable(%s) = %v", c.disable, k.Info().ID, err)
			}
			if off && !strings.Contains(err.Error(), "QKBENCH_DISABLE") {
				t.Errorf("Usable error %q does not name QKBENCH_DISABLE", err)
			}
		}
	}
	t.Setenv("QKBENCH_DISABLE", "t-go")
	t.Setenv("QKBENCH_REQUIRE", "t-avx-i8, t-tern")
	if err := CheckRequired(); err != nil {
		t.Fatalf("CheckRequired with usable kernels: %v", err)
	}
	t.Setenv("QKBENCH_REQUIRE", "t-avx-i8,t-peer,t-go-f32,nope")
	err := CheckRequired()
	wantErr(t, "CheckRequired", err, "t-peer: library missing", "t-go-f32: disabled", "nope: not registered")
	if err != nil && strings.Contains(err.Error(), "t-avx-i8:") {
		t.Errorf("CheckRequired blames a usable kernel: %v", err)
	}
	if got := Required(); len(got) != 4 || got[3] != "nope" {
		t.Errorf("Required() = %v", got)
	}
	// A QKBENCH_DISABLE entry that matches nothing (a typo) is named, not
	// silently ignored; ids, id prefixes and backends are fine.
	t.Setenv("QKBENCH_DISABLE", "t-avx, scalar,t-go-f32")
	if err := CheckDisable(); err != nil {
		t.Errorf("CheckDisable with valid entries: %v", err)
	}
	t.Setenv("QKBENCH_DISABLE", "t-avx,avx2-i9x, nope")
	wantErr(t, "CheckDisable", CheckDisable(), `"avx2-i9x", "nope" match no kernel`)
}

func TestCheckHelpers(t *testing.T) {
	register()
	t.Setenv("QKBENCH_DISABLE", "")
	m, err := NewMatrix(3, 5, QK256, 1)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "CheckX nil", CheckX("k", m, nil), "x is nil", "5")
	wantErr(t, "CheckX short", CheckX("k", m, make([]float32, 4)), "len(x)=4, want 5", "3x5")
	wantErr(t, "CheckY nil", CheckY("k", m, nil, 0, 3), "y is nil")
	wantErr(t, "CheckY long", CheckY("k", m, make([]float32, 4), 0, 3), "len(y)=4, want 3")
	y := make([]float32, 3)
	for _, r := range [][2]int{{-1, 2}, {0, 4}, {2, 1}} {
		wantErr(t, "CheckY range", CheckY("k", m, y, r[0], r[1]), "row range")
	}
	for _, r := range [][2]int{{0, 0}, {3, 3}, {0, 3}, {1, 2}} {
		if err := CheckY("k", m, y, r[0], r[1]); err != nil {
			t.Errorf("CheckY(%d, %d): %v", r[0], r[1], err)
		}
	}
	wantErr(t, "CheckGEMV range", CheckGEMV("k", m, y, 2, 1, true), "row range")
	if err := CheckGEMV("k", m, y, 0, 3, false); !errors.Is(err, ErrNotLoaded) {
		t.Errorf("CheckGEMV before Load: %v, want ErrNotLoaded", err)
	}
	if err := CheckGEMV("k", m, y, 1, 3, true); err != nil {
		t.Errorf("CheckGEMV(1, 3) after Load: %v", err)
	}
	_, err = kPeer.Prepare(m)
	wantErr(t, "Prepare unavailable", err, "t-peer is unavailable", "library missing")
	_, err = kTern.Prepare(m)
	wantErr(t, "Prepare unsupported codebook", err, "only the ternary")
	_, err = kGo.Prepare(&Matrix{Rows: 3, Cols: 5, Codebook: QK256, Scale: 1})
	wantErr(t, "Prepare bad matrix", err, "t-go-f32", "0 bytes")

	// Run and GEMV put the three steps together.
	m.SetCode(1, 2, 3)
	y = make([]float32, 3)
	if err := Run(kGo, m, []float32{1, 1, 1, 1, 1}, y); err != nil || y[1] != -6 || y[0] != -10 {
		t.Fatalf("Run: %v, y=%v", err, y)
	}
	p, _ := kGo.Prepare(m)
	if err := p.NewInput().GEMV(y, 0, 3); err != ErrNotLoaded {
		t.Fatalf("GEMV before Load = %v, want ErrNotLoaded", err)
	}
	wantErr(t, "GEMV helper with bad x", GEMV(p, []float32{1}, y), "len(x)=1")
}

// A row whose exact value is beyond float32 (finite x and scale) must give a
// verdict, not a panic (review finding: firstBad stayed -1).
func TestAgreeOverflowRow(t *testing.T) {
	m, err := FromCodes(1, 4, []uint8{3, 3, 3, 3}, QK256, 3e38)
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{1, 1, 1, 1}
	e := Expect(m, x)
	inf := float32(math.Inf(1))
	for _, mode := range []Mode{F32, Peer} {
		a := e.Agree(mode, []float32{inf})
		if a.Pass && mode == F32 {
			t.Errorf("%v: +Inf for an unrepresentable row passed: %+v", mode, a)
		}
	}
}

func TestChunkedX(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5}
	c := NewChunkedX(len(x), 4)
	if c.X() != nil {
		t.Fatalf("X() before Set = %v, want nil", c.X())
	}
	c.Set(x)
	if got := c.X(); len(got) != 8 || got[4] != 5 || got[5] != 0 || got[7] != 0 || &got[0] == &x[0] {
		t.Fatalf("cols 5, chunks of 4: X() = %v, want a zero-padded copy of length 8", got)
	}
	x[0] = 9
	c.Set(x)
	if got := c.X(); got[0] != 9 {
		t.Fatalf("second Set: X()[0] = %v, want 9", got[0])
	}
	e := NewChunkedX(4, 4)
	e.Set(x[:4])
	if got := e.X(); len(got) != 4 || &got[0] != &x[0] {
		t.Fatalf("cols 4, chunks of 4: X() is not x itself")
	}
}

// A kernel that wrote NaN rows made max |Δ| +Inf and NMSE NaN, and
// encoding/json refused the receipt ("json: unsupported value: +Inf"), so a
// sweep with such a kernel aborted without writing anything.
func TestAgreementJSONNonFinite(t *testing.T) {
	m := &Matrix{Rows: 2, Cols: 256, Codebook: QK256, Scale: 1, Data: make([]byte, 2*64)}
	x := make([]float32, 256)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	y := []float32{float32(math.NaN()), float32(math.Inf(1))}
	a := Expect(m, x).Agree(I8, y)
	if a.Pass || !math.IsInf(a.MaxAbs, 1) {
		t.Fatalf("agreement of NaN rows: %+v, want a failure with max |Δ| +Inf", a)
	}
	a.NMSE, a.Cosine = math.NaN(), math.Inf(-1)
	b, err := json.Marshal(&a)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var back Agreement
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	if !math.IsInf(back.MaxAbs, 1) || !math.IsNaN(back.NMSE) || !math.IsInf(back.Cosine, -1) || back.Why != a.Why || back.Rows != 2 || back.Reference != "ref-i8" {
		t.Errorf("round trip of %s: %+v", b, back)
	}
}

// TestCodebookDigits: codebooks of at most three distinct values have
// digits, each code's pointing at its value; others have none.
func TestCodebookDigits(t *testing.T) {
	for _, c := range []struct {
		cb Codebook
		ok bool
	}{
		{Ternary, true}, {QK256, false}, {Codebook{2, 2, 2, 2}, true},
		{Codebook{-2, 2, -2, 2}, true}, {Codebook{0, -2, 2, -2}, true},
		{Codebook{-2, 0, 1, 2}, false}, {Codebook{1, -1, 2, -2}, false},
	} {
		vals, digit, ok := c.cb.Digits()
		if ok != c.ok {
			t.Fatalf("Digits(%v): ok = %v, want %v", c.cb.Values(), ok, c.ok)
		}
		if !ok {
			continue
		}
		for code, v := range c.cb {
			if d := digit[code]; d > 2 || vals[d] != v {
				t.Fatalf("Digits(%v): code %d has digit %d (values %v), want its value %d", c.cb.Values(), code, d, vals, v)
			}
		}
	}
}
