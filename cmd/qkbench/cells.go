package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/qkbench/qkbench/bench"
	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/reports"
	"github.com/qkbench/qkbench/workloads"
)

// cellFlags are the flags that choose cells (kernels × shapes × threads) on
// generated workloads, shared by the verbs that time cells.
type cellFlags struct {
	kernels, preset, shapes, threads, codebook, mode string
	seed                                             uint64
	// activations names the x generator; "" in the defaults leaves the
	// flag out (and means gaussian).
	activations string
	act         workloads.Activations // activations, checked by resolve
}

// The defaults of the verbs that choose cells: every kernel, the default
// preset, ternary weights (what BitNet models hold, and what the ggml peers
// compute), hot caches. The thread counts differ by verb.
var defaultCells = cellFlags{kernels: "all", preset: "default", threads: "1", codebook: "ternary", mode: "hot", activations: string(workloads.Gaussian)}

// register adds the flags to fs with d's values as defaults. --preset and
// --mode are added only when they have a default (check times nothing, so
// it has no --mode; resolve then uses "hot").
func (c *cellFlags) register(fs *flag.FlagSet, d cellFlags) {
	fs.StringVar(&c.kernels, "kernels", d.kernels, "comma `list` of kernel ids, \"all\" or \"available\"")
	if d.preset != "" {
		fs.StringVar(&c.preset, "preset", d.preset, "workload `preset`: "+strings.Join(workloads.PresetNames(), ", "))
	}
	fs.StringVar(&c.shapes, "shapes", d.shapes, "comma `list` of ROWSxCOLS shapes (instead of --preset)")
	fs.StringVar(&c.threads, "threads", d.threads, "comma `list` of thread counts; \"max\" is NumCPU, \"all\" is 1..NumCPU")
	fs.StringVar(&c.codebook, "codebook", d.codebook, "`codebook`: ternary, qk256 or four integers in [-2, 2] such as -2,-1,1,2")
	if d.mode != "" {
		fs.StringVar(&c.mode, "mode", d.mode, "`mode`: hot (the same W every GEMV) or cold (rotate copies larger than the last-level cache)")
	}
	fs.Uint64Var(&c.seed, "seed", workloads.DefaultSeed, "workload generator `seed`")
	if d.activations != "" {
		fs.StringVar(&c.activations, "activations", d.activations, "x generator (`name`): "+strings.Join(workloads.ActivationNames(), ", ")+
			"; extreme makes every |x| alike, so every q = ±127: the worst case for kernels whose speed depends on x")
	}
}

// resolve checks the flags (usage errors for bad values) and returns the
// shapes, thread counts and codebook. setFlags names the flags given on
// the command line: --preset and --shapes given together are an error, and
// a given --shapes wins over a default --preset.
func (c *cellFlags) resolve(setFlags map[string]bool) (workloads.Preset, []int, kernels.Codebook, error) {
	var zero workloads.Preset
	if setFlags["preset"] && setFlags["shapes"] {
		return zero, nil, kernels.Codebook{}, usageError{errors.New("--preset and --shapes: give one of them")}
	}
	preset, shapes := c.preset, c.shapes
	if setFlags["shapes"] {
		preset = ""
	} else if setFlags["preset"] {
		shapes = ""
	}
	p, err := workloads.Resolve(preset, shapes)
	if err != nil {
		name := "--preset"
		if setFlags["shapes"] {
			name = "--shapes"
		}
		return zero, nil, kernels.Codebook{}, usageError{fmt.Errorf("%s: %w", name, err)}
	}
	threads, err := bench.ParseThreads(c.threads)
	if err != nil {
		return zero, nil, kernels.Codebook{}, usageError{fmt.Errorf("--threads: %w", err)}
	}
	cb, err := kernels.ParseCodebook(c.codebook)
	if err != nil {
		return zero, nil, kernels.Codebook{}, usageError{fmt.Errorf("--codebook: %w", err)}
	}
	if c.mode == "" {
		c.mode = "hot"
	}
	if c.mode != "hot" && c.mode != "cold" {
		return zero, nil, kernels.Codebook{}, usageError{fmt.Errorf("--mode %q: want hot or cold", c.mode)}
	}
	c.act = workloads.Gaussian
	if c.activations != "" {
		if c.act, err = workloads.ParseActivations(c.activations); err != nil {
			return zero, nil, kernels.Codebook{}, usageError{fmt.Errorf("--activations: %w", err)}
		}
	}
	return p, threads, cb, nil
}

// selectKernels resolves --kernels into kernels, each with its
// description; a kernel the list names explicitly (not "all" or
// "available") is Requested: a cell it cannot run fails the run.
func (c *cellFlags) selectKernels() ([]kernels.Kernel, []reports.KernelInfo, error) {
	ks, err := kernels.Select(c.kernels)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("--kernels: %w", err)}
	}
	l := strings.TrimSpace(c.kernels)
	named := l != "" && l != "all" && l != "available"
	var infos []reports.KernelInfo
	for _, k := range ks {
		ki := bench.DescribeKernel(k)
		ki.Requested = named
		infos = append(infos, ki)
	}
	return ks, infos, nil
}

// setFlags returns the names of the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	m := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { m[f.Name] = true })
	return m
}

// fraction is a flag holding a fraction, written "5%" or "0.05".
type fraction struct {
	v        *float64
	min, max float64 // the open interval it must lie in
}

func (f fraction) String() string {
	if f.v == nil {
		return ""
	}
	return strconv.FormatFloat(100**f.v, 'g', -1, 64) + "%"
}

func (f fraction) Set(s string) error {
	t := strings.TrimSpace(s)
	scale := 1.0
	if strings.HasSuffix(t, "%") {
		t, scale = strings.TrimSpace(strings.TrimSuffix(t, "%")), 0.01
	}
	v, err := strconv.ParseFloat(t, 64)
	v *= scale
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v <= f.min || v >= f.max {
		return fmt.Errorf("%q: want a percentage such as 5%% (or a fraction such as 0.05) in (%g%%, %g%%)", s, 100*f.min, 100*f.max)
	}
	*f.v = v
	return nil
}

// fractionVar defines a fraction flag in (lo, hi) with a default.
func fractionVar(fs *flag.FlagSet, p *float64, name string, def, lo, hi float64, usage string) {
	*p = def
	fs.Var(fraction{v: p, min: lo, max: hi}, name, usage)
}
