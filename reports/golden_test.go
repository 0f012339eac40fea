package reports

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name (written with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the code renders now (go test ./reports -run Golden -update rewrites it after a deliberate change); got:\n%s", path, got)
	}
}

// The committed example run, rendered as report.md and as the sweep's
// terminal table: a change to either shows up here, and the table fits 120
// columns.
func TestGoldenExampleRun(t *testing.T) {
	for _, ex := range []string{"zen5-2026-11-25", "zen5-2026-11-25-cold"} {
		r, err := ReadRun(filepath.Join("examples", ex, "receipt.json"))
		if err != nil {
			t.Fatal(err)
		}
		plots, err := r.Plots()
		if err != nil {
			t.Fatal(err)
		}
		var md bytes.Buffer
		if err := r.WriteMarkdown(&md, plots); err != nil {
			t.Fatal(err)
		}
		golden(t, ex+"-report.md", md.Bytes())
		var tb bytes.Buffer
		if err := r.ResultsTable().Text(&tb, DefaultWidth); err != nil {
			t.Fatal(err)
		}
		if w := widest(tb.String()); w > DefaultWidth {
			t.Errorf("%s: the results table is %d columns wide", ex, w)
		}
		golden(t, ex+"-table.txt", tb.Bytes())
		var csv bytes.Buffer
		if err := r.CellsTable().CSV(&csv); err != nil {
			t.Fatal(err)
		}
		golden(t, ex+"-cells.csv", csv.Bytes())
	}
}
