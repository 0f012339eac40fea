package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/qkbench/qkbench/bench"
	"github.com/qkbench/qkbench/bench/probe"
	"github.com/qkbench/qkbench/gguf"
	"github.com/qkbench/qkbench/machine"
	"github.com/qkbench/qkbench/reports"
)

// ggufWorkloads turns a GGUF model's weight matrices into sweep workloads
// (each distinct shape once, or every tensor with all) with generated x,
// each decoded when the sweep gets to it.
// The file stays mapped for the life of the process.
func ggufWorkloads(verb, path string, all bool, seed uint64, run *reports.Run, stderr io.Writer) ([]bench.SweepWorkload, error) {
	ws, _, err := gguf.ModelPlan(path, gguf.ModelOptions{All: all, Seed: seed, OnSkip: func(t string, err error) {
		fmt.Fprintf(stderr, "qkbench %s: --gguf: skipping %s: %v\n", verb, t, err)
	}})
	if err != nil {
		return nil, err
	}
	if len(ws) == 0 {
		return nil, fmt.Errorf("--gguf %s: no weight matrix in the file can become a QK256 matrix", path)
	}
	run.Config.Preset = "gguf"
	var out []bench.SweepWorkload
	for _, w := range ws {
		info := reports.WorkloadInfo{Name: w.Name, Shape: fmt.Sprintf("%dx%d", w.Rows, w.Cols), Rows: w.Rows, Cols: w.Cols,
			Codebook: w.Codebook.Name(), Scale: w.Scale, Source: w.Source}
		run.Workloads = append(run.Workloads, info)
		out = append(out, bench.SweepWorkload{Load: w.Load, Info: info})
	}
	return out, nil
}

// ggufExclusive refuses the flags that --gguf replaces (the model's own
// matrices have their own shapes and codebook), and --all-tensors without
// --gguf: each would be silently ignored.
func ggufExclusive(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["gguf"] {
		if set["all-tensors"] {
			return usageError{errors.New("--all-tensors needs --gguf")}
		}
		return nil
	}
	for _, n := range []string{"preset", "shapes", "codebook"} {
		if set[n] {
			return usageError{fmt.Errorf("--%s and --gguf: the model's own matrices set the shapes and codebook; give one of them", n)}
		}
	}
	return nil
}

// codebookOf names the codebook of the workloads: the one they share, or
// every one they use joined by "+".
func codebookOf(ws []reports.WorkloadInfo) string {
	var names []string
	for _, w := range ws {
		if !slices.Contains(names, w.Codebook) {
			names = append(names, w.Codebook)
		}
	}
	return strings.Join(names, "+")
}

// machineProbe returns the machine's measured peaks (cached per machine by
// qkbench machine; measured now, about 15 s, when there is no cache), or nil
// when the probe cannot run.
func machineProbe(stderr io.Writer) (*probe.Result, *machine.Probe) {
	m, path, measured, err := probe.Cached(probe.CacheOptions{})
	if m == nil {
		fmt.Fprintf(stderr, "qkbench: machine probe failed, no roofline figures: %v\n", err)
		return nil, nil
	}
	if err != nil {
		fmt.Fprintf(stderr, "qkbench: machine probe not cached: %v\n", err)
	}
	src := "cached in " + path
	if measured {
		src = "measured now"
	}
	return m, probeSummary(m, src)
}

// probeSummary keeps what a receipt and the roofline need of the probe.
func probeSummary(m *probe.Result, source string) *machine.Probe {
	p := &machine.Probe{ClockGHz: m.ClockGHz, Int8GMACps: map[string]float64{}, F32GFMAps: m.BestF32() / 1e9, Source: source}
	for _, pt := range m.Read {
		p.ReadGBps = append(p.ReadGBps, machine.BandwidthPoint{Bytes: pt.WorkingSet, GBps: pt.BytesPerSec / 1e9})
	}
	for _, f := range m.Figures {
		if f.Ok() && f.Kind == probe.KindInt8 && f.Threads == 1 {
			p.Int8GMACps[f.Name] = f.Best
		}
	}
	return p
}
