package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// DefaultWidth is the width, in columns, that terminal tables fit.
const DefaultWidth = 120

// Table is a table of text cells that renders for a terminal (fitted to a
// width, long cells wrapped), as GitHub Markdown or as CSV. Notes are lines
// that belong under the table: what did not run and why, failures in full.
type Table struct {
	Header []string
	Rows   [][]string
	// Right marks right-aligned columns (numbers).
	Right []bool
	// Wrap marks the columns whose cells may be wrapped onto more lines to
	// fit the width; nil lets any column wrap, widest first.
	Wrap  []bool
	Notes []string
}

// minWrap is the narrowest a wrapped column gets.
const minWrap = 8

// Text renders t with box-drawing borders in at most width columns when
// the wrappable columns can shrink that far (a row is never cut: what does
// not fit on one line continues on the next), then the notes, each wrapped
// to the width.
func (t *Table) Text(w io.Writer, width int) error {
	if width <= 0 {
		width = DefaultWidth
	}
	n := len(t.Header)
	for _, r := range t.Rows {
		n = max(n, len(r))
	}
	var b strings.Builder
	if n > 0 {
		widths := make([]int, n)
		measure := func(r []string) {
			for i, c := range r {
				for _, l := range strings.Split(c, "\n") {
					widths[i] = max(widths[i], textWidth(l))
				}
			}
		}
		measure(t.Header)
		for _, r := range t.Rows {
			measure(r)
		}
		t.fit(widths, width)
		line := func(l, m, r string) {
			b.WriteString(l)
			for i, wd := range widths {
				b.WriteString(strings.Repeat("─", wd+2))
				if i < n-1 {
					b.WriteString(m)
				}
			}
			b.WriteString(r + "\n")
		}
		row := func(r []string) {
			cells := make([][]string, n)
			lines := 1
			for i := range n {
				c := ""
				if i < len(r) {
					c = r[i]
				}
				cells[i] = wrapText(c, widths[i])
				lines = max(lines, len(cells[i]))
			}
			for l := range lines {
				b.WriteString("│")
				for i := range n {
					s := ""
					if l < len(cells[i]) {
						s = cells[i][l]
					}
					pad := strings.Repeat(" ", widths[i]-textWidth(s))
					if i < len(t.Right) && t.Right[i] {
						b.WriteString(" " + pad + s + " │")
					} else {
						b.WriteString(" " + s + pad + " │")
					}
				}
				b.WriteString("\n")
			}
		}
		line("┌", "┬", "┐")
		if len(t.Header) > 0 {
			row(t.Header)
			line("├", "┼", "┤")
		}
		for _, r := range t.Rows {
			row(r)
		}
		line("└", "┴", "┘")
	}
	for _, note := range t.Notes {
		for i, l := range wrapText(note, width-2) {
			if i > 0 {
				l = "  " + l
			}
			b.WriteString(l + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fit narrows the wrappable columns, widest first, until the table fits
// width or none can shrink further.
func (t *Table) fit(widths []int, width int) {
	total := func() int {
		s := 1
		for _, w := range widths {
			s += w + 3
		}
		return s
	}
	for total() > width {
		best := -1
		for i, w := range widths {
			if (t.Wrap == nil || i < len(t.Wrap) && t.Wrap[i]) && w > minWrap && (best < 0 || w > widths[best]) {
				best = i
			}
		}
		if best < 0 {
			return
		}
		widths[best]--
	}
}

// Markdown renders t as a GitHub Markdown table, then the notes as a list.
func (t *Table) Markdown(w io.Writer) error {
	var b strings.Builder
	if err := WriteMarkdownTable(&b, t.Header, t.Rows); err != nil {
		return err
	}
	if len(t.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range t.Notes {
			b.WriteString("- " + strings.ReplaceAll(n, "\n", " ") + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// CSV writes the header and rows as CSV (RFC 4180); notes are left out.
func (t *Table) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if len(t.Header) > 0 {
		if err := cw.Write(t.Header); err != nil {
			return err
		}
	}
	if err := cw.WriteAll(t.Rows); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// textWidth is the number of terminal columns s takes: one per rune.
func textWidth(s string) int { return utf8.RuneCountInString(s) }

// WrapText breaks s into lines of at most n columns (see wrapText).
func WrapText(s string, n int) []string { return wrapText(s, n) }

// wrapText breaks s into lines of at most n columns, at spaces where it
// can and inside a word where a word is longer than n. Newlines in s are
// kept.
func wrapText(s string, n int) []string {
	n = max(n, 1)
	var out []string
	for _, para := range strings.Split(s, "\n") {
		if textWidth(para) <= n {
			out = append(out, para)
			continue
		}
		var line []rune
		flush := func() {
			out = append(out, strings.TrimRight(string(line), " "))
			line = line[:0]
		}
		for _, word := range strings.Fields(para) {
			r := []rune(word)
			if len(line) > 0 && len(line)+1+len(r) > n {
				flush()
			}
			if len(line) > 0 {
				line = append(line, ' ')
			}
			for len(line)+len(r) > n { // a word longer than a line is cut
				k := n - len(line)
				line = append(line, r[:k]...)
				r = r[k:]
				flush()
			}
			line = append(line, r...)
		}
		if len(line) > 0 || len(out) == 0 {
			flush()
		}
	}
	return out
}

// Format is a way to print a table: "table", "md", "csv" or "json".
type Format string

// The formats of --format.
const (
	FormatTable Format = "table"
	FormatMD    Format = "md"
	FormatCSV   Format = "csv"
	FormatJSON  Format = "json"
)

// ParseFormat reads a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.TrimSpace(s)); f {
	case FormatTable, FormatMD, FormatCSV, FormatJSON:
		return f, nil
	}
	return "", fmt.Errorf("format %q: want table, md, csv or json", s)
}

// Write renders t in format f (FormatJSON is the caller's: it has the data
// rather than its text); width is for FormatTable.
func (t *Table) Write(w io.Writer, f Format, width int) error {
	switch f {
	case FormatMD:
		return t.Markdown(w)
	case FormatCSV:
		return t.CSV(w)
	case FormatJSON:
		return fmt.Errorf("reports: a table has no JSON form; write the data")
	}
	return t.Text(w, width)
}
