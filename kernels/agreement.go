package kernels

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/qkbench/qkbench/internal/jsonfloat"
)

// F32Tolerance is docs/format.md §2's f32 bound: |y - oracle| <= F32Tolerance * row L1.
const F32Tolerance = 1e-4

// MinCosine is the parity bar for i8 kernels and peers against the oracle.
const MinCosine = 0.99

// Agreement holds the metrics of docs/format.md §3 for one kernel on one workload.
type Agreement struct {
	Rows int `json:"rows"`
	// Against the float64 oracle.
	Cosine float64 `json:"cosine"`
	MaxAbs float64 `json:"max_abs_err"`
	MaxRel float64 `json:"max_rel_err"` // max over rows of |Δ| / row L1 norm
	NMSE   float64 `json:"nmse"`
	// Fraction of rows equal to the reference: ref-i8's output for i8
	// kernels, the oracle rounded to float32 otherwise.
	ExactMatch float64 `json:"exact_match_rate"`
	Reference  string  `json:"reference"` // "ref-i8" or "oracle"
	Pass       bool    `json:"pass"`
	// Why is empty on a pass and names the first broken rule otherwise.
	Why string `json:"why,omitempty"`
}

// agreementJSON is Agreement with its float fields in jsonfloat form: a
// kernel that writes NaN or skips rows makes max |Δ| infinite and NMSE NaN,
// which encoding/json refuses.
type agreementJSON struct {
	plainAgreement
	Cosine     jsonfloat.Float `json:"cosine"`
	MaxAbs     jsonfloat.Float `json:"max_abs_err"`
	MaxRel     jsonfloat.Float `json:"max_rel_err"`
	NMSE       jsonfloat.Float `json:"nmse"`
	ExactMatch jsonfloat.Float `json:"exact_match_rate"`
}

type plainAgreement Agreement // without the methods

// MarshalJSON writes the metrics with NaN and ±Inf as the strings "NaN",
// "Infinity" and "-Infinity" (package jsonfloat).
func (a Agreement) MarshalJSON() ([]byte, error) {
	return json.Marshal(agreementJSON{plainAgreement(a), jsonfloat.Float(a.Cosine), jsonfloat.Float(a.MaxAbs),
		jsonfloat.Float(a.MaxRel), jsonfloat.Float(a.NMSE), jsonfloat.Float(a.ExactMatch)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (a *Agreement) UnmarshalJSON(b []byte) error {
	var j agreementJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*a = Agreement(j.plainAgreement)
	a.Cosine, a.MaxAbs, a.MaxRel, a.NMSE, a.ExactMatch = float64(j.Cosine), float64(j.MaxAbs), float64(j.MaxRel), float64(j.NMSE), float64(j.ExactMatch)
	return nil
}

// Expected is what a correct kernel must be compared against for one
// workload; compute it once and check every kernel against it.
type Expected struct {
	Oracle []float64 // float64 oracle
	L1     []float64 // row L1 norms (scale included)
	I8     []float32 // ref-i8 output
}

// Expect computes the oracle and the i8 reference for m and x.
func Expect(m *Matrix, x []float32) *Expected {
	y, l1 := Oracle(m, x)
	return &Expected{Oracle: y, L1: l1, I8: RefI8(m, x)}
}

// Agree measures y from a kernel of the given mode against e and applies the
// pass rules of docs/format.md §3: f32 within F32Tolerance of each row's L1 norm; i8
// bit-exact with ref-i8 and cosine >= MinCosine; peers cosine >= MinCosine.
func (e *Expected) Agree(mode Mode, y []float32) Agreement {
	a := Agreement{Rows: len(e.Oracle), Reference: "oracle"}
	if len(y) != len(e.Oracle) {
		a.Why = fmt.Sprintf("len(y)=%d, want %d", len(y), len(e.Oracle))
		return a
	}
	ref := make([]float32, len(y))
	for i, v := range e.Oracle {
		ref[i] = float32(v)
	}
	if mode == I8 {
		ref = e.I8
		a.Reference = "ref-i8"
	}
	var dot, ny, no, se float64
	exact := 0
	firstBad := -1
	for r, v := range y {
		yv, o := float64(v), e.Oracle[r]
		d := math.Abs(yv - o)
		if math.IsNaN(yv) || math.IsInf(yv, 0) {
			d = math.Inf(1)
		}
		dot += yv * o
		ny += yv * yv
		no += o * o
		se += (yv - o) * (yv - o)
		a.MaxAbs = max(a.MaxAbs, d)
		rel := 0.0
		if d > 0 {
			rel = d / e.L1[r]
		}
		a.MaxRel = max(a.MaxRel, rel)
		if firstBad < 0 && (mode == I8 && v != ref[r] || mode != I8 && !(rel <= F32Tolerance)) {
			firstBad = r
		}
		if v == ref[r] {
			exact++
		}
	}
	switch {
	case ny == 0 && no == 0:
		a.Cosine = 1
	case ny == 0 || no == 0:
		a.Cosine = 0
	default:
		a.Cosine = dot / math.Sqrt(ny*no)
	}
	if no > 0 {
		a.NMSE = se / no
	} else if se > 0 {
		a.NMSE = math.Inf(1)
	}
	if math.IsNaN(a.Cosine) {
		a.Cosine = 0
	}
	a.ExactMatch = float64(exact) / float64(max(len(y), 1))

	switch mode {
	case F32:
		if firstBad >= 0 {
			a.Why = fmt.Sprintf("row %d: y=%g, oracle %g, |Δ|/L1 = %.3g > %g", firstBad, y[firstBad], e.Oracle[firstBad], a.MaxRel, F32Tolerance)
			return a
		}
	case I8:
		if exact != len(y) {
			a.Why = fmt.Sprintf("%d of %d rows differ from ref-i8; first row %d: y=%g, want %g", len(y)-exact, len(y), firstBad, y[firstBad], ref[firstBad])
			return a
		}
		if a.Cosine < MinCosine {
			a.Why = fmt.Sprintf("cosine %.5f vs oracle < %g", a.Cosine, MinCosine)
			return a
		}
	default:
		if !(a.Cosine >= MinCosine) {
			a.Why = fmt.Sprintf("cosine %.5f vs oracle < %g", a.Cosine, MinCosine)
			return a
		}
	}
	a.Pass = true
	return a
}
