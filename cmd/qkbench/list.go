package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/qkbench/qkbench/bench"
	"github.com/qkbench/qkbench/kernels"
)

func init() {
	verbs["list"] = verb{summary: "list every registered kernel, available or not and why", run: runList}
}

// ListEntry is one kernel in `qkbench list --json`.
type ListEntry struct {
	ID          string          `json:"id"`
	Mode        string          `json:"mode"`
	Backend     string          `json:"backend"`
	ISA         string          `json:"isa"`
	Available   bool            `json:"available"`
	Unavailable string          `json:"unavailable,omitempty"` // the reason
	Codebooks   []CodebookCheck `json:"codebooks"`
	Code        string          `json:"code"`
	Library     string          `json:"library,omitempty"`        // a plugin's shared library
	LibrarySHA  string          `json:"library_sha256,omitempty"` // and its SHA-256
}

// CodebookCheck says whether a kernel computes with a codebook.
type CodebookCheck struct {
	Codebook  string `json:"codebook"`
	Supported bool   `json:"supported"`
	Reason    string `json:"reason,omitempty"`
}

// listCodebooks are the codebooks list asks every kernel about: the two
// named ones and an arbitrary one (qk256 reversed), which tells whether the
// kernel takes any codebook as data.
var listCodebooks = []kernels.Codebook{kernels.QK256, kernels.Ternary, {2, 1, -1, -2}}

func listEntry(k kernels.Kernel) ListEntry {
	i := k.Info()
	e := ListEntry{ID: i.ID, Mode: i.Mode.String(), Backend: i.Backend, ISA: i.ISA, Available: true, Code: i.Code}
	if i.Library != nil {
		e.Library, e.LibrarySHA = i.Library.Path, i.Library.SHA256
	}
	if err := kernels.Usable(k); err != nil {
		e.Available, e.Unavailable = false, err.Error()
	}
	for _, cb := range listCodebooks {
		c := CodebookCheck{Codebook: cb.Name(), Supported: true}
		if err := k.Supports(cb); err != nil {
			c.Supported, c.Reason = false, err.Error()
		}
		e.Codebooks = append(e.Codebooks, c)
	}
	return e
}

// codebookNote summarizes the codebook checks: "any", or the supported
// names followed by why the others are not.
func codebookNote(cs []CodebookCheck) string {
	var yes, no []string
	for _, c := range cs {
		if c.Supported {
			yes = append(yes, c.Codebook)
		} else {
			no = append(no, c.Codebook+": "+c.Reason)
		}
	}
	switch {
	case len(no) == 0:
		return "any (qk256, ternary, custom)"
	case len(yes) == 0:
		return "none: " + strings.Join(no, "; ")
	}
	return strings.Join(yes, ", ") + " only (" + strings.Join(no, "; ") + ")"
}

func runList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("list", stderr)
	asJSON := fs.Bool("json", false, "print the machine and the kernels as JSON")
	loadPlugins := pluginFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q; list takes only flags", fs.Arg(0))}
	}
	if _, err := loadPlugins(); err != nil {
		return err
	}
	m := bench.Describe()
	var entries []ListEntry
	for _, k := range kernels.List() {
		entries = append(entries, listEntry(k))
	}
	if *asJSON {
		b, err := json.MarshalIndent(struct {
			Machine *bench.Machine `json:"machine"`
			Kernels []ListEntry    `json:"kernels"`
		}{m, entries}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	fmt.Fprintf(stdout, "cpu: %s (%s family %d model %d), %d logical / %d physical cores, L1d %s, L2 %s, L3 %s; %s/%s, %s\n",
		m.CPU, m.Vendor, m.Family, m.Model, m.LogicalCores, m.PhysicalCores, size(m.L1D), size(m.L2), size(m.L3), m.OS, m.Arch, m.GoVersion)
	fmt.Fprintf(stdout, "features: %s\n\n", strings.Join(m.Features, " "))
	wid, wmode, wback, wisa := 2, 4, 7, 3
	for _, e := range entries {
		wid, wmode, wback, wisa = max(wid, len(e.ID)), max(wmode, len(e.Mode)), max(wback, len(e.Backend)), max(wisa, len(e.ISA))
	}
	fmt.Fprintf(stdout, "%-*s  %-*s  %-*s  %-*s  %s\n", wid, "id", wmode, "mode", wback, "backend", wisa, "isa", "status")
	indent := strings.Repeat(" ", wid+2)
	for _, e := range entries {
		status := "available"
		if !e.Available {
			status = "unavailable: " + e.Unavailable
		}
		fmt.Fprintf(stdout, "%-*s  %-*s  %-*s  %-*s  %s\n", wid, e.ID, wmode, e.Mode, wback, e.Backend, wisa, e.ISA, status)
		fmt.Fprintf(stdout, "%scodebooks: %s\n", indent, codebookNote(e.Codebooks))
		fmt.Fprintf(stdout, "%scode: %s\n", indent, e.Code)
		if e.Library != "" {
			fmt.Fprintf(stdout, "%slibrary: %s (sha256 %s)\n", indent, e.Library, e.LibrarySHA)
		}
	}
	return nil
}

// size formats a cache size in bytes ("48 KiB"); negative means unknown.
func size(n int) string {
	switch {
	case n < 0:
		return "unknown"
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
