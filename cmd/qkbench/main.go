// Command qkbench lists, checks and benchmarks QK256 GEMV kernels.
//
// Each verb lives in its own file and registers itself in verbs from init.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"

	_ "github.com/qkbench/qkbench/kernels/all"
)

// A verb is one subcommand: `qkbench <name> [flags] [args]`.
type verb struct {
	summary string
	hidden  bool // not listed by qkbench help (an internal verb)
	// run parses args (after the verb name) and does the work. It returns
	// errExit1 for "ran fine, but the answer is a failure" (e.g. check found a
	// disagreement), a usage error from flag parsing, or any other error.
	run func(args []string, stdout, stderr io.Writer) error
}

var verbs = map[string]verb{}

// errExit1 makes qkbench exit with status 1 without printing another message.
var errExit1 = errors.New("exit status 1")

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		// A panic is a bug, not a bad flag: exit 1 (Go's own exit status
		// for a panic, 2, is the one for a bad flag).
		if v := recover(); v != nil {
			fmt.Fprintf(stderr, "qkbench: internal error: %v\n%s", v, debug.Stack())
			code = 1
		}
	}()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	v, ok := verbs[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "qkbench: unknown command %q; run qkbench help for the list\n", args[0])
		return 2
	}
	err := v.run(args[1:], stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errExit1):
		return 1
	case errors.As(err, new(usageError)), errors.As(err, new(exit2Error)):
		fmt.Fprintf(stderr, "qkbench %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "qkbench %s: %v\n", args[0], err)
		return 1
	}
}

// usageError marks a bad flag or argument (exit status 2).
type usageError struct{ error }

// exit2Error is a failure that is not the answer to the question asked: a
// build that fails, a kernel that disagrees before a gate can time it, an
// interrupted gate. It exits with status 2, like a bad flag, so that status
// 1 keeps meaning "a regression was found".
type exit2Error struct{ error }

// newFlags returns a FlagSet that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("qkbench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags and wraps a failure as a usage error. A flag given an
// empty value (--shapes "") is one too: it would silently mean the default.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	var empty error
	fs.Visit(func(f *flag.Flag) {
		if empty == nil && strings.TrimSpace(f.Value.String()) == "" {
			empty = usageError{fmt.Errorf("-%s: empty value; leave the flag out for its default", f.Name)}
		}
	})
	return empty
}

// checkOutputFile checks before any measuring that path can be written: its
// folder exists and takes a new file, and path is no folder. A path that is
// not a regular file (a device, a FIFO) is written through, not replaced.
func checkOutputFile(flagName, path string) error {
	if path == "" {
		return usageError{fmt.Errorf("%s: empty path", flagName)}
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return usageError{fmt.Errorf("%s %s is a folder, want a file", flagName, path)}
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usageError{fmt.Errorf("%s %s: directory %s does not exist", flagName, path, dir)}
	}
	f, err := os.CreateTemp(dir, ".qkbench-write-test*")
	if err != nil {
		return usageError{fmt.Errorf("%s %s: folder %s cannot be written: %w", flagName, path, dir, err)}
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, `qkbench measures GEMV kernels over 2-bit QK256 weights (BitNet b1.58): how fast
each kernel is, how close it gets to the machine's roofline, and whether it
computes the right answer.

Usage: qkbench <command> [flags]

Start with:
  qkbench list     the kernels this build has, and which can run here
  qkbench sweep    check and time every kernel on the default shapes

Commands:`)
	var names []string
	for n, v := range verbs {
		if !v.hidden {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, verbs[n].summary)
	}
	fmt.Fprintln(w, "\nRun qkbench <command> -h for what a command does, examples, its exit status and flags.\nExit status: 0 fine; 1 a failure of what was measured or checked; 2 a bad flag or argument.")
}
