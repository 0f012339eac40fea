package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/qkbench/qkbench/reports"
)

// setUsage makes fs print text (what the verb does, examples and exit
// status: see gateUsage for the house style) and then its flags, in the
// --flag style the README uses.
func setUsage(fs *flag.FlagSet, text string) {
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), strings.TrimRight(text, "\n")+"\n\nFlags:\n")
		printFlags(fs.Output(), fs)
	}
}

// printFlags lists fs's flags as "--name VALUE", the usage text below it
// and the default when it is not the zero value.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		b.WriteString("  --" + f.Name)
		if name != "" {
			b.WriteString(" " + strings.ToUpper(name))
		}
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "0s" && !strings.Contains(usage, "(default") {
			if fmt.Sprintf("%T", f.Value) == "*flag.stringValue" {
				d = fmt.Sprintf("%q", d)
			}
			usage += " (default " + d + ")"
		}
		for _, l := range reports.WrapText(usage, 80) {
			b.WriteString("\n        " + l)
		}
		b.WriteString("\n")
	})
	io.WriteString(w, b.String())
}

// formatFlag is --format: how a verb prints its result on stdout.
type formatFlag struct{ f reports.Format }

func (f *formatFlag) String() string {
	if f == nil || f.f == "" {
		return string(reports.FormatTable)
	}
	return string(f.f)
}

func (f *formatFlag) Set(s string) error {
	v, err := reports.ParseFormat(s)
	if err != nil {
		return err
	}
	f.f = v
	return nil
}

func (f *formatFlag) get() reports.Format {
	if f.f == "" {
		return reports.FormatTable
	}
	return f.f
}

// addFormatFlag adds --format table|md|csv|json to fs.
func addFormatFlag(fs *flag.FlagSet) *formatFlag {
	f := &formatFlag{f: reports.FormatTable}
	fs.Var(f, "format", "output `format`: table (fitted to 120 columns), md (Markdown), csv or json")
	return f
}

// terminalWidth is the width tables fit on w: the terminal's when w is a
// terminal that says, else reports.DefaultWidth (120).
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols >= 40 {
			return cols
		}
	}
	return reports.DefaultWidth
}
