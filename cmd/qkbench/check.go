package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/reports"
)

func init() {
	verbs["check"] = verb{summary: "run every kernel on generated workloads, check it against the references, write a parity receipt", run: runCheck}
}

const checkUsage = `Usage: qkbench check [--preset P | --shapes LIST | --gguf FILE] [--kernels LIST] [--threads LIST] [flags]

Runs every kernel on every workload, split over each thread count, and
checks its output: f32 kernels against a float64 oracle (every row within
1e-4 of the row's L1 norm), i8 kernels bit for bit against ref-i8, peers by
cosine (at least 0.99). Nothing is timed. A kernel that cannot run here, or
does not compute with the codebook, is listed under the table with the
reason. --receipt writes the result as JSON in the schema of a sweep's
receipt.json ("verb": "check", no samples); --format json prints it.
Kernels of a --plugin library also run the whole conformance suite, in a
child process: a crash there is a failure naming the signal, and the
kernel is not run in this process.

Examples:
  qkbench check
  qkbench check --shapes 2048x4096,67x3200,3x1 --codebook qk256
  qkbench check --kernels avx2-i8,go-i8 --threads 1,3 --receipt parity.json
  qkbench check --gguf model.gguf --format csv
  qkbench check --plugin ./libmykernel.so --kernels my-kernel-i8,ref-i8

Exit status: 0 every kernel that ran agreed; 1 a kernel disagreed or
failed, a kernel that --kernels names (or QKBENCH_REQUIRE lists) could not
run, or the check was interrupted; 2 a bad flag or argument.
`

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", stderr)
	sp := runSpec{verb: "check"}
	d := defaultCells
	d.mode = "" // check has no --mode: it times nothing
	sp.register(fs, d)
	receipt := fs.String("receipt", "", "write the result as JSON (the receipt) to this `file`")
	suite := fs.Bool("conformance", true, "with --plugin: run the conformance suite on each plugin kernel, in a child process")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	format := addFormatFlag(fs)
	setUsage(fs, checkUsage)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := sp.resolve(fs); err != nil {
		return err
	}
	if *receipt != "" {
		if err := checkOutputFile("--receipt", *receipt); err != nil {
			return err
		}
	}
	s, run, err := sp.build(stderr)
	if err != nil {
		return err
	}
	s.CheckOnly = true
	var suiteFailures, suiteNotes []string
	if *suite {
		s.Refused = map[string]string{}
		suiteFailures, suiteNotes = pluginSuites(run, s.Refused)
	}
	run.Command = strings.TrimSpace("qkbench check " + strings.Join(args, " "))
	done := showProgress(s, "check", *quiet, stderr)
	interrupted, err := runInterruptibly(s, run)
	done()
	if err != nil {
		return err
	}
	verr := verdict(run)
	if len(suiteFailures) > 0 {
		run.Failures = append(suiteFailures, run.Failures...)
		verr = errExit1
	}
	if *receipt != "" {
		if err := reports.WriteJSON(*receipt, run); err != nil {
			return fmt.Errorf("--receipt: %w", err)
		}
		fmt.Fprintf(stderr, "qkbench check: receipt written to %s\n", *receipt)
	}
	f := format.get()
	if f == reports.FormatTable || f == reports.FormatMD {
		c := run.Config
		fmt.Fprintf(stdout, "qkbench check: codebook %s, seed %d, threads %s, preset %s; %s\n\n", c.Codebook, c.Seed, threadList(c.Threads), c.Preset, run.Machine.CPU)
	}
	if err := printRun(stdout, run, run.CheckTable(), f); err != nil {
		return err
	}
	if f == reports.FormatTable || f == reports.FormatMD {
		for _, n := range suiteNotes {
			fmt.Fprintln(stdout, n)
		}
		for _, f := range suiteFailures {
			fmt.Fprintln(stdout, "FAIL "+f)
		}
		switch {
		case interrupted:
			fmt.Fprintln(stdout, "INTERRUPTED: only the cells above were checked")
		case len(run.Failures) == 0:
			fmt.Fprintln(stdout, "PASS")
		default:
			fmt.Fprintf(stdout, "FAIL: %d failure(s)\n", len(run.Failures))
		}
	}
	for _, f := range run.Failures {
		fmt.Fprintf(stderr, "qkbench check: FAIL %s\n", f)
	}
	if interrupted {
		return errExit1
	}
	return verr
}

// pluginSuites runs the conformance suite, each in a child process, on the
// run's plugin kernels that can run here, and records each result in the
// run's kernel. A kernel whose suite crashed goes into refused (it would
// crash this process too). It returns the suite's failures and a line per
// kernel that passed.
func pluginSuites(run *reports.Run, refused map[string]string) (failures, notes []string) {
	for i := range run.Kernels {
		ki := &run.Kernels[i]
		if ki.Library == "" || !ki.Available {
			continue
		}
		k, err := kernels.Lookup(ki.ID)
		if err != nil {
			continue
		}
		r := suiteInChild(k, false)
		ki.Conformance = &r
		for _, f := range r.Failures {
			failures = append(failures, fmt.Sprintf("%s: conformance suite: %s", ki.ID, f))
		}
		if r.Crash != "" {
			refused[ki.ID] = "not run: it crashed in the conformance suite (" + r.Crash + ")"
		}
		if r.Pass {
			notes = append(notes, fmt.Sprintf("conformance suite: %s (%s): pass, %.1f s in a child process", ki.ID, ki.Library, r.Seconds))
		}
	}
	return failures, notes
}

// threadList writes thread counts as "1,2".
func threadList(ts []int) string {
	var s []string
	for _, t := range ts {
		s = append(s, fmt.Sprint(t))
	}
	return strings.Join(s, ",")
}
