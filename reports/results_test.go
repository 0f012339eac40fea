package reports

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A NaN sample made compare (benchmath's Mann-Whitney test) grow to 24 GB;
// zero, negative and infinite values printed as NaNn, -6.000n and 300-digit
// numbers. ReadResults drops them with a warning naming file and line.
func TestReadResultsDropsUnusableValues(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.txt")
	b := filepath.Join(dir, "b.txt")
	os.WriteFile(a, []byte("BenchmarkX 1 5 ns/op\nBenchmarkX 1 6 ns/op\nBenchmarkX 1 7 ns/op\n"), 0o644)
	os.WriteFile(b, []byte("BenchmarkX 1 NaN ns/op\nBenchmarkX 1 -6 ns/op\nBenchmarkX 1 0 ns/op\nBenchmarkX 1 +Inf ns/op\nBenchmarkX 1 6 ns/op 3 MB/s\nBenchmarkX 1 7 ns/op -1 MB/s\n"), 0o644)
	res, warn, err := ReadResults([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 5 {
		t.Errorf("%d results, want 5 (3 of a.txt, the last 2 of b.txt)", len(res))
	}
	for _, r := range res {
		for _, v := range r.Values {
			if !(v.Value > 0) || v.Value > 1e300 {
				t.Errorf("kept %v %s", v.Value, v.Unit)
			}
		}
	}
	want := []string{b + ":1: BenchmarkX: dropped the value NaN ns/op", b + ":2:", b + ":3:", b + ":4:", b + ":6: BenchmarkX: dropped the value -1 MB/s"}
	if len(warn) != len(want) {
		t.Fatalf("warnings %q, want %d", warn, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(warn[i], w) {
			t.Errorf("warning %d = %q, want it to start %q", i, warn[i], w)
		}
	}

	done := make(chan error, 1)
	go func() {
		_, _, err := Compare([]string{a, b}, CompareOptions{Units: []string{"sec/op"}})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Compare with a NaN sample did not return in 10 s")
	}

	fifo := filepath.Join(dir, "fifo")
	if err := mkfifo(fifo); err == nil {
		if _, _, err := ReadResults([]string{fifo}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("ReadResults of a FIFO: %v", err)
		}
	}
}

// A finite but absurd value was printed with 300 digits.
func TestCompareHugeValueIsShort(t *testing.T) {
	a := filepath.Join(t.TempDir(), "a.txt")
	os.WriteFile(a, []byte("BenchmarkX 1 5 ns/op\nBenchmarkX 1 1e300 ns/op\n"), 0o644)
	cs, _, err := Compare([]string{a}, CompareOptions{Units: []string{"sec/op"}})
	if err != nil {
		t.Fatal(err)
	}
	if cell := cs[0].Rows[0][1]; len(cell) > 40 {
		t.Errorf("cell %q", cell)
	}
}
