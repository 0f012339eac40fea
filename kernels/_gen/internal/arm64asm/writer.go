package arm64asm

import (
	"bytes"
	"fmt"
)

// Writer accumulates the lines of a Go arm64 assembly file.
type Writer struct{ b bytes.Buffer }

// Preamble starts an assembly file: the "Code generated" header, the
// build constraint and textflag.h.
func (w *Writer) Preamble(header, constraint string) {
	w.b.WriteString(header)
	fmt.Fprintf(&w.b, "\n//go:build %s\n\n#include \"textflag.h\"\n", constraint)
}

// Op writes one instruction line (tab-indented).
func (w *Writer) Op(format string, args ...any) { fmt.Fprintf(&w.b, "\t"+format+"\n", args...) }

// Raw writes one line as is.
func (w *Writer) Raw(s string) { w.b.WriteString(s + "\n") }

// Word writes an encoded instruction as WORD with its mnemonic.
func (w *Writer) Word(i Inst) { w.Op("%s", i.Line()) }

// Label writes a label line.
func (w *Writer) Label(name string) { w.b.WriteString(name + ":\n") }

// Comment writes an indented comment line.
func (w *Writer) Comment(s string) { w.Op("// %s", s) }

// Zero clears the vector registers regs (VEOR with themselves).
func (w *Writer) Zero(regs ...int) {
	for _, r := range regs {
		w.Op("VEOR\t%s.B16, %s.B16, %s.B16", V(r), V(r), V(r))
	}
}

// Bytes returns what was written.
func (w *Writer) Bytes() []byte { return w.b.Bytes() }

// V names vector register n.
func V(n int) string { return fmt.Sprintf("V%d", n) }
