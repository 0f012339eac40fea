package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/qkbench/qkbench/bench"
	"github.com/qkbench/qkbench/gguf"
	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/reports"
	"github.com/qkbench/qkbench/workloads"
)

func init() {
	verbs["check"] = verb{summary: "run every kernel on generated workloads, check it against the references, write a parity receipt", run: runCheck}
}

// ReceiptSchema names the format of the JSON that check --receipt writes.
const ReceiptSchema = "qkbench/parity-receipt/v1"

// Result statuses of one kernel on one workload.
const (
	statusPass        = "pass"
	statusFail        = "fail"        // ran and disagreed, or the GEMV failed
	statusError       = "error"       // Prepare failed
	statusUnavailable = "unavailable" // cannot run here
	statusUnsupported = "unsupported" // does not compute with this codebook
)

// Receipt is the parity receipt (SPEC §3, the agreement part of §6): what
// ran where, and how well each kernel agreed with the references.
type Receipt struct {
	Schema    string            `json:"schema"`
	Created   string            `json:"created"` // RFC 3339, UTC
	Command   []string          `json:"command"`
	Machine   *bench.Machine    `json:"machine"`
	Commit    string            `json:"commit"`
	Dirty     *bool             `json:"dirty"`
	Preset    string            `json:"preset"`
	Codebook  string            `json:"codebook"`
	Seed      uint64            `json:"seed"`
	Threads   int               `json:"threads"`
	Required  []string          `json:"required,omitempty"` // QKBENCH_REQUIRE
	Workloads []ReceiptWorkload `json:"workloads"`
	Kernels   []ReceiptKernel   `json:"kernels"`
	Pass      bool              `json:"pass"`
	Failures  []string          `json:"failures,omitempty"`
}

// ReceiptWorkload is one generated workload.
type ReceiptWorkload struct {
	Name        string  `json:"name"`
	Rows        int     `json:"rows"`
	Cols        int     `json:"cols"`
	Codebook    string  `json:"codebook"`
	Scale       float32 `json:"scale"`
	Source      string  `json:"source"`
	WeightBytes int64   `json:"weight_bytes"`
	MACs        int64   `json:"macs"`
}

// ReceiptKernel is one kernel and its result on every workload.
type ReceiptKernel struct {
	ID          string          `json:"id"`
	Backend     string          `json:"backend"`
	ISA         string          `json:"isa"`
	Mode        string          `json:"mode"`
	Code        string          `json:"code"`                     // what computed the result
	Library     string          `json:"library,omitempty"`        // a plugin's shared library (absolute path)
	LibrarySHA  string          `json:"library_sha256,omitempty"` // and its SHA-256
	Available   bool            `json:"available"`
	Unavailable string          `json:"unavailable,omitempty"` // the reason
	Requested   bool            `json:"requested"`             // named in --kernels
	Required    bool            `json:"required"`              // named in QKBENCH_REQUIRE
	Results     []ReceiptResult `json:"results"`
	// Conformance is the conformance suite's result for a plugin kernel, run
	// in a child process.
	Conformance *SuiteResult `json:"conformance,omitempty"`
}

// ReceiptResult is one kernel on one workload.
type ReceiptResult struct {
	Workload  string         `json:"workload"`
	Status    string         `json:"status"`
	Reason    string         `json:"reason,omitempty"`
	Failure   bool           `json:"failure"` // counts against the run
	PrepareMS float64        `json:"prepare_ms,omitempty"`
	Agreement *ReceiptMetric `json:"agreement,omitempty"`
}

// ReceiptMetric is kernels.Agreement with non-finite numbers (a kernel
// that wrote NaN) as null, since JSON has no NaN or Inf.
type ReceiptMetric struct {
	Rows       int       `json:"rows"`
	Reference  string    `json:"reference"`
	Cosine     jsonFloat `json:"cosine"`
	MaxAbs     jsonFloat `json:"max_abs_err"`
	MaxRel     jsonFloat `json:"max_rel_err"`
	NMSE       jsonFloat `json:"nmse"`
	ExactMatch jsonFloat `json:"exact_match_rate"`
	Pass       bool      `json:"pass"`
	Why        string    `json:"why,omitempty"`
}

type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

func metric(a kernels.Agreement) *ReceiptMetric {
	return &ReceiptMetric{
		Rows: a.Rows, Reference: a.Reference, Cosine: jsonFloat(a.Cosine), MaxAbs: jsonFloat(a.MaxAbs),
		MaxRel: jsonFloat(a.MaxRel), NMSE: jsonFloat(a.NMSE), ExactMatch: jsonFloat(a.ExactMatch),
		Pass: a.Pass, Why: a.Why,
	}
}

type checkOptions struct {
	preset   workloads.Preset
	kernels  []kernels.Kernel
	explicit map[string]bool // ids the user named in --kernels
	codebook kernels.Codebook
	seed     uint64
	threads  int
	receipt  string
	// gguf, when set, replaces the preset with the model's own matrices.
	gguf       string
	allTensors bool
	// suite runs the conformance suite on plugin kernels in a child process.
	suite bool
}

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", stderr)
	preset := fs.String("preset", "", "workload preset, one of: "+strings.Join(workloads.PresetNames(), ", ")+" (default \"default\")")
	shapes := fs.String("shapes", "", "comma list of ROWSxCOLS shapes, e.g. 2048x4096,67x3200 (instead of --preset)")
	list := fs.String("kernels", "", "comma list of kernel ids, \"all\" or \"available\" (default all registered kernels)")
	codebook := fs.String("codebook", "qk256", "codebook: qk256, ternary or four integers in [-2, 2] such as -2,-1,1,2")
	seed := fs.Uint64("seed", workloads.DefaultSeed, "workload generator seed")
	threads := fs.Int("threads", 1, fmt.Sprintf("threads per GEMV (1..%d)", bench.MaxThreads))
	receipt := fs.String("receipt", "", "write the parity receipt (JSON) to this file")
	ggufPath := fs.String("gguf", "", "use this GGUF model's weight matrices (real weights, generated x) as the workloads")
	allTensors := fs.Bool("all-tensors", false, "with --gguf: every weight tensor, not each distinct shape once")
	loadPlugins := pluginFlag(fs)
	suite := fs.Bool("conformance", true, "with --plugin: run the conformance suite on each plugin kernel, in a child process")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: qkbench check [--preset P | --shapes LIST] [--kernels LIST] [--codebook C] [--seed N] [--threads N] [--receipt FILE] [--plugin LIB.so]...\n\nRuns each kernel on each workload and checks it against the float64 oracle\nand ref-i8. Kernels of a --plugin library also run the whole conformance\nsuite, in a child process: a crash there is a failure naming the signal.\nExit status 1 when a kernel disagrees or a requested kernel cannot run;\n2 on a bad flag.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q; check takes only flags", fs.Arg(0))}
	}
	if err := ggufExclusive(fs); err != nil {
		return err
	}
	o := checkOptions{seed: *seed, threads: *threads, receipt: *receipt, explicit: map[string]bool{}, gguf: *ggufPath, allTensors: *allTensors, suite: *suite}
	if _, err := loadPlugins(); err != nil {
		return err
	}
	var err error
	if strings.TrimSpace(*preset) != "" && strings.TrimSpace(*shapes) != "" {
		return usageError{errors.New("--preset and --shapes both given; use one of them")}
	}
	if o.preset, err = workloads.Resolve(*preset, *shapes); err != nil {
		name := "--preset"
		if strings.TrimSpace(*shapes) != "" {
			name = "--shapes"
		}
		return usageError{fmt.Errorf("%s: %w", name, err)}
	}
	if o.kernels, err = kernels.Select(*list); err != nil {
		return usageError{fmt.Errorf("--kernels: %w", err)}
	}
	if l := strings.TrimSpace(*list); l != "" && l != "all" && l != "available" {
		for _, k := range o.kernels {
			o.explicit[k.Info().ID] = true
		}
	}
	if o.codebook, err = kernels.ParseCodebook(*codebook); err != nil {
		return usageError{fmt.Errorf("--codebook: %w", err)}
	}
	if o.threads < 1 || o.threads > bench.MaxThreads {
		return usageError{fmt.Errorf("--threads %d: want 1..%d", o.threads, bench.MaxThreads)}
	}
	if o.receipt != "" {
		if err := checkOutputFile("--receipt", o.receipt); err != nil {
			return err
		}
	}
	if err := kernels.CheckDisable(); err != nil {
		return usageError{err}
	}
	rc, err := check(o)
	if err != nil {
		return err
	}
	rc.Command = append([]string{"qkbench", "check"}, args...)
	printCheck(stdout, rc)
	if o.receipt != "" {
		b, err := json.MarshalIndent(rc, "", "  ")
		if err != nil {
			return fmt.Errorf("receipt: %w", err)
		}
		if err := reports.WriteFileAtomic(o.receipt, append(b, '\n')); err != nil {
			return fmt.Errorf("receipt: %w", err)
		}
		fmt.Fprintf(stdout, "receipt written to %s\n", o.receipt)
	}
	if !rc.Pass {
		return errExit1
	}
	return nil
}

// check runs every kernel on every workload and returns the receipt.
func check(o checkOptions) (*Receipt, error) {
	m := bench.Describe()
	rc := &Receipt{
		Schema: ReceiptSchema, Created: time.Now().UTC().Format(time.RFC3339),
		Machine: m, Commit: m.Commit, Dirty: m.Dirty,
		Preset: o.preset.Name, Codebook: o.codebook.Name(), Seed: o.seed, Threads: o.threads,
		Required: kernels.Required(),
	}
	fail := func(format string, args ...any) {
		rc.Failures = append(rc.Failures, fmt.Sprintf(format, args...))
	}
	for _, id := range rc.Required {
		if _, err := kernels.Lookup(id); err != nil {
			fail("QKBENCH_REQUIRE names %q, which is not registered in this build", id)
		}
	}
	for _, k := range o.kernels {
		i := k.Info()
		rk := ReceiptKernel{
			ID: i.ID, Backend: i.Backend, ISA: i.ISA, Mode: i.Mode.String(), Code: i.Code,
			Available: true, Requested: o.explicit[i.ID], Required: bench.Required(i.ID),
		}
		if i.Library != nil {
			rk.Library, rk.LibrarySHA = i.Library.Path, i.Library.SHA256
		}
		if err := kernels.Usable(k); err != nil {
			rk.Available, rk.Unavailable = false, err.Error()
		}
		if o.suite && i.Library != nil && rk.Available {
			r := suiteInChild(k, false)
			rk.Conformance = &r
			for _, f := range r.Failures {
				fail("%s: conformance suite: %s", i.ID, f)
			}
		}
		rc.Kernels = append(rc.Kernels, rk)
	}
	cases, closeCases, err := checkCases(o)
	if err != nil {
		return nil, err
	}
	defer closeCases()
	var ws []reports.WorkloadInfo
	for _, c := range cases {
		ws = append(ws, reports.WorkloadInfo{Codebook: c.codebook.Name()})
	}
	if o.gguf != "" {
		rc.Preset, rc.Codebook = "gguf:"+o.gguf, codebookOf(ws)
	}
	for _, cl := range cases {
		// One workload in memory at a time.
		c, err := cl.load()
		if err != nil {
			return nil, err
		}
		w := c.W
		rc.Workloads = append(rc.Workloads, ReceiptWorkload{
			Name: w.Name, Rows: w.M.Rows, Cols: w.M.Cols, Codebook: w.M.Codebook.Name(), Scale: w.M.Scale,
			Source: w.Source, WeightBytes: w.M.WeightBytes(), MACs: w.M.MACs(),
		})
		for ki, k := range o.kernels {
			rk := &rc.Kernels[ki]
			res := checkOne(k, rk, c, o.threads)
			if res.Failure {
				fail("%s on %s: %s: %s", rk.ID, w.Name, res.Status, res.Reason)
			}
			rk.Results = append(rk.Results, res)
		}
	}
	rc.Pass = len(rc.Failures) == 0
	return rc, nil
}

// checkCases returns the workloads of a check: the preset's generated shapes,
// or a GGUF model's own matrices, each built when its turn comes.
func checkCases(o checkOptions) ([]caseLoader, func() error, error) {
	if o.gguf != "" {
		ws, closeFn, err := gguf.ModelPlan(o.gguf, gguf.ModelOptions{All: o.allTensors, Seed: o.seed})
		if err != nil {
			return nil, nil, err
		}
		var cs []caseLoader
		for _, w := range ws {
			cs = append(cs, caseLoader{codebook: w.Codebook, load: func() (*bench.Case, error) {
				wl, err := w.Load()
				if err != nil {
					return nil, err
				}
				return &bench.Case{W: wl}, nil
			}})
		}
		return cs, closeFn, nil
	}
	var cs []caseLoader
	for _, s := range o.preset.Shapes {
		cs = append(cs, caseLoader{codebook: o.codebook, load: func() (*bench.Case, error) { return bench.NewCase(s, o.codebook, o.seed) }})
	}
	return cs, func() error { return nil }, nil
}

// caseLoader builds one workload of a check when its turn comes.
type caseLoader struct {
	codebook kernels.Codebook
	load     func() (*bench.Case, error)
}

// checkOne prepares and runs one kernel on one workload. Whether a kernel
// that cannot run is a failure depends on whether it was asked for.
func checkOne(k kernels.Kernel, rk *ReceiptKernel, c *bench.Case, threads int) ReceiptResult {
	res := ReceiptResult{Workload: c.W.Name}
	asked := rk.Requested || rk.Required
	if !rk.Available {
		res.Status, res.Reason, res.Failure = statusUnavailable, rk.Unavailable, asked
		return res
	}
	if s := rk.Conformance; s != nil && s.Crash != "" {
		// It would crash this process too.
		res.Status, res.Reason, res.Failure = statusFail, "not run: it crashed in the conformance suite ("+s.Crash+")", true
		return res
	}
	if err := k.Supports(c.W.M.Codebook); err != nil {
		res.Status, res.Reason, res.Failure = statusUnsupported, err.Error(), rk.Requested // QKBENCH_REQUIRE is about availability, not codebooks
		return res
	}
	start := time.Now()
	p, err := prepare(k, c.W.M)
	res.PrepareMS = float64(time.Since(start).Nanoseconds()) / 1e6
	if err != nil {
		res.Status, res.Reason, res.Failure = statusError, err.Error(), true
		return res
	}
	r, err := bench.NewRunner(p, threads)
	if err != nil {
		res.Status, res.Reason, res.Failure = statusError, err.Error(), true
		return res
	}
	defer r.Close()
	a, err := bench.Verify(r, c)
	if a.Rows > 0 {
		res.Agreement = metric(a)
	}
	if err != nil {
		res.Status, res.Reason, res.Failure = statusFail, err.Error(), true
		return res
	}
	res.Status = statusPass
	return res
}

// prepare calls k.Prepare, turning a panic into an error.
func prepare(k kernels.Kernel, m *kernels.Matrix) (p kernels.Prepared, err error) {
	defer func() {
		if v := recover(); v != nil {
			p, err = nil, fmt.Errorf("%s: Prepare panicked: %v", k.Info().ID, v)
		}
	}()
	return k.Prepare(m)
}

// printCheck writes the agreement table and the failures.
func printCheck(w io.Writer, rc *Receipt) {
	fmt.Fprintf(w, "qkbench check: codebook %s, seed %d, %d thread(s), preset %s; %s\n", rc.Codebook, rc.Seed, rc.Threads, rc.Preset, rc.Machine.CPU)
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithAlignment(tw.Alignment{tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignLeft}),
	)
	t.Header("kernel", "shape", "cosine", "max |Δ|", "max |Δ|/L1", "NMSE", "exact", "result")
	for _, k := range rc.Kernels {
		// A kernel that could not run on any workload gets one row.
		if len(k.Results) > 0 && (k.Results[0].Status == statusUnavailable || k.Results[0].Status == statusUnsupported) && sameStatus(k.Results) {
			r := k.Results[0]
			t.Append(k.ID, "all", "-", "-", "-", "-", "-", verdict(r))
			continue
		}
		for _, r := range k.Results {
			row := []string{k.ID, r.Workload, "-", "-", "-", "-", "-", verdict(r)}
			if a := r.Agreement; a != nil {
				row[2], row[3], row[4], row[5], row[6] = num("%.6f", a.Cosine), num("%.3g", a.MaxAbs), num("%.3g", a.MaxRel), num("%.3g", a.NMSE), num("%.4f", a.ExactMatch)
			}
			t.Append(row)
		}
	}
	t.Render()
	for _, k := range rc.Kernels {
		if s := k.Conformance; s != nil && s.Pass {
			fmt.Fprintf(w, "conformance suite: %s (%s): pass, %.1f s in a child process\n", k.ID, k.Library, s.Seconds)
		}
	}
	for _, f := range rc.Failures {
		fmt.Fprintf(w, "FAIL %s\n", f)
	}
	if rc.Pass {
		fmt.Fprintln(w, "PASS")
	} else {
		fmt.Fprintf(w, "FAIL: %d failure(s)\n", len(rc.Failures))
	}
}

func sameStatus(rs []ReceiptResult) bool {
	return !slices.ContainsFunc(rs, func(r ReceiptResult) bool { return r.Status != rs[0].Status || r.Reason != rs[0].Reason })
}

func verdict(r ReceiptResult) string {
	var s string
	switch r.Status {
	case statusPass:
		return "pass"
	case statusUnavailable, statusUnsupported:
		s = r.Status + ": " + r.Reason
		if r.Status == statusUnsupported {
			s = "unsupported codebook: " + r.Reason
		}
	case statusError:
		return "FAIL (error)"
	default:
		return "FAIL"
	}
	if r.Failure {
		s = "FAIL " + s
	}
	return s
}

func num(format string, f jsonFloat) string {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return fmt.Sprint(float64(f))
	}
	return fmt.Sprintf(format, float64(f))
}
