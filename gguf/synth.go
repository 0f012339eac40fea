package gguf

import (
	"fmt"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

// roleTensor maps a preset's matrix role to llama.cpp's tensor name.
var roleTensor = map[string]string{
	"q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_output",
	"gate": "ffn_gate", "up": "ffn_up", "down": "ffn_down",
}

var roleOrder = []string{"q", "k", "v", "o", "gate", "up", "down"}

// SynthTensor names one tensor Synth writes and the generator spec of its weights.
type SynthTensor struct {
	Name string
	Spec workloads.Spec
}

// SynthPlan lists the tensors Synth writes for a preset, in file order. A
// model preset gives blk.<layer>.<attn_q|attn_k|attn_v|attn_output|ffn_gate|
// ffn_up|ffn_down>.weight; a plain shape list gives blk.<layer>.mat<i>.weight.
// Tensor number i (counting from 0 over the whole file) gets seed seed+i.
func SynthPlan(p workloads.Preset, layers int, seed uint64) ([]SynthTensor, error) {
	if layers < 1 || layers > 1024 {
		return nil, fmt.Errorf("gguf: synth: %d layers, want 1..1024", layers)
	}
	type mat struct {
		name string
		s    workloads.Shape
	}
	var per []mat
	byRole := map[string]workloads.Shape{}
	for _, s := range p.Shapes {
		for _, r := range s.Roles {
			byRole[r] = s
		}
	}
	if len(byRole) > 0 {
		for _, r := range roleOrder {
			if s, ok := byRole[r]; ok {
				per = append(per, mat{roleTensor[r], s})
			}
		}
	} else {
		for i, s := range p.Shapes {
			per = append(per, mat{fmt.Sprintf("mat%d", i), s})
		}
	}
	var out []SynthTensor
	for l := 0; l < layers; l++ {
		for _, m := range per {
			sp := workloads.SpecFor(m.s, kernels.Ternary, seed+uint64(len(out)))
			out = append(out, SynthTensor{Name: fmt.Sprintf("blk.%d.%s.weight", l, m.name), Spec: sp})
		}
	}
	return out, nil
}

// Synth builds a model-shaped GGUF in bitnet.cpp's I2_S reading (type 36,
// scale 1) with ternary weights from workloads.Generate and bitnet metadata.
// Weights are generated while the file is written, one tensor at a time.
func Synth(presetName string, layers int, seed uint64) (*Writer, error) {
	p, err := workloads.Lookup(presetName)
	if err != nil {
		return nil, fmt.Errorf("gguf: synth: %w", err)
	}
	plan, err := SynthPlan(p, layers, seed)
	if err != nil {
		return nil, err
	}
	w := NewWriter()
	name := p.Model
	if name == "" {
		name = "qkbench " + p.Name
	}
	emb, ff := p.Shapes[0].Cols, 0
	for _, s := range p.Shapes {
		for _, r := range s.Roles {
			switch r {
			case "q":
				emb = s.Cols
			case "gate":
				ff = s.Rows
			}
		}
	}
	kvs := []KV{
		{"general.architecture", String("bitnet")},
		{"general.name", String(name + " (synthetic, qkbench)")},
		{"general.alignment", Uint32(DefaultAlignment)},
		{"bitnet.block_count", Uint32(uint32(layers))},
		{"bitnet.embedding_length", Uint32(uint32(emb))},
		{"qkbench.preset", String(p.Name)},
		{"qkbench.seed", Uint64(seed)},
		{"qkbench.i2s_reading", String("bitnet-cpp")},
	}
	if ff > 0 {
		kvs = append(kvs, KV{"bitnet.feed_forward_length", Uint32(uint32(ff))})
	}
	for _, kv := range kvs {
		if err := w.Add(kv.Key, kv.Value); err != nil {
			return nil, err
		}
	}
	for _, t := range plan {
		n := int64(t.Spec.Rows) * int64(t.Spec.Cols)
		err := w.AddTensorFunc(t.Name, I2S, []uint64{uint64(t.Spec.Cols), uint64(t.Spec.Rows)}, n/4+32, func() ([]byte, error) {
			wl, err := workloads.Generate(t.Spec)
			if err != nil {
				return nil, fmt.Errorf("gguf: synth: %s: %w", t.Name, err)
			}
			return PackBitnet(wl.M, wl.M.Scale)
		})
		if err != nil {
			return nil, err
		}
	}
	return w, nil
}
