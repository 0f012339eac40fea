package kernels

import (
	"fmt"
	"strconv"
	"strings"
)

// A Codebook maps a 2-bit code to a signed integer weight: w = scale * cb[code].
// Every entry lies in [-2, 2] (docs/format.md §1). Kernels take the codebook as data.
type Codebook [4]int8

// The named codebooks of docs/format.md §1.
var (
	// QK256 is the seed's GgmlQk256NoScale codebook: 0→-2, 1→-1, 2→+1, 3→+2.
	QK256 = Codebook{-2, -1, 1, 2}
	// Ternary is bitnet.cpp's meaning of the codes (code = w+1; code 3 unused).
	Ternary = Codebook{-1, 0, 1, 0}
)

// Validate reports an entry outside [-2, 2].
func (cb Codebook) Validate() error {
	for i, v := range cb {
		if v < -2 || v > 2 {
			return fmt.Errorf("kernels: codebook entry %d is %d, want a value in [-2, 2]", i, v)
		}
	}
	return nil
}

// Name returns "qk256" or "ternary" for the named codebooks and the four
// values ("-2,-1,1,2" form) otherwise.
func (cb Codebook) Name() string {
	switch cb {
	case QK256:
		return "qk256"
	case Ternary:
		return "ternary"
	}
	return cb.Values()
}

// Values returns the four entries separated by commas.
func (cb Codebook) Values() string {
	return fmt.Sprintf("%d,%d,%d,%d", cb[0], cb[1], cb[2], cb[3])
}

// String implements fmt.Stringer.
func (cb Codebook) String() string { return cb.Name() }

// ParseCodebook reads "qk256", "ternary" or four comma-separated integers in [-2, 2].
func ParseCodebook(s string) (Codebook, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return Codebook{}, fmt.Errorf("kernels: empty codebook: want qk256, ternary or four integers in [-2, 2] such as -2,-1,1,2")
	case "qk256":
		return QK256, nil
	case "ternary":
		return Ternary, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return Codebook{}, fmt.Errorf("kernels: codebook %q: want qk256, ternary or four integers in [-2, 2] such as -2,-1,1,2", s)
	}
	var cb Codebook
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < -2 || v > 2 {
			return Codebook{}, fmt.Errorf("kernels: codebook %q: entry %d %q is not an integer in [-2, 2]", s, i, strings.TrimSpace(p))
		}
		cb[i] = int8(v)
	}
	return cb, nil
}

// Digits returns, when cb has at most three distinct values, those values
// (in the order the codes first use them, padded with zeros) and each
// code's digit, the index of its value among them. Lookup kernels index
// tables of such codebooks in base 3 (ternary weights: BitNet's).
func (cb Codebook) Digits() (vals [3]int8, digit [4]uint8, ok bool) {
	n := 0
	for c, v := range cb {
		d := -1
		for i := 0; i < n; i++ {
			if vals[i] == v {
				d = i
				break
			}
		}
		if d < 0 {
			if n == 3 {
				return vals, digit, false
			}
			vals[n], d = v, n
			n++
		}
		digit[c] = uint8(d)
	}
	return vals, digit, true
}
