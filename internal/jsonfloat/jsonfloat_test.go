package jsonfloat

import (
	"encoding/json"
	"math"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	type rec struct {
		A Float `json:"a"`
	}
	for _, v := range []float64{0, -1.5, 1e-300, math.MaxFloat64, math.NaN(), math.Inf(1), math.Inf(-1)} {
		b, err := json.Marshal(rec{Float(v)})
		if err != nil {
			t.Fatalf("%v: %v", v, err)
		}
		var back rec
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%v: %s: %v", v, b, err)
		}
		got := float64(back.A)
		if !(got == v || math.IsNaN(got) && math.IsNaN(v)) {
			t.Errorf("%v: wrote %s, read back %v", v, b, got)
		}
	}
}

func TestReads(t *testing.T) {
	for in, want := range map[string]float64{`null`: math.NaN(), `"+Infinity"`: math.Inf(1), `2.5`: 2.5} {
		var f Float
		if err := json.Unmarshal([]byte(in), &f); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := float64(f); !(got == want || math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("%s: read %v, want %v", in, got, want)
		}
	}
	for _, in := range []string{`"1.5"`, `"nan"`, `true`, `{}`} {
		var f Float
		if err := json.Unmarshal([]byte(in), &f); err == nil {
			t.Errorf("%s: read as %v, want an error", in, f)
		}
	}
}
