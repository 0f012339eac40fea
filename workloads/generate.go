package workloads

import (
	"fmt"
	"strings"

	"github.com/qkbench/qkbench/kernels"
)

// DefaultSeed is the seed a run uses unless told otherwise (the seed's BITNET_SEED).
const DefaultSeed = 42

// Weights names a weight generator.
type Weights string

// Activations names an activation generator.
type Activations string

const (
	// Uniform draws every code 0..3 with equal probability.
	Uniform Weights = "uniform"
	// TernaryWeights draws codes 0, 1, 2 (w = -1, 0, +1 under the ternary
	// codebook) with a share of zeros like trained BitNet b1.58 weights.
	TernaryWeights Weights = "ternary"

	// Gaussian draws x from an approximate N(0, 1).
	Gaussian Activations = "gaussian"
	// Outliers is Gaussian x with a few channels 50-100x larger, as real LLM
	// activations have.
	Outliers Activations = "outliers"
	// Extreme is x = ±1 with random signs: every activation at the
	// quantizer's full scale (every q = ±127), the worst case for kernels
	// whose speed depends on x (avx2lut-i8's one-lookup table pairs).
	Extreme Activations = "extreme"
)

// ActivationNames lists the activation generators.
func ActivationNames() []string {
	return []string{string(Gaussian), string(Outliers), string(Extreme)}
}

// Tag is a's name where a run must say which x it timed: "" for the
// default, gaussian (receipts and results files from before activations
// were named hold gaussian x, and must still compare with new ones).
func (a Activations) Tag() string {
	if a == Gaussian {
		return ""
	}
	return string(a)
}

// ParseActivations returns the named activation generator.
func ParseActivations(s string) (Activations, error) {
	for _, n := range ActivationNames() {
		if s == n {
			return Activations(n), nil
		}
	}
	return "", fmt.Errorf("unknown activations %q, want one of %s", s, strings.Join(ActivationNames(), ", "))
}

// TernaryZeroShare is the share of zero weights TernaryWeights draws: about a
// third, as absmean quantization of a trained model's weights gives.
const TernaryZeroShare = 0.35

// Spec says how to generate one workload.
type Spec struct {
	Rows, Cols  int
	Codebook    kernels.Codebook
	Scale       float32 // 0 means 1
	Weights     Weights // "" means Uniform for qk256 and TernaryWeights for ternary
	Activations Activations
	Seed        uint64
}

// Workload is a matrix with an activation vector.
type Workload struct {
	Name   string // "2048x4096" or a GGUF tensor name
	M      *kernels.Matrix
	X      []float32
	Source string // how it was made, for receipts
}

// SpecFor fills a Spec for a shape with the defaults of a run.
func SpecFor(s Shape, cb kernels.Codebook, seed uint64) Spec {
	return Spec{Rows: s.Rows, Cols: s.Cols, Codebook: cb, Seed: seed}
}

// Generate builds the workload a Spec describes. The same Spec gives the same
// bytes and floats on every machine: the generator is integer arithmetic and
// correctly rounded float operations only.
func Generate(sp Spec) (*Workload, error) {
	sp = sp.withDefaults()
	m, err := kernels.NewMatrix(sp.Rows, sp.Cols, sp.Codebook, sp.Scale)
	if err != nil {
		return nil, fmt.Errorf("workloads: %w", err)
	}
	g := newRNG(sp.Seed, 1)
	switch sp.Weights {
	case Uniform:
		// Random bytes fill codes and padding alike; padding must not matter.
		for i := range m.Data {
			m.Data[i] = byte(g.next())
		}
	case TernaryWeights:
		share := TernaryZeroShare
		zero := uint64(share * (1 << 32))
		for r := 0; r < sp.Rows; r++ {
			for c := 0; c < sp.Cols; c++ {
				v := g.next()
				code := uint8(1) // w = 0
				if v>>32 >= zero {
					code = uint8(v&1) * 2 // w = -1 or +1
				}
				m.SetCode(r, c, code)
			}
		}
	default:
		return nil, fmt.Errorf("workloads: unknown weight generator %q, want %q or %q", sp.Weights, Uniform, TernaryWeights)
	}
	x, err := GenerateX(sp.Cols, sp.Activations, sp.Seed)
	if err != nil {
		return nil, err
	}
	return &Workload{
		Name: m.Shape(), M: m, X: x,
		Source: sp.Source(),
	}, nil
}

// GenerateX returns n activations from the named generator.
func GenerateX(n int, kind Activations, seed uint64) ([]float32, error) {
	if n <= 0 || n > kernels.MaxDim {
		return nil, fmt.Errorf("workloads: activation length %d outside [1, %d]", n, kernels.MaxDim)
	}
	g := newRNG(seed, 2)
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(g.normal())
	}
	switch kind {
	case Gaussian, "":
	case Extreme:
		// The signs from the same stream, after the Gaussian draws, so that
		// x depends on the seed and the length only.
		for i := range x {
			x[i] = float32(1 - 2*int(g.next()>>63))
		}
	case Outliers:
		// About one channel in 256 (at least one) is scaled by 50..100.
		k := max(1, n/256)
		for j := 0; j < k; j++ {
			i := int(g.next() % uint64(n))
			f := 50 + float64(g.next()%51)
			x[i] = float32(float64(x[i]) * f)
		}
	default:
		return nil, fmt.Errorf("workloads: unknown activation generator %q, want one of %s", kind, strings.Join(ActivationNames(), ", "))
	}
	return x, nil
}

// rng is SplitMix64: tiny, fast and defined by integer arithmetic alone.
type rng struct{ s uint64 }

func newRNG(seed, stream uint64) *rng {
	return &rng{s: seed*0x9e3779b97f4a7c15 + stream*0xd1b54a32d192ed03}
}

func (g *rng) next() uint64 {
	g.s += 0x9e3779b97f4a7c15
	z := g.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// uniform returns a float64 in [0, 1) with 53 random bits.
func (g *rng) uniform() float64 { return float64(g.next()>>11) / (1 << 53) }

// normal returns an approximately standard normal number as the sum of 12
// uniforms minus 6 (Irwin–Hall): no transcendental functions, so it rounds
// the same on every architecture.
func (g *rng) normal() float64 {
	var s float64
	for i := 0; i < 12; i++ {
		s = float64(s + g.uniform())
	}
	return s - 6
}

// withDefaults fills the fields whose zero value means a default.
func (sp Spec) withDefaults() Spec {
	if sp.Scale == 0 {
		sp.Scale = 1
	}
	if sp.Weights == "" {
		sp.Weights = Uniform
		if sp.Codebook == kernels.Ternary {
			sp.Weights = TernaryWeights
		}
	}
	if sp.Activations == "" {
		sp.Activations = Gaussian
	}
	return sp
}

// Source is the Source of the workload Generate makes from sp, known
// without generating it.
func (sp Spec) Source() string {
	sp = sp.withDefaults()
	return fmt.Sprintf("generated: weights=%s codebook=%s activations=%s seed=%d", sp.Weights, sp.Codebook.Name(), sp.Activations, sp.Seed)
}

// EffectiveScale is the scale of the matrix Generate makes from sp.
func (sp Spec) EffectiveScale() float32 { return sp.withDefaults().Scale }
