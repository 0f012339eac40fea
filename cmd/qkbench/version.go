package main

import (
	"fmt"
	"io"

	"github.com/qkbench/qkbench/machine"
)

func init() {
	verbs["version"] = verb{summary: "print the qkbench build: module version, commit, Go version and build settings", run: runVersion}
}

const versionUsage = `Usage: qkbench version

Prints what this qkbench binary was built from: the module version, the
commit (and whether the tree had uncommitted changes), the Go version and
the settings that choose kernels (GOEXPERIMENT, build tags, CGO_ENABLED).
A binary built by go run or go test does not carry its commit: then the
commit is the checkout's HEAD. Every receipt records the same line.

Exit status: 0 printed; 2 a bad flag or argument.
`

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", stderr)
	setUsage(fs, versionUsage)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q; version takes none", fs.Arg(0))}
	}
	_, err := fmt.Fprintln(stdout, machine.ReadBuild())
	return err
}
