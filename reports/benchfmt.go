package reports

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/perf/benchfmt"

	"github.com/qkbench/qkbench/machine"
)

// BenchName is a cell's benchmark name (docs/format.md §6):
// GEMV/kernel=<id>/shape=<R>x<C>/threads=<n>/mode=<hot|cold>, plus
// /workload=<name> when the workload is a named tensor rather than a shape.
// benchfmt adds the "Benchmark" prefix.
//
// The workload name (a GGUF tensor name: any UTF-8) is escaped with
// NameEscape so that it cannot end the name, add a line or a name part.
func (c *Cell) BenchName() string {
	n := fmt.Sprintf("GEMV/kernel=%s/shape=%s/threads=%d/mode=%s", c.Kernel, c.Shape, c.Threads, c.Mode)
	if c.Workload != "" && c.Workload != c.Shape {
		n += "/workload=" + NameEscape(c.Workload)
	}
	return n
}

// benchName is c's BenchName with the "-<GOMAXPROCS>" suffix go test adds
// when GOMAXPROCS is above 1, so that a sweep's names and go test's match.
func (r *Run) benchName(c *Cell) string {
	if p := r.Machine.GOMAXPROCS; p > 1 {
		return fmt.Sprintf("%s-%d", c.BenchName(), p)
	}
	return c.BenchName()
}

// NameEscape percent-encodes (as %XX per byte) what a benchmark name part
// cannot hold: space and control characters (they end the name or the
// line), '/' and '=' (they split name parts), '%' itself, any non-printing
// or space rune, and the '-' of a "-<digits>" ending (read as GOMAXPROCS).
func NameEscape(s string) string {
	var b strings.Builder
	esc := func(p string) {
		for i := 0; i < len(p); i++ {
			fmt.Fprintf(&b, "%%%02X", p[i])
		}
	}
	for i, r := range s {
		switch {
		case r == utf8.RuneError || r < 0x21 || r == 0x7f || r == '/' || r == '=' || r == '%' || !unicode.IsPrint(r) || unicode.IsSpace(r):
			_, n := utf8.DecodeRuneInString(s[i:])
			esc(s[i : i+n])
		case r == '-' && i+1 < len(s) && strings.Trim(s[i+1:], "0123456789") == "":
			esc("-")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// FileConfig returns the configuration lines of a run's results file, so that
// benchstat can compare machines or commits as columns. partial: true marks
// a run still being written or interrupted.
func (r *Run) FileConfig() []benchfmt.Config {
	return FileConfig(&r.Machine, r.Config.Codebook, r.Config.Mode, r.Config.Activations, r.Partial)
}

// FileConfig returns the configuration lines that a sweep's results.txt and
// go test -bench ./bench/ both write (BenchmarkGEMV prints them first), so
// that benchstat puts the two in one table and compares them: goos, goarch,
// cpu (as go test names it), pkg, and the machine, build and workload keys.
func FileConfig(m *machine.Machine, codebook, mode, activations string, partial bool) []benchfmt.Config {
	kv := [][2]string{
		{"goos", m.OS}, {"goarch", m.Arch}, {"cpu", m.BenchCPU}, {"features", strings.Join(m.Features, ",")},
		{"host", m.Host}, {"go", m.GoVersion}, {"cc", m.CC}, {"commit", m.Commit},
		{"dirty", m.DirtyString()}, {"codebook", codebook}, {"mode", mode},
		{"partial", fmt.Sprint(partial)},
		{"pkg", "github.com/qkbench/qkbench/bench"},
	}
	// activations: "" for the default (see workloads.Activations.Tag), so
	// that files from before the key land in the same benchstat table.
	if activations != "" {
		kv = append(kv, [2]string{"activations", activations})
	}
	if m.BenchCPU == "" && m.OSCPU == "" {
		kv[2][1] = m.CPU // a receipt written before BenchCPU was recorded
	}
	var out []benchfmt.Config
	for _, p := range kv {
		if p[1] == "" {
			continue
		}
		out = append(out, benchfmt.Config{Key: p[0], Value: []byte(oneLine(p[1])), File: true})
	}
	return out
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// WriteBenchfmt writes the run's timed cells in Go benchmark format, after the
// file configuration lines: one result line per sample with ns/op, MB/s (of
// weight bytes) and GMAC/s, so benchstat sees every sample (but the
// disturbed ones, which the receipt keeps and the median leaves out).
func (r *Run) WriteBenchfmt(w io.Writer) error {
	bw := benchfmt.NewWriter(w)
	cfg := r.FileConfig()
	for i := range r.Cells {
		c := &r.Cells[i]
		if !c.Timed() {
			continue
		}
		for _, s := range c.CleanSamples() {
			res := &benchfmt.Result{
				Config: cfg,
				Name:   benchfmt.Name(r.benchName(c)),
				Iters:  max(c.Iterations, 1),
				Values: []benchfmt.Value{
					{Value: s * 1e9, Unit: "ns/op"},
					{Value: float64(c.WeightBytes) / s / 1e6, Unit: "MB/s"},
					{Value: float64(c.MACs) / s / 1e9, Unit: "GMAC/s"},
				},
			}
			if err := bw.Write(res); err != nil {
				return err
			}
		}
	}
	return nil
}
