package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/gguf"
	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/workloads"
)

func TestSynthThenInspect(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.gguf")
	if code, _, e := runCmd(t, "gguf", "synth", "--preset", "bitnet-0.7b", "-o", path, "--layers", "2", "--seed", "7"); code != 0 {
		t.Fatalf("synth exit %d: %s", code, e)
	}
	code, out, e := runCmd(t, "inspect", path)
	if code != 0 {
		t.Fatalf("inspect exit %d: %s", code, e)
	}
	for _, want := range []string{"architecture bitnet", "layers 2", "embedding 1536", "feed-forward 4096",
		"blk.1.ffn_down.weight", "1536x4096", "GgmlQk256NoScale", "bitnet-cpp", "tensors:      14,"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	// A row line of blk.1.ffn_gate.weight (4096x1536): 1536 values, each the
	// generated ternary weight (tensor 7+4 = 11 of the plan gets seed 7+11).
	code, out, e = runCmd(t, "inspect", path, "--tensor", "blk.1.ffn_gate.weight", "--rows", "3")
	if code != 0 {
		t.Fatalf("inspect --tensor exit %d: %s", code, e)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	wl, _ := workloads.Generate(workloads.Spec{Rows: 4096, Cols: 1536, Codebook: kernels.Ternary, Seed: 7 + 11})
	for r, line := range lines {
		f := strings.Fields(line)
		if len(f) != 1536 {
			t.Fatalf("row %d has %d values", r, len(f))
		}
		for c, s := range f {
			want := map[float32]string{-1: "-1", 0: "0", 1: "1"}[wl.M.Weight(r, c)]
			if s != want {
				t.Fatalf("row %d col %d = %s, want %s", r, c, s, want)
			}
		}
	}
	// Forcing the other reading changes the numbers.
	_, out2, _ := runCmd(t, "inspect", path, "--tensor", "blk.1.ffn_gate.weight", "--rows", "3", "--reading", "seed")
	if out2 == out {
		t.Error("--reading seed printed the same weights as bitnet-cpp")
	}
}

func TestInspectErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.gguf")
	os.WriteFile(bad, []byte("GGUF\x07\x00\x00\x00"), 0o644)
	noflavor := filepath.Join(dir, "noflavor.gguf")
	w := gguf.NewWriter()
	w.AddTensor("blk.0.attn_q.weight", gguf.I2S, []uint64{256, 2}, make([]byte, 300))
	if err := w.WriteFile(noflavor); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"inspect", bad}, 1, "unsupported version 7"},
		{[]string{"inspect", filepath.Join(dir, "missing.gguf")}, 1, "no such file"},
		{[]string{"inspect", noflavor}, 1, `"blk.0.attn_q.weight" (I2_S, 2x256): 300 bytes available match no I2_S flavor`},
		{[]string{"inspect", noflavor, "--tensor", "nope"}, 1, `no tensor "nope"`},
		{[]string{"inspect"}, 2, "want exactly one GGUF file"},
		{[]string{"inspect", noflavor, "--flavor", "Q4"}, 2, "unknown I2_S flavor"},
		{[]string{"inspect", noflavor, "--rows", "0"}, 2, "--rows 0"},
		{[]string{"gguf", "synth", "--preset", "nope", "-o", filepath.Join(dir, "x.gguf")}, 2, "unknown preset"}, // a bad flag
		{[]string{"gguf", "synth"}, 2, "-o FILE is required"},
		{[]string{"gguf", "frobnicate"}, 2, "unknown subcommand"},
	}
	for _, c := range cases {
		code, _, e := runCmd(t, c.args...)
		if code != c.code || !strings.Contains(e, c.want) {
			t.Errorf("%v: exit %d stderr %q, want exit %d and %q", c.args, code, e, c.code, c.want)
		}
	}
	// The table still lists the tensor with ERROR before failing.
	_, out, _ := runCmd(t, "inspect", noflavor)
	if !strings.Contains(out, "ERROR") {
		t.Errorf("table lacks ERROR:\n%s", out)
	}
}

func TestModelWorkloadsFromSynth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.gguf")
	if code, _, e := runCmd(t, "gguf", "synth", "--preset", "bitnet-2b", "-o", path); code != 0 {
		t.Fatal(e)
	}
	ws, closeFn, err := gguf.ModelWorkloads(path, gguf.ModelOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	var names []string
	for _, w := range ws {
		names = append(names, w.Name)
		if err := w.M.Validate(); err != nil || len(w.X) != w.M.Cols || !strings.Contains(w.Source, "m.gguf") || !strings.Contains(w.Source, w.Name) {
			t.Errorf("%s: %v x=%d source %q", w.Name, err, len(w.X), w.Source)
		}
	}
	// bitnet-2b has four distinct shapes: q (2560x2560), k (640x2560), gate, down.
	want := "blk.0.attn_q.weight blk.0.attn_k.weight blk.0.ffn_gate.weight blk.0.ffn_down.weight"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("workloads %s, want %s", got, want)
	}
	all, closeAll, err := gguf.ModelWorkloads(path, gguf.ModelOptions{All: true})
	if err != nil || len(all) != 7 {
		t.Fatalf("All: %d workloads, %v", len(all), err)
	}
	closeAll()
	// The real weights: the q workload equals the generated matrix (seed 42+0).
	wl, _ := workloads.Generate(workloads.Spec{Rows: 2560, Cols: 2560, Codebook: kernels.Ternary, Seed: 42})
	if !bytes.Equal(ws[0].M.Unpack(), wl.M.Unpack()) || ws[0].M.Codebook != kernels.Ternary || ws[0].M.Scale != 1 {
		t.Error("q workload differs from the generated weights")
	}
}

// A synthesized model cut by one byte: its last tensor (blk.0.ffn_down.weight)
// used to be read as a seed tensor with other weights, and inspect, check
// and sweep exited 0 on it.
func TestCutModelFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	if code, _, e := runCmd(t, "gguf", "synth", "--preset", "bitnet-0.7b", "-o", path); code != 0 {
		t.Fatalf("synth exit %d: %s", code, e)
	}
	st, _ := os.Stat(path)
	if err := os.Truncate(path, st.Size()-1); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"inspect", path},
		{"check", "--gguf", path, "--kernels", "ref-i8"},
		{"sweep", "--gguf", path, "--kernels", "ref-i8", "--count", "1", "--min-time", "1ms", "--no-probe", "--quiet", "--out", filepath.Join(dir, "run")},
	} {
		code, out, e := runCmd(t, args...)
		if code != 1 || !strings.Contains(out+e, "blk.0.ffn_down.weight") || !strings.Contains(out+e, "cut") {
			t.Errorf("%v: exit %d, want 1 naming the cut tensor\nstdout: %s\nstderr: %s", args, code, out, e)
		}
	}
}

// Output paths that are symlinks to a device are written through, never
// replaced (gguf synth -o, check --receipt, profile --out).
func TestOutputsWriteThroughLinks(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "null")
	if err := os.Symlink(os.DevNull, link); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"gguf", "synth", "--preset", "seed", "-o", link},
		{"check", "--shapes", "3x1", "--kernels", "ref-i8", "--receipt", link},
		{"profile", "--kernel", "ref-i8", "--shape", "3x1", "--seconds", "0.01", "--out", link},
	} {
		if code, _, e := runCmd(t, args...); code != 0 {
			t.Errorf("%v: exit %d: %s", args, code, e)
		}
		if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("%v replaced the symlink %s", args, link)
		}
	}
	if st, _ := os.Stat(os.DevNull); st.Mode().IsRegular() {
		t.Fatalf("%s became a regular file", os.DevNull)
	}
}

// --gguf silently ignored --shapes, --preset and --codebook, and recorded
// the --codebook default (qk256) while the model's matrices were ternary.
func TestGGUFFlagsAndCodebook(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	if code, _, e := runCmd(t, "gguf", "synth", "--preset", "seed", "-o", path); code != 0 {
		t.Fatalf("synth exit %d: %s", code, e)
	}
	for _, extra := range [][]string{{"--codebook", "qk256"}, {"--shapes", "8x256"}, {"--preset", "seed"}} {
		for _, verb := range []string{"sweep", "check"} {
			args := append([]string{verb, "--gguf", path, "--kernels", "ref-i8"}, extra...)
			if code, _, e := runCmd(t, args...); code != 2 || !strings.Contains(e, extra[0]+" and --gguf") {
				t.Errorf("%v: exit %d: %s", args, code, e)
			}
		}
	}
	if code, _, e := runCmd(t, "sweep", "--all-tensors", "--kernels", "ref-i8"); code != 2 || !strings.Contains(e, "--all-tensors needs --gguf") {
		t.Errorf("--all-tensors alone: exit %d: %s", code, e)
	}
	out := filepath.Join(dir, "run")
	if code, _, e := runCmd(t, "sweep", "--gguf", path, "--kernels", "ref-i8", "--threads", "1", "--count", "1", "--min-time", "1ms", "--no-probe", "--quiet", "--out", out); code != 0 {
		t.Fatalf("sweep --gguf: exit %d: %s", code, e)
	}
	b, _ := os.ReadFile(filepath.Join(out, "results.txt"))
	if !strings.Contains(string(b), "codebook: ternary") {
		t.Errorf("results.txt does not say codebook: ternary:\n%.400s", b)
	}
}

// countingWriter counts Write calls.
type countingWriter struct {
	n int
	bytes.Buffer
}

func (w *countingWriter) Write(p []byte) (int, error) { w.n++; return w.Buffer.Write(p) }

// inspect wrote its tensor table a cell at a time to unbuffered stdout:
// millions of system calls for a model with a million tensors.
func TestInspectBuffersOutput(t *testing.T) {
	w := gguf.NewWriter()
	for i := 0; i < 2000; i++ {
		if err := w.AddTensor(fmt.Sprintf("t%d", i), gguf.F32, []uint64{1}, make([]byte, 4)); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "many.gguf")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	var out countingWriter
	var stderr bytes.Buffer
	if code := run([]string{"inspect", path}, &out, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(out.String(), "t1999") || out.n > 20 {
		t.Errorf("%d writes for %d bytes, want a few buffered ones", out.n, out.Len())
	}
}
