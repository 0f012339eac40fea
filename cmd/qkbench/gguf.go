package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/qkbench/qkbench/gguf"
	"github.com/qkbench/qkbench/workloads"
)

func init() {
	verbs["gguf"] = verb{summary: "GGUF tools: synth writes a model-shaped I2_S (bitnet.cpp layout) GGUF", run: runGGUF}
}

func runGGUF(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, synthUsage)
		if len(args) == 0 {
			return usageError{fmt.Errorf("missing subcommand; want synth")}
		}
		return nil
	}
	switch args[0] {
	case "synth":
		return runSynth(args[1:], stdout, stderr)
	}
	return usageError{fmt.Errorf("unknown subcommand %q; want synth", args[0])}
}

const synthUsage = `Usage: qkbench gguf synth --preset P -o FILE [--layers N] [--seed S]

Writes a GGUF file shaped like a model preset's layers, with generated
ternary I2_S tensors in bitnet.cpp's layout (the bitnet-cpp reading) and a
tensor scale each: a stand-in for a real model in tests and in
sweep --gguf.

Examples:
  qkbench gguf synth --preset bitnet-2b -o /tmp/bitnet-2b.gguf
  qkbench gguf synth --preset llama3-8b --layers 2 -o /tmp/llama.gguf

Exit status: 0 written; 1 the file cannot be written; 2 a bad flag or
argument.
`

func runSynth(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gguf synth", stderr)
	preset := fs.String("preset", "bitnet-2b", "model `preset` whose layer shapes to write: "+strings.Join(workloads.PresetNames(), ", "))
	out := fs.String("o", "", "output GGUF `file` (required)")
	layers := fs.Int("layers", 1, "number of layers to write")
	seed := fs.Uint64("seed", workloads.DefaultSeed, "generator `seed` (tensor i gets seed+i)")
	setUsage(fs, synthUsage)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", pos)}
	}
	if *out == "" {
		return usageError{fmt.Errorf("-o FILE is required")}
	}
	if *layers < 1 || *layers > 1024 {
		return usageError{fmt.Errorf("--layers %d: want 1..1024", *layers)}
	}
	if _, err := workloads.Lookup(*preset); err != nil {
		return usageError{fmt.Errorf("--preset: %w", err)}
	}
	if err := checkOutputFile("-o", *out); err != nil {
		return err
	}
	w, err := gguf.Synth(*preset, *layers, *seed)
	if err != nil {
		return err
	}
	if err := w.WriteFile(*out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: preset %s, %d layer(s), seed %d, I2_S tensors in the bitnet-cpp reading\n", *out, *preset, *layers, *seed)
	return nil
}
