package reports

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/perf/benchfmt"

	"github.com/qkbench/qkbench/machine"
)

// GGUF tensor names went unescaped into results.txt: a newline injected a
// fake benchmark line, a space or tab broke the file for compare.
func TestHostileWorkloadNames(t *testing.T) {
	names := []string{
		"blk.0.w\nBenchmarkInjected/kernel=fake 1 1 ns/op",
		"a b\tc", "x/y=z", "100%", "name-12", "name-12x", "é\u00a0\u2028ok", "\xff\xfe",
	}
	r := &Run{Machine: machine.Machine{CPU: "cpu"}}
	for _, n := range names {
		r.Cells = append(r.Cells, Cell{Kernel: "ref-i8", Workload: n, Shape: "8x256", Threads: 1, Mode: "hot",
			Status: StatusOK, Median: 1e-6, Samples: []float64{1e-6}, Iterations: 1, WeightBytes: 512, MACs: 2048})
	}
	var buf bytes.Buffer
	if err := r.WriteBenchfmt(&buf); err != nil {
		t.Fatal(err)
	}
	rd := benchfmt.NewReader(&buf, "results.txt")
	i := 0
	for rd.Scan() {
		res, ok := rd.Result().(*benchfmt.Result)
		if !ok {
			t.Errorf("record %d: %v", i, rd.Result())
			continue
		}
		if i >= len(names) {
			t.Fatalf("more results than cells: %s", res.Name.Full())
		}
		base, parts := res.Name.Parts()
		if string(base) != "GEMV" || len(parts) != 5 || !strings.HasPrefix(string(parts[4]), "/workload=") {
			t.Errorf("name %d (%q): base %q, parts %q", i, names[i], base, parts)
		}
		if _, procs := res.Name.Parts(); strings.HasSuffix(string(procs[len(procs)-1]), "-12") {
			t.Errorf("name %d ends in -12 (read as GOMAXPROCS)", i)
		}
		i++
	}
	if i != len(names) {
		t.Errorf("%d results, want %d", i, len(names))
	}
	if got := NameEscape("blk.0.attn_q.weight"); got != "blk.0.attn_q.weight" {
		t.Errorf("a plain tensor name became %q", got)
	}
}
