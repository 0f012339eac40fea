package reports

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

func widest(s string) int {
	w := 0
	for _, l := range strings.Split(s, "\n") {
		w = max(w, textWidth(l))
	}
	return w
}

func TestTableFitsWidth(t *testing.T) {
	long := "unavailable: " + strings.Repeat("a very long reason that goes on ", 8)
	tb := &Table{
		Header: []string{"kernel", "workload", "median", "agreement"},
		Rows: [][]string{
			{"avx512lut-i8", "blk.0.ffn_down.weight (2560x6912)", "21.2 µs", "exact 100%"},
			{"ggml-tq2_0-haswell", "2048x4096", "84.4 µs", long},
			{"x", strings.Repeat("z", 150), "1 ms", ""},
		},
		Right: []bool{false, false, true, false},
		Wrap:  []bool{false, true, false, true},
		Notes: []string{"not run: neon-f32, neon-i8: " + long},
	}
	var b bytes.Buffer
	if err := tb.Text(&b, 120); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if w := widest(out); w > 120 {
		t.Errorf("%d columns, want at most 120:\n%s", w, out)
	}
	// Nothing is cut: every word of every cell is still there.
	flat := strings.Join(strings.Fields(strings.NewReplacer("│", " ", "─", " ").Replace(out)), " ")
	for _, word := range strings.Fields(long) {
		if !strings.Contains(flat, word) {
			t.Errorf("%q lost:\n%s", word, out)
		}
	}
	if !strings.Contains(out, strings.Repeat("z", 20)) || strings.Count(out, "z") != 150 {
		t.Errorf("the long word was not kept whole across lines:\n%s", out)
	}
	if !strings.Contains(out, "│  21.2 µs │") && !strings.Contains(out, "│ 21.2 µs │") {
		t.Errorf("median not right-aligned:\n%s", out)
	}
	// A narrow table is left as it is.
	b.Reset()
	(&Table{Header: []string{"a", "b"}, Rows: [][]string{{"1", "2"}}}).Text(&b, 120)
	if want := "┌───┬───┐\n│ a │ b │\n├───┼───┤\n│ 1 │ 2 │\n└───┴───┘\n"; b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestTableMarkdownAndCSV(t *testing.T) {
	tb := &Table{Header: []string{"k", "why"}, Rows: [][]string{{"a|b", "x, \"y\"\nz"}}, Notes: []string{"note one"}}
	var b bytes.Buffer
	tb.Markdown(&b)
	if want := "| k | why |\n|---|---|\n| a\\|b | x, \"y\" z |\n\n- note one\n"; b.String() != want {
		t.Errorf("markdown:\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	tb.CSV(&b)
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][1] != "x, \"y\"\nz" {
		t.Errorf("csv: %q, %v", recs, err)
	}
}

func TestWrapText(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"one two three", 7, "one two|three"},
		{"abcdefghij", 4, "abcd|efgh|ij"},
		{"ab cdefghij", 4, "ab|cdef|ghij"},
		{"", 5, ""},
		{"a\nb", 5, "a|b"},
	} {
		if got := strings.Join(wrapText(c.in, c.n), "|"); got != c.want {
			t.Errorf("wrapText(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
