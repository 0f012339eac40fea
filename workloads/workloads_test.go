package workloads

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels"
)

// digest hashes everything Generate produced: shape, scale, codebook, packed
// bytes (padding included) and the bits of x.
func digest(w *Workload) string {
	h := sha256.New()
	var b [8]byte
	for _, v := range []int{w.M.Rows, w.M.Cols} {
		binary.LittleEndian.PutUint64(b[:], uint64(v))
		h.Write(b[:])
	}
	binary.LittleEndian.PutUint32(b[:4], math.Float32bits(w.M.Scale))
	h.Write(b[:4])
	for _, c := range w.M.Codebook {
		h.Write([]byte{byte(c)})
	}
	h.Write(w.M.Data)
	for _, v := range w.X {
		binary.LittleEndian.PutUint32(b[:4], math.Float32bits(v))
		h.Write(b[:4])
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

var goldenSpecs = []Spec{
	{Rows: 7, Cols: 300, Codebook: kernels.QK256, Seed: 42},
	{Rows: 5, Cols: 257, Codebook: kernels.Ternary, Scale: 0.25, Seed: 1},
	{Rows: 3, Cols: 1000, Codebook: kernels.Codebook{1, -1, 2, -2}, Activations: Outliers, Seed: 7},
	{Rows: 2, Cols: 64, Codebook: kernels.QK256, Weights: TernaryWeights, Seed: DefaultSeed},
	{Rows: 3, Cols: 100, Codebook: kernels.Ternary, Activations: Extreme, Seed: 9},
}

// A change in the generator changes these digests: the same Spec must give
// the same bytes and floats on every machine and in every version, so that
// receipts name reproducible workloads. If you change the generator on
// purpose, update the digests and say so in the commit.
func TestGenerateGolden(t *testing.T) {
	want := []string{
		"cd0caf4028d48eb9f04c52c8410a2bf7",
		"c7006dee909d52801da57d253d7cd10b",
		"d5e3cfaa8aa9a79a5f2fedb47b9c1e6d",
		"95d71f2f7516dd60eecd0f27db6921e3",
		"db257f3f710d28cf676723d93ae917b2",
	}
	for i, sp := range goldenSpecs {
		w, err := Generate(sp)
		if err != nil {
			t.Fatal(err)
		}
		if got := digest(w); got != want[i] {
			t.Errorf("Generate(%+v) digest %s, want %s", sp, got, want[i])
		}
		again, _ := Generate(sp)
		if digest(again) != digest(w) {
			t.Errorf("Generate(%+v) is not deterministic", sp)
		}
	}
	w, _ := Generate(goldenSpecs[0])
	if string(w.M.Data[:4]) != "\xa8\x77\xdc\x64" || math.Float32bits(w.X[0]) != 0x3e57cafd || math.Float32bits(w.X[2]) != 0x402484b9 {
		t.Errorf("first bytes % x, first x %v", w.M.Data[:4], w.X[:3])
	}
	if w.Name != "7x300" || !strings.Contains(w.Source, "seed=42") || !strings.Contains(w.Source, "codebook=qk256") {
		t.Errorf("Name %q Source %q", w.Name, w.Source)
	}
}

func TestGenerateSeedsDiffer(t *testing.T) {
	a, _ := Generate(Spec{Rows: 4, Cols: 512, Codebook: kernels.QK256, Seed: 1})
	b, _ := Generate(Spec{Rows: 4, Cols: 512, Codebook: kernels.QK256, Seed: 2})
	if string(a.M.Data) == string(b.M.Data) || a.X[0] == b.X[0] {
		t.Fatal("seeds 1 and 2 give the same workload")
	}
	if a.M.Scale != 1 {
		t.Fatalf("scale 0 in a Spec must mean 1, got %g", a.M.Scale)
	}
}

func TestGenerateWeights(t *testing.T) {
	w, err := Generate(Spec{Rows: 64, Cols: 1000, Codebook: kernels.Ternary, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var count [4]int
	for _, c := range w.M.Unpack() {
		count[c]++
	}
	n := float64(64 * 1000)
	if count[3] != 0 {
		t.Errorf("ternary weights use code 3 %d times", count[3])
	}
	if z := float64(count[1]) / n; math.Abs(z-TernaryZeroShare) > 0.01 {
		t.Errorf("zero share %.3f, want about %g", z, TernaryZeroShare)
	}
	if math.Abs(float64(count[0]-count[2]))/n > 0.02 {
		t.Errorf("-1 and +1 unbalanced: %v", count)
	}
	// Uniform: every code about a quarter, padding random too.
	u, _ := Generate(Spec{Rows: 64, Cols: 1000, Codebook: kernels.QK256, Seed: 3})
	count = [4]int{}
	for _, c := range u.M.Unpack() {
		count[c]++
	}
	for c, k := range count {
		if math.Abs(float64(k)/n-0.25) > 0.01 {
			t.Errorf("uniform code %d share %.3f", c, float64(k)/n)
		}
	}
	pad := 0
	for c := 1000; c < 1024; c++ {
		pad += int(u.M.Code(0, c))
	}
	if pad == 0 {
		t.Error("uniform padding is all zero; the generator should leave junk there")
	}
}

func TestGenerateX(t *testing.T) {
	x, err := GenerateX(100000, Gaussian, 5)
	if err != nil {
		t.Fatal(err)
	}
	var s, s2 float64
	for _, v := range x {
		s += float64(v)
		s2 += float64(v) * float64(v)
	}
	mean, vr := s/1e5, s2/1e5-(s/1e5)*(s/1e5)
	if math.Abs(mean) > 0.02 || math.Abs(vr-1) > 0.03 {
		t.Errorf("gaussian mean %.4f var %.4f", mean, vr)
	}
	o, _ := GenerateX(4096, Outliers, 5)
	g, _ := GenerateX(4096, Gaussian, 5)
	big := 0
	for i := range o {
		if o[i] != g[i] {
			if r := o[i] / g[i]; r < 50 || r > 100 {
				t.Errorf("outlier x[%d] = %g is %gx the gaussian value, want 50..100x", i, o[i], r)
			}
			big++
		}
	}
	if big == 0 || big > 16 {
		t.Errorf("%d outlier channels in 4096, want 1..16", big)
	}
	for _, c := range []struct {
		n    int
		kind Activations
		msg  string
	}{{0, Gaussian, "activation length 0"}, {-3, Gaussian, "length -3"}, {kernels.MaxDim + 1, Gaussian, "outside"}, {5, "laplace", `"laplace"`}} {
		if _, err := GenerateX(c.n, c.kind, 1); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("GenerateX(%d, %q) = %v, want an error about %s", c.n, c.kind, err, c.msg)
		}
	}
	if _, err := Generate(Spec{Rows: 2, Cols: 5, Weights: "binary"}); err == nil || !strings.Contains(err.Error(), `"binary"`) {
		t.Errorf("unknown weights: %v", err)
	}
	if _, err := Generate(Spec{Rows: 0, Cols: 5}); err == nil || !strings.Contains(err.Error(), "positive") {
		t.Errorf("0 rows: %v", err)
	}
	if _, err := Generate(Spec{Rows: 2, Cols: 5, Codebook: kernels.Codebook{9}}); err == nil {
		t.Error("bad codebook accepted")
	}
}

func TestParseShapes(t *testing.T) {
	got, err := ParseShapes(" 2048x4096, 67X3200,,3x1 ")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].String() != "2048x4096" || got[1].String() != "67x3200" || got[2].String() != "3x1" {
		t.Fatalf("ParseShapes = %v", got)
	}
	for in, msg := range map[string]string{
		"":              "empty",
		" , ":           "empty",
		"2048":          "ROWSxCOLS",
		"2048*4096":     "ROWSxCOLS",
		"ax4096":        "integers",
		"2048x":         "integers",
		"1.5x3":         "integers",
		"0x4096":        "positive",
		"-1x4096":       "positive",
		"2x99999999":    "at most",
		"4x4,5x5,bad":   `"bad"`,
		"64x256,64X256": "appears twice",
	} {
		if _, err := ParseShapes(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseShapes(%q) = %v, want an error mentioning %s", in, err, msg)
		}
	}
}

func TestPresets(t *testing.T) {
	names := PresetNames()
	for _, want := range []string{"bitnet-0.7b", "bitnet-2b", "bitnet-3b", "default", "falcon3-10b", "llama3-8b", "seed"} {
		if _, err := Lookup(want); err != nil {
			t.Errorf("preset %s: %v", want, err)
		}
	}
	if strings.Join(names, ",") != "bitnet-0.7b,bitnet-2b,bitnet-3b,default,falcon3-10b,llama3-8b,seed" {
		t.Errorf("PresetNames = %v", names)
	}
	// docs/format.md §7.
	p, _ := Lookup("bitnet-2b")
	if p.Layers != 30 || p.Model != "BitNet b1.58 2B4T" || len(p.Shapes) != 4 {
		t.Fatalf("bitnet-2b = %+v", p)
	}
	want := map[string]string{"2560x2560": "q,o", "640x2560": "k,v", "6912x2560": "gate,up", "2560x6912": "down"}
	for _, s := range p.Shapes {
		if strings.Join(s.Roles, ",") != want[s.String()] || s.PerLayer != len(s.Roles) {
			t.Errorf("bitnet-2b shape %s roles %v perLayer %d", s, s.Roles, s.PerLayer)
		}
	}
	// q, o, k and v share a shape in the 0.7B and 3B models.
	for name, first := range map[string]string{"bitnet-0.7b": "1536x1536", "bitnet-3b": "3200x3200"} {
		p, _ := Lookup(name)
		if p.Shapes[0].String() != first || p.Shapes[0].PerLayer != 4 || len(p.Shapes) != 3 {
			t.Errorf("%s: %+v", name, p.Shapes)
		}
	}
	for _, name := range names {
		p, _ := Lookup(name)
		if p.Layers == 0 {
			continue
		}
		per := 0
		for _, s := range p.Shapes {
			per += s.PerLayer
		}
		if per != 7 {
			t.Errorf("%s: %d matrices per layer, want 7 (q k v o gate up down)", name, per)
		}
	}
	l, _ := Lookup("llama3-8b")
	if l.Layers != 32 || l.Shapes[len(l.Shapes)-1].String() != "4096x14336" {
		t.Errorf("llama3-8b: %+v", l)
	}
	d, _ := Lookup("default")
	if len(d.Shapes) != 5 || d.Shapes[0].String() != "2048x4096" || d.Shapes[1].String() != "2560x2560" {
		t.Errorf("default = %v", d.Shapes)
	}
	// Lookup returns a copy.
	d.Shapes[0].Rows = 1
	if d2, _ := Lookup("default"); d2.Shapes[0].Rows != 2048 {
		t.Error("Lookup shares its Shapes with the registry")
	}
	if _, err := Lookup("gpt5"); err == nil || !strings.Contains(err.Error(), "bitnet-2b") {
		t.Errorf("unknown preset: %v", err)
	}
}

func TestResolve(t *testing.T) {
	p, err := Resolve("bitnet-2b", "3x7")
	if err != nil || p.Name != "shapes" || len(p.Shapes) != 1 || p.Shapes[0].Cols != 7 {
		t.Fatalf("explicit shapes must win: %+v %v", p, err)
	}
	if p, err := Resolve("", " "); err != nil || p.Name != "default" {
		t.Fatalf("neither given: %+v %v", p, err)
	}
	if p, err := Resolve("seed", ""); err != nil || p.Shapes[0].String() != "2048x4096" {
		t.Fatalf("seed: %+v %v", p, err)
	}
	if _, err := Resolve("", "0x1"); err == nil {
		t.Fatal("bad shape list accepted")
	}
	if s := SpecFor(Shape{Rows: 3, Cols: 9}, kernels.Ternary, 5); s.Rows != 3 || s.Cols != 9 || s.Codebook != kernels.Ternary || s.Seed != 5 {
		t.Fatalf("SpecFor = %+v", s)
	}
}

// TestExtremeActivations: every x is ±1 (so every q is ±127), both signs
// occur, the same seed gives the same x, and the names parse.
func TestExtremeActivations(t *testing.T) {
	x, err := GenerateX(4096, Extreme, 3)
	if err != nil {
		t.Fatal(err)
	}
	neg := 0
	for i, v := range x {
		if v != 1 && v != -1 {
			t.Fatalf("x[%d] = %v, want ±1", i, v)
		}
		if v < 0 {
			neg++
		}
	}
	if neg < 1900 || neg > 2200 {
		t.Errorf("%d of 4096 negative, want about half", neg)
	}
	q := make([]int8, len(x))
	kernels.QuantizeI8(x, q)
	for i, v := range q {
		if v != 127 && v != -127 {
			t.Fatalf("q[%d] = %d, want ±127", i, v)
		}
	}
	y, _ := GenerateX(4096, Extreme, 3)
	z, _ := GenerateX(4096, Extreme, 4)
	if !slices.Equal(x, y) || slices.Equal(x, z) {
		t.Error("Extreme x is not a function of the seed")
	}
	for _, n := range ActivationNames() {
		if a, err := ParseActivations(n); err != nil || string(a) != n {
			t.Errorf("ParseActivations(%q) = %q, %v", n, a, err)
		}
	}
	if _, err := ParseActivations("laplace"); err == nil || !strings.Contains(err.Error(), `"laplace"`) || !strings.Contains(err.Error(), "extreme") {
		t.Errorf("ParseActivations(laplace): %v, want an error naming it and the choices", err)
	}
}
