package main

import (
	"errors"
	"io"

	"github.com/qkbench/qkbench/bench"
	"github.com/qkbench/qkbench/reports"
)

// ggufWorkloads turns a GGUF model's weight matrices into sweep workloads.
func ggufWorkloads(path string, all bool, seed uint64, run *reports.Run) ([]bench.SweepWorkload, error) {
	return nil, usageError{errors.New("--gguf: GGUF support has not landed yet")}
}

// machineProbe returns the machine's measured peaks, or nil.
func machineProbe(stderr io.Writer) *reports.Probe { return nil }
