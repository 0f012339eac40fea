// Package workloads names the matrix shapes qkbench measures (docs/format.md §7) and
// generates deterministic matrices and activations for them: the same seed
// gives the same bytes on every machine.
package workloads

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/qkbench/qkbench/kernels"
)

// Shape is one GEMV shape. In a model preset Roles names the layer matrices
// of this shape ("q", "o", ...) and PerLayer how many there are per layer.
type Shape struct {
	Rows, Cols int
	Roles      []string
	PerLayer   int
}

// String returns "RxC".
func (s Shape) String() string { return fmt.Sprintf("%dx%d", s.Rows, s.Cols) }

// Preset is a named list of shapes; for a model it also says how many layers
// the model has, so that per-layer GEMV times roll up into a per-token time.
type Preset struct {
	Name   string
	Model  string // published model name; "" for a synthetic list
	Layers int    // 0 for a synthetic list
	Shapes []Shape
}

type layer struct{ q, kv, gateUp, down [2]int } // rows, cols of each matrix

func model(name, title string, layers int, l layer) Preset {
	p := Preset{Name: name, Model: title, Layers: layers}
	add := func(rc [2]int, roles ...string) {
		for i := range p.Shapes {
			if p.Shapes[i].Rows == rc[0] && p.Shapes[i].Cols == rc[1] {
				p.Shapes[i].Roles = append(p.Shapes[i].Roles, roles...)
				p.Shapes[i].PerLayer += len(roles)
				return
			}
		}
		p.Shapes = append(p.Shapes, Shape{Rows: rc[0], Cols: rc[1], Roles: roles, PerLayer: len(roles)})
	}
	add(l.q, "q", "o")
	add(l.kv, "k", "v")
	add(l.gateUp, "gate", "up")
	add(l.down, "down")
	return p
}

var presets = map[string]Preset{
	"seed": {Name: "seed", Shapes: []Shape{{Rows: 2048, Cols: 4096}}},
	"bitnet-2b": model("bitnet-2b", "BitNet b1.58 2B4T", 30,
		layer{q: [2]int{2560, 2560}, kv: [2]int{640, 2560}, gateUp: [2]int{6912, 2560}, down: [2]int{2560, 6912}}),
	"bitnet-0.7b": model("bitnet-0.7b", "bitnet_b1_58-large (0.7B)", 24,
		layer{q: [2]int{1536, 1536}, kv: [2]int{1536, 1536}, gateUp: [2]int{4096, 1536}, down: [2]int{1536, 4096}}),
	"bitnet-3b": model("bitnet-3b", "bitnet_b1_58-3B", 26,
		layer{q: [2]int{3200, 3200}, kv: [2]int{3200, 3200}, gateUp: [2]int{8640, 3200}, down: [2]int{3200, 8640}}),
	"llama3-8b": model("llama3-8b", "Llama3-8B-1.58", 32,
		layer{q: [2]int{4096, 4096}, kv: [2]int{1024, 4096}, gateUp: [2]int{14336, 4096}, down: [2]int{4096, 14336}}),
	"falcon3-10b": model("falcon3-10b", "Falcon3-10B-1.58bit", 40,
		layer{q: [2]int{3072, 3072}, kv: [2]int{1024, 3072}, gateUp: [2]int{23040, 3072}, down: [2]int{3072, 23040}}),
}

// The default preset is the seed's 2048x4096 plus BitNet b1.58 2B4T's layer
// shapes, with that model's roles and layer count so a default sweep also
// rolls its GEMV times up into a time per token (the seed shape is not part
// of the model: PerLayer 0).
func init() {
	b := presets["bitnet-2b"]
	d := Preset{Name: "default", Model: b.Model, Layers: b.Layers, Shapes: []Shape{{Rows: 2048, Cols: 4096}}}
	d.Shapes = append(d.Shapes, b.Shapes...)
	presets["default"] = d
}

// PresetNames lists the presets in a stable order.
func PresetNames() []string {
	var n []string
	for k := range presets {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Lookup returns a preset by name.
func Lookup(name string) (Preset, error) {
	p, ok := presets[strings.TrimSpace(name)]
	if !ok {
		return Preset{}, fmt.Errorf("workloads: unknown preset %q; known presets: %s", name, strings.Join(PresetNames(), ", "))
	}
	p.Shapes = append([]Shape(nil), p.Shapes...)
	return p, nil
}

// ParseShapes reads a list such as "2048x4096,67x3200,3x1".
func ParseShapes(list string) ([]Shape, error) {
	var out []Shape
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		s, err := ParseShape(f)
		if err != nil {
			return nil, err
		}
		for _, o := range out {
			if o.Rows == s.Rows && o.Cols == s.Cols {
				// One workload per shape: a report could not tell two apart.
				return nil, fmt.Errorf("workloads: shape %dx%d appears twice in %q", s.Rows, s.Cols, list)
			}
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("workloads: shape list %q is empty, want ROWSxCOLS[,ROWSxCOLS...] such as 2048x4096", list)
	}
	return out, nil
}

// ParseShape reads "RxC" (rows x cols, both positive, at most kernels.MaxDim).
func ParseShape(s string) (Shape, error) {
	r, c, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
	if !ok {
		return Shape{}, fmt.Errorf("workloads: shape %q: want ROWSxCOLS such as 2048x4096", s)
	}
	rows, err1 := strconv.Atoi(r)
	cols, err2 := strconv.Atoi(c)
	if err1 != nil || err2 != nil {
		return Shape{}, fmt.Errorf("workloads: shape %q: rows and cols must be integers, as in 2048x4096", s)
	}
	if err := kernels.CheckDims(rows, cols); err != nil {
		return Shape{}, fmt.Errorf("workloads: shape %q: %w", s, err)
	}
	return Shape{Rows: rows, Cols: cols}, nil
}

// Resolve returns the shapes for a preset name or an explicit list; the list
// wins when both are given. Neither means the "default" preset.
func Resolve(preset, shapes string) (Preset, error) {
	if strings.TrimSpace(shapes) != "" {
		s, err := ParseShapes(shapes)
		if err != nil {
			return Preset{}, err
		}
		return Preset{Name: "shapes", Shapes: s}, nil
	}
	if strings.TrimSpace(preset) == "" {
		preset = "default"
	}
	return Lookup(preset)
}
