// Package jsonfloat encodes float64 values that may be NaN or infinite.
//
// encoding/json refuses NaN and ±Inf ("json: unsupported value"), so a
// figure computed from a broken kernel's output (a NaN row makes max |Δ|
// infinite) would abort writing a whole receipt. A Float is written as a
// JSON number when it is finite and as one of the strings "NaN",
// "Infinity" and "-Infinity" otherwise; JavaScript's Number(), Python's
// float() and Go's strconv.ParseFloat all read those strings back.
package jsonfloat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Float is a float64 that survives a JSON round trip when it is NaN or ±Inf.
type Float float64

// MarshalJSON writes a finite value as a number and NaN, +Inf and -Inf as
// the strings "NaN", "Infinity" and "-Infinity".
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Infinity"`), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads a number, one of the three strings MarshalJSON writes,
// or null (read as NaN: a value that was not a number).
func (f *Float) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch string(b) {
	case "null":
		*f = Float(math.NaN())
		return nil
	case `"NaN"`:
		*f = Float(math.NaN())
		return nil
	case `"Infinity"`, `"+Infinity"`:
		*f = Float(math.Inf(1))
		return nil
	case `"-Infinity"`:
		*f = Float(math.Inf(-1))
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || len(b) == 0 || b[0] == '"' {
		return fmt.Errorf("jsonfloat: %.40q is not a number, \"NaN\", \"Infinity\" or \"-Infinity\"", b)
	}
	*f = Float(v)
	return nil
}
