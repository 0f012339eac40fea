package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/machine"
	"github.com/qkbench/qkbench/reports"
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

const listUsage = `Usage: qkbench list [--format table|md|csv|json]

Lists every kernel this build registered, whether it can run on this
machine (and why not), which codebooks it computes with and what code
computes its result, after a description of the machine: the CPU as cpuid
and the OS name it, the CPUs this process may use, the caches and the CPU
features.

Examples:
  qkbench list
  qkbench list --plugin ./libmykernel.so
  qkbench list --format json | jq '.kernels[] | select(.available) | .id'

Exit status: 0 listed; 2 a bad flag or argument.
`

func runList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("list", stderr)
	format := addFormatFlag(fs)
	asJSON := fs.Bool("json", false, "the same as --format json")
	loadPlugins := pluginFlag(fs)
	setUsage(fs, listUsage)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q; list takes only flags", fs.Arg(0))}
	}
	if _, err := loadPlugins(); err != nil {
		return err
	}
	f := format.get()
	if *asJSON {
		if setFlags(fs)["format"] && f != reports.FormatJSON {
			return usageError{fmt.Errorf("--json and --format %s: give one of them", f)}
		}
		f = reports.FormatJSON
	}
	m := machine.Describe()
	var entries []ListEntry
	for _, k := range kernels.List() {
		entries = append(entries, listEntry(k))
	}
	if f == reports.FormatJSON {
		b, err := json.MarshalIndent(struct {
			Machine *machine.Machine `json:"machine"`
			Kernels []ListEntry      `json:"kernels"`
		}{m, entries}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	t := listTable(entries, f == reports.FormatCSV)
	if f == reports.FormatCSV {
		return t.CSV(stdout)
	}
	width := terminalWidth(stdout)
	head := &reports.Table{Notes: []string{
		"cpu: " + m.CPUText() + fmt.Sprintf(" (%s family %d model %d)", m.Vendor, m.Family, m.Model),
		"cpus: " + m.CoresText(),
		"caches: " + m.CachesText(),
		fmt.Sprintf("system: %s/%s %s; %s", m.OS, m.Arch, m.OSRelease, m.Version),
		"features: " + strings.Join(m.Features, " "),
	}}
	if f == reports.FormatMD {
		head.Markdown(stdout)
	} else {
		head.Text(stdout, width)
	}
	fmt.Fprintln(stdout)
	return t.Write(stdout, f, width)
}

// listTable is one row per kernel: what it is, whether it can run here and
// with which codebooks. Under the table: the reasons a kernel cannot run,
// once per reason, the codebooks a kernel refuses and why, and what
// computes each kernel's result (csv: columns of their own).
func listTable(entries []ListEntry, csv bool) *reports.Table {
	t := &reports.Table{Header: []string{"kernel", "mode", "backend", "ISA", "status", "codebooks"}}
	if csv {
		t.Header = append(t.Header, "reason", "codebook_reasons", "code", "library", "library_sha256")
	}
	var reasons []string
	byReason := map[string][]string{}
	var codebooks, code []string
	for _, e := range entries {
		status := "available"
		if !e.Available {
			status = "unavailable"
			if byReason[e.Unavailable] == nil {
				reasons = append(reasons, e.Unavailable)
			}
			byReason[e.Unavailable] = append(byReason[e.Unavailable], e.ID)
		}
		short, why, _ := strings.Cut(codebookNote(e.Codebooks), " (")
		if short != "any" {
			codebooks = append(codebooks, "codebooks of "+e.ID+": "+short+" ("+why)
		} else {
			why = ""
		}
		row := []string{e.ID, e.Mode, e.Backend, e.ISA, status, short}
		if csv {
			row = append(row, e.Unavailable, strings.TrimSuffix(why, ")"), e.Code, e.Library, e.LibrarySHA)
		}
		t.Rows = append(t.Rows, row)
		c := e.ID + ": " + e.Code
		if e.Library != "" {
			c += "; library: " + e.Library + " (sha256 " + e.LibrarySHA + ")"
		}
		code = append(code, c)
	}
	for _, r := range reasons {
		t.Notes = append(t.Notes, "unavailable: "+strings.Join(byReason[r], ", ")+": "+r)
	}
	t.Notes = append(t.Notes, codebooks...)
	t.Notes = append(t.Notes, "")
	t.Notes = append(t.Notes, "What computes each kernel's result:")
	t.Notes = append(t.Notes, code...)
	return t
}
