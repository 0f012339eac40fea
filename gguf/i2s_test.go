package gguf

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

// quantizeI2SRef restates bitnet.cpp's quantize_i2_s from docs/format.md §4 on float
// weights: absmax scale, w>0 → 2, w<0 → 0, |w|<1e-6 → 1, only whole
// 128-weight blocks packed (byte j of a block holds weights j, j+32, j+64,
// j+96 at shifts 6, 4, 2, 0), the f32 scale at n/4, total n/4+32 bytes.
func quantizeI2SRef(w []float32) []byte {
	n := len(w)
	var mx float64
	for _, v := range w {
		mx = math.Max(mx, math.Abs(float64(v)))
	}
	q := make([]byte, n)
	for i, v := range w {
		switch {
		case math.Abs(float64(v)) < 1e-6:
			q[i] = 1
		case float64(v)*mx > 0:
			q[i] = 2
		default:
			q[i] = 0
		}
	}
	out := make([]byte, n/4+32)
	for b := 0; b < n/128; b++ {
		for j := 0; j < 128; j++ {
			out[b*32+j%32] |= q[b*128+j] << (6 - 2*(j/32))
		}
	}
	binary.LittleEndian.PutUint32(out[n/4:], math.Float32bits(float32(mx)))
	return out
}

func ternary(t *testing.T, rows, cols int, seed uint64) *kernels.Matrix {
	t.Helper()
	wl, err := workloads.Generate(workloads.Spec{Rows: rows, Cols: cols, Codebook: kernels.Ternary, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return wl.M
}

func TestPackBitnetMatchesQuantizeI2S(t *testing.T) {
	// A hand-made block: weight 0 = +1 (code 2), weight 33 = 0 (code 1),
	// weight 127 = +1, all others -1 (code 0).
	codes := make([]uint8, 128)
	codes[0], codes[33], codes[127] = 2, 1, 2
	m, _ := kernels.FromCodes(1, 128, codes, kernels.Ternary, 1)
	got, err := PackBitnet(m, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 64)
	want[0] = 0x80  // weight 0 in bits [7:6]
	want[1] = 0x10  // weight 33 in bits [5:4]
	want[31] = 0x02 // weight 127 in bits [1:0]
	binary.LittleEndian.PutUint32(want[32:], math.Float32bits(1))
	if !bytes.Equal(got, want) {
		t.Fatalf("hand block:\n got %x\nwant %x", got, want)
	}
	for _, sh := range [][2]int{{1, 128}, {3, 256}, {2, 192}, {5, 100}, {7, 3200}, {1, 1}} {
		m := ternary(t, sh[0], sh[1], 9)
		const scale = 0.75
		w := make([]float32, 0, sh[0]*sh[1])
		for r := 0; r < m.Rows; r++ {
			for c := 0; c < m.Cols; c++ {
				w = append(w, scale*m.Weight(r, c))
			}
		}
		got, err := PackBitnet(m, scale)
		if err != nil {
			t.Fatal(err)
		}
		if want := quantizeI2SRef(w); !bytes.Equal(got, want) {
			t.Fatalf("%dx%d: PackBitnet differs from quantize_i2_s", sh[0], sh[1])
		}
	}
}

func writeOne(t *testing.T, extra func(w *Writer), name string, typ TensorType, dims []uint64, data []byte) *File {
	t.Helper()
	w := NewWriter()
	if err := w.AddTensor(name, typ, dims, data); err != nil {
		t.Fatal(err)
	}
	if extra != nil {
		extra(w)
	}
	var b bytesBuffer
	if _, err := w.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	f, err := OpenBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func sameCodes(t *testing.T, got, want *kernels.Matrix) {
	t.Helper()
	if got.Rows != want.Rows || got.Cols != want.Cols || got.Codebook != want.Codebook || got.Scale != want.Scale {
		t.Fatalf("got %dx%d %v scale %g, want %dx%d %v scale %g", got.Rows, got.Cols, got.Codebook, got.Scale, want.Rows, want.Cols, want.Codebook, want.Scale)
	}
	if !bytes.Equal(got.Unpack(), want.Unpack()) {
		t.Fatal("codes differ")
	}
}

func TestBitnetCppReading(t *testing.T) {
	for _, sh := range [][2]int{{4, 256}, {3, 384}, {2, 192}, {5, 3200}, {64, 128}} {
		m := ternary(t, sh[0], sh[1], 5)
		m.Scale = 0.5
		data, _ := PackBitnet(m, m.Scale)
		f := writeOne(t, nil, "w", I2S, []uint64{uint64(sh[1]), uint64(sh[0])}, data)
		ti, _ := f.Tensor("w")
		opt := Options{}
		if seed, bitnet, _, _ := i2sSizes(int64(sh[0]), int64(sh[1])); seed == bitnet {
			// Both readings fit exactly: the rule picks seed; force bitnet-cpp.
			if l, _ := f.DetectI2S(ti, opt); l.Reading != ReadingSeed {
				t.Fatalf("%v: tie gave %v, want seed by priority", sh, l.Reading)
			}
			opt.Reading = ReadingBitnetCpp
		}
		got, l, err := f.DecodeMatrix(ti, opt)
		if err != nil {
			t.Fatalf("%v: %v", sh, err)
		}
		if l.Flavor != GgmlQk256NoScale || l.Reading != ReadingBitnetCpp || l.Scale != 0.5 {
			t.Fatalf("%v: layout %+v", sh, l)
		}
		sameCodes(t, got, m)
		fw, r, c, err := f.DecodeFloat(ti, opt, 2)
		if err != nil || r != 2 || c != sh[1] {
			t.Fatal(r, c, err)
		}
		for i, v := range fw {
			if want := m.Weight(i/c, i%c); v != want {
				t.Fatalf("%v: float %d = %g, want %g", sh, i, v, want)
			}
		}
	}
	// Element count not a multiple of 128: bitnet.cpp dropped weights.
	m := ternary(t, 3, 100, 1)
	data, _ := PackBitnet(m, 1)
	f := writeOne(t, nil, "odd", I2S, []uint64{100, 3}, data)
	ti, _ := f.Tensor("odd")
	if _, _, err := f.DecodeMatrix(ti, Options{Flavor: GgmlQk256NoScale, Reading: ReadingBitnetCpp}); err == nil || !strings.Contains(err.Error(), "multiple of 128") {
		t.Fatalf("odd bitnet-cpp: %v", err)
	}
}

func TestSeedReading(t *testing.T) {
	wl, _ := workloads.Generate(workloads.Spec{Rows: 67, Cols: 3200, Codebook: kernels.QK256, Seed: 3})
	f := writeOne(t, nil, "s", I2S, []uint64{3200, 67}, wl.M.Data)
	ti, _ := f.Tensor("s")
	got, l, err := f.DecodeMatrix(ti, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Flavor != GgmlQk256NoScale || l.Reading != ReadingSeed {
		t.Fatalf("layout %+v", l)
	}
	sameCodes(t, got, wl.M)
	if &got.Data[0] != &f.data[ti.Start] {
		t.Error("seed reading copied the data; want a view")
	}
}

func blockScales(n int, same bool) []float32 {
	s := make([]float32, (n+31)/32)
	for i := range s {
		s[i] = 0.25
		if !same {
			s[i] = float32(i%7+1) * 0.125
		}
	}
	return s
}

func TestSplit32AndBitNet32F16(t *testing.T) {
	for _, sh := range [][2]int{{3, 256}, {2, 96}, {3, 40}} {
		rows, cols := sh[0], sh[1]
		n := rows * cols
		wl, _ := workloads.Generate(workloads.Spec{Rows: rows, Cols: cols, Codebook: kernels.QK256, Seed: 11})
		codes := wl.M.Unpack()
		nblk := (n + 31) / 32
		pack32 := func(bb int, scales []float32) []byte {
			out := make([]byte, nblk*bb)
			for e, c := range codes {
				out[e/32*bb+e%32/4] |= c << (2 * uint(e%4))
			}
			if bb == 10 {
				for b := range nblk {
					binary.LittleEndian.PutUint16(out[b*10+8:], ToFloat16(scales[b]))
				}
			}
			return out
		}
		for _, same := range []bool{true, false} {
			sc := blockScales(n, same)
			for _, fl := range []Flavor{Split32WithSibling, BitNet32F16} {
				var f *File
				if fl == BitNet32F16 {
					f = writeOne(t, nil, "w", I2S, []uint64{uint64(cols), uint64(rows)}, pack32(10, sc))
				} else {
					f = writeOne(t, func(w *Writer) {
						if err := w.AddTensor("w.scale", F32, []uint64{uint64(nblk)}, f32bytes(sc...)); err != nil {
							t.Fatal(err)
						}
					}, "w", I2S, []uint64{uint64(cols), uint64(rows)}, pack32(8, sc))
				}
				ti, _ := f.Tensor("w")
				l, err := f.DetectI2S(ti, Options{})
				if err != nil || l.Flavor != fl {
					t.Fatalf("%v %v: detected %+v %v", sh, fl, l, err)
				}
				fw, _, _, err := f.DecodeFloat(ti, Options{}, 0)
				if err != nil {
					t.Fatal(err)
				}
				for e, v := range fw {
					if want := sc[e/32] * float32(kernels.QK256[codes[e]]); v != want {
						t.Fatalf("%v %v: weight %d = %g, want %g", sh, fl, e, v, want)
					}
				}
				m, _, err := f.DecodeMatrix(ti, Options{})
				if same {
					if err != nil {
						t.Fatal(err)
					}
					want := wl.M.Clone()
					want.Scale = 0.25
					sameCodes(t, m, want)
				} else if err == nil || !strings.Contains(err.Error(), "cannot become one QK256 matrix") {
					t.Fatalf("%v %v: differing scales gave %v", sh, fl, err)
				}
			}
		}
	}
}

func TestDetectionRules(t *testing.T) {
	const rows, cols = 4, 512
	seed, bitnet, split32, f16 := i2sSizes(rows, cols)
	mk := func(size int, scale float32) *File {
		data := make([]byte, size)
		if int64(size) >= bitnet {
			binary.LittleEndian.PutUint32(data[rows*cols/4:], math.Float32bits(scale))
		}
		return writeOne(t, nil, "w", I2S, []uint64{cols, rows}, data)
	}
	cases := []struct {
		size  int64
		scale float32
		fl    Flavor
		rd    Reading
	}{
		{seed, 1, GgmlQk256NoScale, ReadingSeed},
		{bitnet, 1, GgmlQk256NoScale, ReadingBitnetCpp}, // exact bitnet beats seed+32
		{bitnet, 0, GgmlQk256NoScale, ReadingSeed},      // no valid trailing scale
		{bitnet, float32(math.Inf(1)), GgmlQk256NoScale, ReadingSeed},
		{seed + 100, -1, GgmlQk256NoScale, ReadingSeed},
		{f16 + 128, 1, BitNet32F16, ReadingNone},
		{seed + 128, -1, BitNet32F16, ReadingNone}, // = f16: smaller difference wins
		{f16, 1, BitNet32F16, ReadingNone},
		{f16 + 100, 1, BitNet32F16, ReadingNone},
	}
	for _, c := range cases {
		f := mk(int(c.size), c.scale)
		ti, _ := f.Tensor("w")
		l, err := f.DetectI2S(ti, Options{})
		if err != nil || l.Flavor != c.fl || l.Reading != c.rd {
			t.Errorf("size %d scale %g: %+v %v, want %v %v", c.size, c.scale, l, err, c.fl, c.rd)
		}
	}
	_ = split32
	for _, size := range []int64{seed - 1, f16 + 129, 1} {
		f := mk(int(size), 1)
		ti, _ := f.Tensor("w")
		_, err := f.DetectI2S(ti, Options{})
		if err == nil {
			t.Fatalf("size %d matched", size)
		}
		for _, s := range []string{`"w"`, "available", "512", "544", "640", "4x512"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("size %d: error %q lacks %q", size, err, s)
			}
		}
	}
	// Overrides.
	f := mk(int(bitnet), 1)
	ti, _ := f.Tensor("w")
	if l, err := f.DetectI2S(ti, Options{Reading: ReadingSeed}); err != nil || l.Reading != ReadingSeed {
		t.Errorf("forced seed: %+v %v", l, err)
	}
	if l, err := f.DetectI2S(ti, Options{Flavor: GgmlQk256NoScale}); err != nil || l.Reading != ReadingBitnetCpp {
		t.Errorf("forced GgmlQk256NoScale, auto reading: %+v %v", l, err)
	}
	if l, err := mkDetect(mk(int(bitnet), 0), Options{Flavor: GgmlQk256NoScale}); err != nil || l.Reading != ReadingSeed {
		t.Errorf("forced GgmlQk256NoScale, zero trailing scale: %+v %v", l, err)
	}
	if _, err := f.DetectI2S(ti, Options{Flavor: BitNet32F16}); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("forced BitNet32F16 on a short tensor: %v", err)
	}
	if _, err := f.DetectI2S(ti, Options{Flavor: Split32WithSibling}); err == nil || !strings.Contains(err.Error(), "w.scale") {
		t.Errorf("forced Split32 without sibling: %v", err)
	}
	// A sibling of the wrong size is an error, not another flavor.
	f = writeOne(t, func(w *Writer) { w.AddTensor("w.scales", F32, []uint64{64}, make([]byte, 256)) }, "w", I2S, []uint64{cols, rows}, make([]byte, f16+100))
	ti, _ = f.Tensor("w")
	if _, err := f.DetectI2S(ti, Options{}); err == nil || !strings.Contains(err.Error(), "Split32WithSibling") {
		t.Errorf("sibling with wrong size: %v", err)
	}
}

func mkDetect(f *File, opt Options) (I2SLayout, error) {
	ti, _ := f.Tensor("w")
	return f.DetectI2S(ti, opt)
}

func TestTQ20(t *testing.T) {
	// One block: weights m, m+32, m+64, m+96 of each 128-half in bits
	// [1:0], [3:2], [5:4], [7:6] of byte m; weight = (code-1)*d.
	data := make([]byte, 66*2)
	codes := make([]uint8, 512)
	for e := range codes {
		codes[e] = uint8(e*5/3) % 4
		blk, j := e/256, e%256
		half, jj := j/128, j%128
		data[blk*66+half*32+jj%32] |= codes[e] << (2 * (jj / 32))
	}
	binary.LittleEndian.PutUint16(data[64:], ToFloat16(0.5))
	binary.LittleEndian.PutUint16(data[66+64:], ToFloat16(0.5))
	f := writeOne(t, nil, "t", TQ20, []uint64{256, 2}, data)
	ti, _ := f.Tensor("t")
	w, _, _, err := f.DecodeFloat(ti, Options{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for e, v := range w {
		if want := float32(int(codes[e])-1) * 0.5; v != want {
			t.Fatalf("weight %d = %g, want %g", e, v, want)
		}
	}
	m, _, err := f.DecodeMatrix(ti, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := kernels.FromCodes(2, 256, codes, TQ2Codebook, 0.5)
	sameCodes(t, m, want)
}

func TestFloat16(t *testing.T) {
	for _, v := range []float32{0, 1, -2.5, 65504, 6.1035156e-05, 5.9604645e-08, 0.333251953125} {
		if got := Float16(ToFloat16(v)); got != v {
			t.Errorf("f16 round trip %g -> %g", v, got)
		}
	}
	if ToFloat16(1) != 0x3c00 || ToFloat16(-2) != 0xc000 || Float16(0x7c00) != float32(math.Inf(1)) {
		t.Error("f16 constants")
	}
}
