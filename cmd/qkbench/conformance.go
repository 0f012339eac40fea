package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/qkbench/qkbench/bench"
	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/kerneltest"
	"github.com/qkbench/qkbench/reports"
)

func init() {
	verbs["conformance"] = verb{summary: "run the conformance suite (tails, guard pages, races, worst cases) on kernels, plugins included", run: runConformance}
}

// SuiteResult is one kernel's run of the conformance suite (reports.SuiteResult).
type SuiteResult = reports.SuiteResult

const conformanceUsage = `Usage: qkbench conformance [--plugin LIB.so]... [--kernels LIST] [--short] [--parts LIST] [--json]

Runs the conformance suite that every kernel of qkbench passes (shapes and
tails, padding, unaligned and guard-paged buffers, row ranges, concurrent
calls, errors, worst cases) in this process: a kernel that crashes takes it
along (check --plugin runs it in a child process). By default it runs the
kernels of the --plugin libraries, or every kernel when none is given.

Examples:
  qkbench conformance --plugin ./libmykernel.so
  qkbench conformance --kernels avx2-i8,go-i8 --short
  qkbench conformance --kernels ref-i8 --parts shapes,errors --json

Exit status: 0 every kernel passed; 1 a kernel failed, or a kernel named
cannot run; 2 a bad flag or argument.
`

func runConformance(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("conformance", stderr)
	loadPlugins := pluginFlag(fs)
	list := fs.String("kernels", "", "comma `list` of kernel ids, \"all\" or \"available\" (default: the --plugin libraries' kernels, else all)")
	short := fs.Bool("short", false, "trimmed shape lists (as go test -short)")
	parts := fs.String("parts", "", "comma `list` of parts to run (default all): "+strings.Join(kerneltest.Parts(), ", "))
	asJSON := fs.Bool("json", false, "print one JSON object per kernel")
	trace := fs.Bool("trace", false, "print each case to stderr before it runs")
	setUsage(fs, conformanceUsage)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q; conformance takes only flags", fs.Arg(0))}
	}
	plugged, err := loadPlugins()
	if err != nil {
		return err
	}
	opt := kerneltest.Options{Short: *short}
	if *trace {
		opt.Trace = stderr
	}
	for _, p := range strings.Split(*parts, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !slices.Contains(kerneltest.Parts(), p) {
			return usageError{fmt.Errorf("--parts: unknown part %q, want some of %s", p, strings.Join(kerneltest.Parts(), ", "))}
		}
		opt.Parts = append(opt.Parts, p)
	}
	ks, named := plugged, len(plugged) > 0
	if *list != "" || len(plugged) == 0 {
		if ks, err = kernels.Select(*list); err != nil {
			return usageError{fmt.Errorf("--kernels: %w", err)}
		}
		l := strings.TrimSpace(*list)
		named = l != "" && l != "all" && l != "available"
	}
	failed := false
	for _, k := range ks {
		id := k.Info().ID
		res := SuiteResult{Kernel: id, Available: true}
		start := time.Now()
		if err := kernels.Usable(k); err != nil {
			res.Available, res.Unavailable = false, err.Error()
			res.Pass = !named && !bench.Required(id)
		} else {
			for _, f := range kerneltest.Check(k, opt) {
				res.Failures = append(res.Failures, f.String())
			}
			res.Pass = len(res.Failures) == 0
		}
		res.Seconds = time.Since(start).Seconds()
		failed = failed || !res.Pass
		if *asJSON {
			b, err := json.Marshal(res)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s\n", b)
			continue
		}
		printSuite(stdout, res)
	}
	if failed {
		return errExit1
	}
	return nil
}

// printSuite writes one kernel's suite result in a few lines.
func printSuite(w io.Writer, r SuiteResult) {
	switch {
	case !r.Available && r.Pass:
		fmt.Fprintf(w, "SKIP %s: unavailable: %s\n", r.Kernel, r.Unavailable)
	case !r.Available:
		fmt.Fprintf(w, "FAIL %s: unavailable: %s\n", r.Kernel, r.Unavailable)
	case r.Pass:
		fmt.Fprintf(w, "PASS %s (%.1f s)\n", r.Kernel, r.Seconds)
	default:
		fmt.Fprintf(w, "FAIL %s (%.1f s):\n", r.Kernel, r.Seconds)
		if r.Crash != "" {
			fmt.Fprintf(w, "  crashed: %s, in case %s\n", r.Crash, r.Case)
		}
		for _, f := range r.Failures {
			fmt.Fprintf(w, "  %s\n", f)
		}
	}
}

// childEnv is set in the environment of the child process that runs the
// suite for check; the command's tests, whose binary stands in for qkbench,
// read it to run the command instead of the tests.
const childEnv = "QKBENCH_SUITE_CHILD"

// suiteTimeout bounds one kernel's suite in a child process.
const suiteTimeout = 20 * time.Minute

// suiteInChild runs the conformance suite on a plugin kernel in a child
// process (qkbench conformance), so that a kernel that crashes fails with
// the signal and the case it was in instead of taking this process along.
func suiteInChild(k kernels.Kernel, short bool) SuiteResult {
	i := k.Info()
	res := SuiteResult{Kernel: i.ID, Available: true}
	fail := func(format string, args ...any) SuiteResult {
		res.Pass = false
		res.Failures = append(res.Failures, fmt.Sprintf(format, args...))
		return res
	}
	exe, err := os.Executable()
	if err != nil {
		return fail("cannot start the child process that runs the suite: %v", err)
	}
	args := []string{"conformance", "--kernels", i.ID, "--json", "--trace"}
	if i.Library != nil {
		args = append(args, "--plugin", i.Library.Path)
	}
	if short {
		args = append(args, "--short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), suiteTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err = cmd.Run()
	res.Seconds = time.Since(start).Seconds()
	for sc := bufio.NewScanner(&out); sc.Scan(); {
		var r SuiteResult
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Kernel == i.ID {
			r.Seconds = res.Seconds
			if err == nil || isExit1(err) {
				return r
			}
		}
	}
	res.Case = kerneltest.LastCase(errb.Bytes())
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return fail("the suite did not finish within %v (last case: %s)", suiteTimeout, res.Case)
	case errors.As(err, &ee) && ee.Sys() != nil && signaled(ee):
		res.Crash = ee.Sys().(syscall.WaitStatus).Signal().String()
	default:
		res.Crash = kerneltest.Crash(errb.Bytes())
	}
	if res.Crash != "" {
		return fail("the child process running the suite crashed: %s, in case %s", res.Crash, res.Case)
	}
	return fail("the child process running the suite (%s %s) gave no result (%v): %s", exe, strings.Join(args, " "), err, lastLines(errb.String(), 5))
}

func isExit1(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == 1
}

func signaled(ee *exec.ExitError) bool {
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled()
}

// lastLines returns the last n lines of s, joined by " | ".
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
