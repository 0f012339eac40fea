package main

import (
	"fmt"
	"io"

	"github.com/qkbench/qkbench/bench"
	"github.com/qkbench/qkbench/gguf"
	"github.com/qkbench/qkbench/reports"
)

// ggufWorkloads turns a GGUF model's weight matrices into sweep workloads
// (each distinct shape once, or every tensor with all) with generated x.
// The file stays mapped for the life of the process.
func ggufWorkloads(path string, all bool, seed uint64, run *reports.Run, stderr io.Writer) ([]bench.SweepWorkload, error) {
	ws, _, err := gguf.ModelWorkloads(path, gguf.ModelOptions{All: all, Seed: seed, OnSkip: func(t string, err error) {
		fmt.Fprintf(stderr, "qkbench sweep: --gguf: skipping %s: %v\n", t, err)
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
		info := reports.WorkloadInfo{Name: w.Name, Shape: w.M.Shape(), Rows: w.M.Rows, Cols: w.M.Cols,
			Codebook: w.M.Codebook.Name(), Scale: w.M.Scale, Source: w.Source}
		run.Workloads = append(run.Workloads, info)
		out = append(out, bench.SweepWorkload{W: w, Info: info})
	}
	return out, nil
}

// machineProbe returns the machine's measured peaks, or nil.
func machineProbe(stderr io.Writer) *reports.Probe { return nil }
