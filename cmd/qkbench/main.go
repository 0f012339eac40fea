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
	"sort"

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

func run(args []string, stdout, stderr io.Writer) int {
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

// parse parses flags and wraps a failure as a usage error.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "qkbench measures QK256 (2-bit) GEMV kernels.\n\nUsage: qkbench <command> [flags]\n\nCommands:")
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
	fmt.Fprintln(w, "\nRun qkbench <command> -h for a command's flags.")
}
