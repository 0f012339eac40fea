// Package reports holds what a sweep measured (Run and Cell, the receipt's
// schema) and renders it: terminal and Markdown tables, plots made with
// gonum.org/v1/plot, benchstat-style comparisons and multi-machine reports.
package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"
	"unicode"

	"github.com/qkbench/qkbench/internal/atomicfile"
	"github.com/qkbench/qkbench/internal/smallfile"
	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/machine"
)

// Schema is the receipt format version: 2 since check writes it too
// (verb, failures, required) and the machine comes from the OS (sockets,
// usable CPUs, cache source, dirty null when unknown). ReadRun reads 1 too.
const Schema = 2

// Run is one sweep: its configuration, the machine and every cell. It is the
// receipt (receipt.json) of docs/format.md §6.
type Run struct {
	Schema  int    `json:"schema"`
	Command string `json:"command"` // the command line that reproduces it
	// Name is the run's --label: what names it among runs from several
	// machines (a CI runner's kind, say); empty for none.
	Name     string    `json:"label,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Verb is the command that made the receipt: "sweep" (cells timed) or
	// "check" (agreement only: no cell has samples). Empty in receipts
	// written before check wrote this schema: a sweep.
	Verb string `json:"verb,omitempty"`
	// Partial is true when the run stopped early (interrupted): only the
	// cells listed were finished.
	Partial   bool            `json:"partial"`
	Config    Config          `json:"config"`
	Machine   machine.Machine `json:"machine"`
	Kernels   []KernelInfo    `json:"kernels"`
	Workloads []WorkloadInfo  `json:"workloads"`
	Cells     []Cell          `json:"cells"`
	// Required is QKBENCH_REQUIRE's list of kernels.
	Required []string `json:"required,omitempty"`
	// Failures lists what failed the run (exit status 1): a kernel that
	// disagreed or erred, a requested or required kernel that could not
	// run. None in a run that passed.
	Failures []string `json:"failures,omitempty"`
	// Warnings says what made the run's figures less trustworthy: a busy
	// machine before or during the run.
	Warnings []string `json:"warnings,omitempty"`
}

// Config is what the sweep was asked to do.
type Config struct {
	Preset   string `json:"preset,omitempty"`
	Model    string `json:"model,omitempty"`  // published model name of a model preset
	Layers   int    `json:"layers,omitempty"` // layers of a model preset (for the per-token roll-up)
	Codebook string `json:"codebook"`
	Mode     string `json:"mode"` // "hot" or "cold"
	Threads  []int  `json:"threads"`
	Count    int    `json:"count"`    // samples per cell
	MinTime  string `json:"min_time"` // minimum time of one sample
	// Slice is the length of the slices a sample was taken in, interleaved
	// with the other cells' slices of its round; "" when taken whole.
	Slice    string `json:"slice,omitempty"`
	Rounds   int    `json:"rounds,omitempty"`   // passes over all workloads the samples were split into
	Resample int    `json:"resample,omitempty"` // extra rounds allowed per workload for unstable cells
	Seed     uint64 `json:"seed"`               // generator seed
	GGUF     string `json:"gguf,omitempty"`
	// Activations names the x generator when it is not gaussian (the
	// default, and what every receipt before the field used).
	Activations string `json:"activations,omitempty"`
}

// KernelInfo is a kernel as the run saw it.
type KernelInfo struct {
	ID        string `json:"id"`
	Backend   string `json:"backend"`
	ISA       string `json:"isa"`
	Mode      string `json:"mode"`
	Code      string `json:"code"` // what actually computed
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"` // why it could not run
	// Library and LibrarySHA256 identify a plugin kernel's shared library.
	Library       string `json:"library,omitempty"`
	LibrarySHA256 string `json:"library_sha256,omitempty"`
	// Requested is true when the command line named the kernel (--kernels),
	// Required when QKBENCH_REQUIRE does: then a cell it cannot run counts
	// as a failure of the run.
	Requested bool `json:"requested,omitempty"`
	Required  bool `json:"required,omitempty"`
	// Conformance is the conformance suite's result for a plugin kernel,
	// run by check in a child process.
	Conformance *SuiteResult `json:"conformance,omitempty"`
}

// SuiteResult is one kernel's run of the conformance suite: a line of
// qkbench conformance --json, and what check --plugin records for each
// plugin kernel.
type SuiteResult struct {
	Kernel      string   `json:"kernel"`
	Available   bool     `json:"available"`
	Unavailable string   `json:"unavailable,omitempty"`
	Pass        bool     `json:"pass"`
	Failures    []string `json:"failures,omitempty"`
	// Crash is the fatal signal of the child process that ran the suite
	// (check --plugin), with Case the case it was in.
	Crash   string  `json:"crash,omitempty"`
	Case    string  `json:"case,omitempty"`
	Seconds float64 `json:"seconds"`
}

// WorkloadInfo is one matrix and x of the run.
type WorkloadInfo struct {
	Name     string   `json:"name"`
	Shape    string   `json:"shape"`
	Rows     int      `json:"rows"`
	Cols     int      `json:"cols"`
	Codebook string   `json:"codebook"`
	Scale    float32  `json:"scale"`
	Source   string   `json:"source"`
	Roles    []string `json:"roles,omitempty"`     // layer matrices of this shape in a model preset
	PerLayer int      `json:"per_layer,omitempty"` // how many per layer
}

// Cell statuses.
const (
	StatusOK          = "ok"          // agreed and timed
	StatusFailed      = "failed"      // disagreed with the reference: not timed
	StatusUnavailable = "unavailable" // could not run here
	StatusUnsupported = "unsupported" // does not support the codebook or shape
	StatusError       = "error"       // prepare or run returned an error
)

// Cell is one kernel × workload × thread count.
type Cell struct {
	Kernel   string `json:"kernel"`
	Workload string `json:"workload"`
	Shape    string `json:"shape"`
	Rows     int    `json:"rows"`
	Cols     int    `json:"cols"`
	Threads  int    `json:"threads"` // asked for (and in the benchmark name)
	// ActiveThreads is how many threads got rows (fewer than Threads when
	// the matrix has too few row blocks to split further).
	ActiveThreads int    `json:"active_threads,omitempty"`
	Mode          string `json:"mode"` // hot or cold
	Status        string `json:"status"`
	Reason        string `json:"reason,omitempty"`

	Agreement *kernels.Agreement `json:"agreement,omitempty"`

	PrepareSeconds float64   `json:"prepare_seconds,omitempty"`
	Iterations     int       `json:"iterations_per_sample,omitempty"`
	Samples        []float64 `json:"samples_seconds,omitempty"` // seconds per GEMV, one per sample
	// SampleRounds[i] is the round Samples[i] was taken in. A round takes
	// one sample of each of a workload's cells, close together in a random
	// order: ratios between two cells pair their samples by round.
	SampleRounds []int `json:"sample_rounds,omitempty"`
	// Disturbed lists the indexes into Samples of the samples during which
	// the process was descheduled (another process had the core) even after
	// Retakes tries; they are left out of the median and the ratios.
	Disturbed []int `json:"disturbed_samples,omitempty"`
	// SliceSeconds[i] lists the times per GEMV of the slices Samples[i]
	// was taken in, in the order they ran (one per sample when samples are
	// taken whole); ratios compare the cells' QuietTime from them. Empty
	// in receipts written before slices were recorded.
	SliceSeconds [][]float64 `json:"slice_seconds,omitempty"`
	// Quiet is QuietTime when the cell has slice times: what its ratios
	// compare.
	Quiet   float64 `json:"quiet_seconds,omitempty"`
	Retakes int     `json:"retaken_samples,omitempty"`
	// Resampled counts the samples taken after the regular rounds because
	// the cell (or one it pairs with) was unstable.
	Resampled int `json:"resampled,omitempty"`
	// Unstable says why the cell's samples cannot be trusted ("" when they
	// can): a wide interval, two levels, a drift (bench.Unstable).
	Unstable   string  `json:"unstable,omitempty"`
	Median     float64 `json:"median_seconds,omitempty"`
	Low        float64 `json:"ci_low_seconds,omitempty"` // 95% interval of the median
	High       float64 `json:"ci_high_seconds,omitempty"`
	Confidence float64 `json:"ci_confidence,omitempty"`

	WeightBytes  int64   `json:"weight_bytes"`
	MACs         int64   `json:"macs"`
	GBps         float64 `json:"gbps,omitempty"`
	GMACps       float64 `json:"gmacps,omitempty"`
	FloorSeconds float64 `json:"floor_seconds,omitempty"` // roofline floor (docs/format.md §5)
	Roofline     float64 `json:"roofline_fraction,omitempty"`
}

// CleanSamples returns the samples that were not disturbed; all of them
// when every one was.
func (c *Cell) CleanSamples() []float64 {
	out := make([]float64, 0, len(c.Samples))
	for _, i := range c.cleanIndexes() {
		out = append(out, c.Samples[i])
	}
	return out
}

// Timed reports whether the cell has timing results.
func (c *Cell) Timed() bool { return c.Status == StatusOK && c.Median > 0 }

// Kernel returns the KernelInfo for id, or a zero value.
func (r *Run) Kernel(id string) KernelInfo {
	for _, k := range r.Kernels {
		if k.ID == id {
			return k
		}
	}
	return KernelInfo{ID: id}
}

// Workload returns the WorkloadInfo named name, or a zero value.
func (r *Run) Workload(name string) WorkloadInfo {
	for _, w := range r.Workloads {
		if w.Name == name {
			return w
		}
	}
	return WorkloadInfo{Name: name}
}

// KernelIDs returns the kernels with at least one cell, in the order of r.Kernels.
func (r *Run) KernelIDs() []string {
	seen := map[string]bool{}
	for _, c := range r.Cells {
		seen[c.Kernel] = true
	}
	var out []string
	for _, k := range r.Kernels {
		if seen[k.ID] {
			out = append(out, k.ID)
		}
	}
	return out
}

// ThreadCounts returns the distinct thread counts of the cells, ascending.
func (r *Run) ThreadCounts() []int {
	seen := map[int]bool{}
	var out []int
	for _, c := range r.Cells {
		if !seen[c.Threads] {
			seen[c.Threads] = true
			out = append(out, c.Threads)
		}
	}
	sort.Ints(out)
	return out
}

// Find returns the cell for kernel × workload × threads, or nil.
func (r *Run) Find(kernel, workload string, threads int) *Cell {
	for i := range r.Cells {
		c := &r.Cells[i]
		if c.Kernel == kernel && c.Workload == workload && c.Threads == threads {
			return c
		}
	}
	return nil
}

// WriteJSON writes v as MarshalJSON does to path atomically: a temporary
// file in the same folder, then a rename, so a reader never sees half a file.
func WriteJSON(path string, v any) error {
	b, err := MarshalJSON(v)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, b)
}

// MarshalJSON returns v as indented JSON, each array of numbers on one line
// (a receipt holds tens of thousands of slice times), and a final newline.
func MarshalJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(numberArraysOnOneLine(b), '\n'), nil
}

// numberArraysOnOneLine rewrites every array of b (indented JSON) that
// holds only numbers as [n1, n2, ...].
func numberArraysOnOneLine(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"': // a string, copied whole: brackets in it are text
			j := i + 1
			for ; j < len(b) && b[j] != '"'; j++ {
				if b[j] == '\\' {
					j++
				}
			}
			j = min(j, len(b)-1)
			out = append(out, b[i:j+1]...)
			i = j
			continue
		case '[':
			j := i + 1
			for j < len(b) && bytes.IndexByte([]byte("0123456789.eE+-, \n\t"), b[j]) >= 0 {
				j++
			}
			if j < len(b) && b[j] == ']' {
				nums := bytes.FieldsFunc(b[i+1:j], func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
				out = append(out, '[')
				out = append(out, bytes.Join(nums, []byte(", "))...)
				out = append(out, ']')
				i = j
				continue
			}
		}
		out = append(out, b[i])
	}
	return out
}

// WriteFileAtomic writes data to path through a synced temporary file and a rename.
func WriteFileAtomic(path string, data []byte) error { return atomicfile.WriteFile(path, data) }

// MaxReceiptBytes bounds a receipt.json that ReadRun reads (a large sweep
// writes a few MB).
const MaxReceiptBytes = 256 << 20

// ReadRun loads a receipt.json (a regular file of at most MaxReceiptBytes)
// and checks it with Validate.
func ReadRun(path string) (*Run, error) {
	b, err := smallfile.Read(path, MaxReceiptBytes)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("reports: %s: %w", path, err)
	}
	if r.Schema != Schema && r.Schema != 1 {
		return nil, fmt.Errorf("reports: %s: receipt schema %d, want 1 or %d", path, r.Schema, Schema)
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("reports: %s: %w", path, err)
	}
	return &r, nil
}

// Validate checks what the reports compute with: every cell's thread count
// and every timed cell's shape and sizes positive, its timing figures finite and not negative
// (samples and a timed cell's median above 0), the probe's figures finite
// and positive.
func (r *Run) Validate() error {
	pos := func(v float64) bool { return v > 0 && !math.IsInf(v, 0) }
	nonneg := func(v float64) bool { return v >= 0 && !math.IsInf(v, 0) }
	for i := range r.Cells {
		c := &r.Cells[i]
		what := fmt.Sprintf("cell %d (%s on %s, %d threads)", i, c.Kernel, c.Workload, c.Threads)
		timed := c.Status == StatusOK || len(c.Samples) > 0
		if timed && (c.Rows < 1 || c.Cols < 1 || c.WeightBytes < 1 || c.MACs < 1) || c.Threads < 1 {
			return fmt.Errorf("%s: rows %d, cols %d, weight_bytes %d, macs %d, threads %d: want all positive", what, c.Rows, c.Cols, c.WeightBytes, c.MACs, c.Threads)
		}
		for _, v := range c.Samples {
			if !pos(v) {
				return fmt.Errorf("%s: sample %v s: want a finite time above 0", what, v)
			}
		}
		for _, v := range []float64{c.Quiet, c.Median, c.Low, c.High, c.Confidence, c.GBps, c.GMACps, c.FloorSeconds, c.Roofline, c.PrepareSeconds} {
			if !nonneg(v) {
				return fmt.Errorf("%s: a timing figure is %v: want finite and not negative", what, v)
			}
		}
		if len(c.SliceSeconds) > len(c.Samples) {
			return fmt.Errorf("%s: slice times of %d samples but %d samples", what, len(c.SliceSeconds), len(c.Samples))
		}
		for i, ss := range c.SliceSeconds {
			for _, v := range ss {
				if !pos(v) {
					return fmt.Errorf("%s: sample %d has a slice of %v s per GEMV: want a finite time above 0", what, i, v)
				}
			}
		}
		if timed && len(c.Samples) > 0 && !pos(c.Median) {
			return fmt.Errorf("%s: median %v s: want a finite time above 0", what, c.Median)
		}
	}
	if p := r.Machine.Probe; p != nil {
		for _, b := range p.ReadGBps {
			if b.Bytes < 1 || !pos(b.GBps) {
				return fmt.Errorf("probe: read bandwidth %v GB/s at %d bytes: want both positive", b.GBps, b.Bytes)
			}
		}
		for n, v := range p.Int8GMACps {
			if !pos(v) {
				return fmt.Errorf("probe: int8 %s %v GMAC/s: want a finite rate above 0", n, v)
			}
		}
		if !nonneg(p.F32GFMAps) || !nonneg(p.ClockGHz) {
			return fmt.Errorf("probe: f32 %v GFMA/s, clock %v GHz: want finite and not negative", p.F32GFMAps, p.ClockGHz)
		}
	}
	return nil
}
