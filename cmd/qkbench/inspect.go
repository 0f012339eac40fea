package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/qkbench/qkbench/gguf"
)

func init() {
	verbs["inspect"] = verb{summary: "summarize a GGUF model and its tensors (I2_S flavor and reading), or print a tensor's weights", run: runInspect}
}

// parseInterleaved parses flags that may come before or after positional
// arguments (`inspect FILE --tensor NAME`), returning the positionals.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func i2sOptions(flavor, reading string) (gguf.Options, error) {
	fl, err := gguf.ParseFlavor(flavor)
	if err != nil {
		return gguf.Options{}, usageError{err}
	}
	rd, err := gguf.ParseReading(reading)
	if err != nil {
		return gguf.Options{}, usageError{err}
	}
	return gguf.Options{Flavor: fl, Reading: rd}, nil
}

const inspectUsage = `Usage: qkbench inspect FILE [--tensor NAME [--rows N]] [--flavor F] [--reading R] [--kv]

Reads a GGUF file (v2 or v3) and lists its tensors: shape, ggml type and,
for I2_S tensors, the flavor and reading the bytes match (GgmlQk256NoScale
as the seed's or bitnet.cpp's layout, Split32WithSibling, BitNet32F16) and
whether the tensor can become a QK256 matrix for the sweep. With --tensor
it prints that tensor's first --rows rows of decoded weights. A damaged or
cut file is an error naming the tensor and the sizes that disagree.

Examples:
  qkbench inspect model.gguf
  qkbench inspect model.gguf --tensor blk.0.attn_q.weight --rows 2
  qkbench inspect model.gguf --flavor GgmlQk256NoScale --reading seed --kv

Exit status: 0 read; 1 the file cannot be read or is damaged; 2 a bad flag
or argument.
`

func runInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect", stderr)
	tensor := fs.String("tensor", "", "print the decoded weights of this tensor (`name`) instead of the summary")
	rows := fs.Int("rows", 4, "with --tensor: how many rows to print")
	flavor := fs.String("flavor", "auto", "force the I2_S `flavor`: GgmlQk256NoScale, Split32WithSibling or BitNet32F16")
	reading := fs.String("reading", "auto", "force the GgmlQk256NoScale `reading`: seed or bitnet-cpp")
	kv := fs.Bool("kv", false, "also list every metadata key and value")
	setUsage(fs, inspectUsage)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{fmt.Errorf("want exactly one GGUF file, got %d arguments", len(pos))}
	}
	if *rows < 1 {
		return usageError{fmt.Errorf("--rows %d: want at least 1", *rows)}
	}
	opt, err := i2sOptions(*flavor, *reading)
	if err != nil {
		return err
	}
	f, err := gguf.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	// Buffered: the tensor table of a large model is millions of small writes.
	bw := bufio.NewWriterSize(stdout, 1<<16)
	if *tensor != "" {
		err = printRows(f, *tensor, *rows, opt, bw)
	} else {
		err = summarize(f, opt, *kv, bw)
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return err
}

func printRows(f *gguf.File, name string, n int, opt gguf.Options, stdout io.Writer) error {
	t, ok := f.Tensor(name)
	if !ok {
		return fmt.Errorf("no tensor %q in %s (%d tensors; run qkbench inspect %s for the list)", name, f.Path, len(f.Tensors), f.Path)
	}
	w, rows, cols, err := f.DecodeFloat(t, opt, n)
	if err != nil {
		return err
	}
	var b []byte
	for r := 0; r < rows; r++ {
		b = b[:0]
		for c := 0; c < cols; c++ {
			if c > 0 {
				b = append(b, ' ')
			}
			b = strconv.AppendFloat(b, float64(w[r*cols+c]), 'g', -1, 32)
		}
		b = append(b, '\n')
		if _, err := stdout.Write(b); err != nil {
			return err
		}
	}
	return nil
}

func metaInt(f *gguf.File, key string) (int64, bool) {
	v, ok := f.KV(key)
	if !ok {
		return 0, false
	}
	return v.AsInt()
}

func summarize(f *gguf.File, opt gguf.Options, showKV bool, stdout io.Writer) error {
	arch := "?"
	if v, ok := f.KV("general.architecture"); ok && v.Type == gguf.TypeString {
		arch = v.Str
	}
	name := ""
	if v, ok := f.KV("general.name"); ok && v.Type == gguf.TypeString {
		name = v.Str
	}
	mode := "read through ReadAt"
	if f.Mapped() {
		mode = "memory-mapped"
	}
	fmt.Fprintf(stdout, "file:         %s (%d bytes, GGUF v%d, alignment %d, %s)\n", f.Path, f.Size, f.Version, f.Alignment, mode)
	fmt.Fprintf(stdout, "model:        %q, architecture %s\n", name, arch)
	var sizes []string
	for _, k := range []struct{ key, label string }{
		{"block_count", "layers"}, {"embedding_length", "embedding"}, {"feed_forward_length", "feed-forward"},
		{"context_length", "context"}, {"attention.head_count", "heads"}, {"attention.head_count_kv", "kv heads"}, {"vocab_size", "vocab"},
	} {
		if v, ok := metaInt(f, arch+"."+k.key); ok {
			sizes = append(sizes, fmt.Sprintf("%s %d", k.label, v))
		}
	}
	if len(sizes) == 0 {
		sizes = append(sizes, "(no "+arch+".* size keys)")
	}
	fmt.Fprintf(stdout, "sizes:        %s\n", strings.Join(sizes, ", "))
	fmt.Fprintf(stdout, "metadata:     %d keys\n", len(f.Metadata))
	if showKV {
		for _, kv := range f.Metadata {
			fmt.Fprintf(stdout, "  %s = %s\n", kv.Key, kv.Value)
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tSHAPE\tBYTES\tFLAVOR\tREADING")
	var errs []error
	var total int64
	for i := range f.Tensors {
		t := &f.Tensors[i]
		flavor, reading := "-", "-"
		size := t.Size
		if t.Type == gguf.I2S {
			l, err := f.DetectI2S(t, opt)
			if err != nil {
				errs = append(errs, err)
				flavor, reading, size = "ERROR", "-", t.Available
			} else {
				flavor, reading, size = l.Flavor.String(), l.Reading.String(), l.Expected
			}
		}
		total += size
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", t.Name, t.Type, t.Shape(), size, flavor, reading)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "tensors:      %d, %d bytes of data\n", len(f.Tensors), total)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}
