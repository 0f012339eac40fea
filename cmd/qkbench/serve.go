package main

import (
	"errors"
	"io"
	"os"
	"os/signal"

	"github.com/qkbench/qkbench/gate"
	"github.com/qkbench/qkbench/kernels/plugin"
)

func init() {
	verbs["serve"] = verb{summary: "sample server for qkbench gate (JSON lines on stdin/stdout)", hidden: true, run: runServe}
}

// runServe is the gate's sample server: it answers gate.Request lines on
// stdin until "quit" or end of input, with the kernels of the plugins
// QKBENCH_PLUGINS lists (the gate sets it from its --plugin flags) loaded. The gate that started it handles
// Ctrl-C and ends it by closing stdin, so it ignores SIGINT.
func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{errors.New("serve takes no arguments")}
	}
	signal.Ignore(os.Interrupt)
	if _, err := plugin.LoadEnv(); err != nil { // the gate's --plugin flags
		return err
	}
	return gate.Serve(os.Stdin, stdout)
}
