package reports

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// report hung on a receipt with weight_bytes <= 0 (the roofline's x loop
// never ended from 0) and read a receipt that is a link to /dev/zero until
// memory ran out. ReadRun validates and bounds; the plot guards its axis.
func TestHostileReceipts(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "receipt.json")
	for _, c := range []struct {
		name string
		edit func(r *Run)
		want string
	}{
		{"weight_bytes 0", func(r *Run) { r.Cells[0].WeightBytes = 0 }, "weight_bytes 0"},
		{"weight_bytes -1", func(r *Run) { r.Cells[0].WeightBytes = -1 }, "weight_bytes -1"},
		{"negative sample", func(r *Run) { r.Cells[0].Samples[0] = -1e-6 }, "sample"},
		{"zero slice time", func(r *Run) { r.Cells[0].SliceSeconds = [][]float64{{1e-6, 0}} }, "slice of 0 s"},
		{"slices of more samples", func(r *Run) {
			r.Cells[0].SliceSeconds = make([][]float64, len(r.Cells[0].Samples)+1)
		}, "slice times of"},
		{"negative median", func(r *Run) { r.Cells[0].Median = -1 }, "timing figure"},
		{"zero threads", func(r *Run) { r.Cells[0].Threads = 0 }, "threads 0"},
		{"probe bandwidth 0", func(r *Run) { r.Machine.Probe.ReadGBps[0].GBps = 0 }, "read bandwidth"},
	} {
		r := fakeRun(2)
		c.edit(r)
		if err := WriteJSON(p, r); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadRun(p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: ReadRun: %v, want an error containing %q", c.name, err, c.want)
		}
		// Rendering such a run (built in memory) returns.
		done := make(chan struct{})
		go func() { r.Plots(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: Plots did not return in 20 s", c.name)
		}
	}
	os.Remove(p)
	if err := os.Symlink("/dev/zero", p); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRun(p); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("receipt linked to /dev/zero: %v", err)
	}
	fifo := filepath.Join(dir, "fifo.json")
	if mkfifo(fifo) == nil {
		if _, err := ReadRun(fifo); err == nil {
			t.Errorf("a FIFO receipt was read")
		}
	}
}

// Receipts put each array of numbers on one line (a sweep records tens of
// thousands of slice times) and read back the same; brackets inside
// strings stay as they are.
func TestMarshalJSONNumberArrays(t *testing.T) {
	r := fakeRun(2)
	r.Cells[0].SliceSeconds = [][]float64{{1.5e-05, 2e-05}, {3e-05}}
	r.Cells[0].Reason = "odd [1,\n 2] text \"[3]\""
	b, err := MarshalJSON(r)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`[0.000015, 0.00002],`, `[0.00003]`, `"odd [1,\n 2] text \"[3]\""`} {
		if !strings.Contains(s, want) {
			t.Errorf("receipt lacks %s:\n%s", want, s)
		}
	}
	var back Run
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Cells[0], r.Cells[0]) {
		t.Errorf("read back %+v, want %+v", back.Cells[0], r.Cells[0])
	}
}
