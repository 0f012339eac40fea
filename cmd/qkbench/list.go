package main

import (
	"fmt"
	"io"

	"github.com/qkbench/qkbench/kernels"
)

func init() {
	verbs["list"] = verb{summary: "list every registered kernel, available or not and why", run: runList}
}

func runList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("list", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	for _, k := range kernels.List() {
		i := k.Info()
		status := "available"
		if err := kernels.Usable(k); err != nil {
			status = "unavailable: " + err.Error()
		}
		fmt.Fprintf(stdout, "%-20s %-6s %-16s %s\n", i.ID, i.Mode, i.ISA, status)
	}
	return nil
}
