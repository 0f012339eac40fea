// Command amd64 generates the assembly of package kernels/amd64 with avo,
// one part per run, each into the package directory (-dir):
//
//	<part>_amd64.s           the assembly (amd64, without the purego tag)
//	<part>_stubs_amd64.go    its Go declarations
//	<part>_stubs_other.go    the same functions panicking, for every other build
//	<part>_consts.go         the layout constants the Go driver shares with it
//
// Parts: avx2 (avx2-i8 and avx2-f32), quant (the AVX2 i8 quantizer),
// avx2lut (avx2lut-i8), avx512 (avx512vnni-i8 and avx512lut-i8). go generate
// in kernels/amd64 runs every part:
//
//	cd kernels/_gen && go run ./amd64 -part avx2lut
package main

import (
	"flag"
	"fmt"
	"log"
	"path/filepath"
	"sort"
	"strings"

	. "github.com/mmcloughlin/avo/build"

	"github.com/qkbench/qkbench/kernels/_gen/internal/gen"
)

// part is one generated assembly file with its Go companions.
type part struct {
	emit   func()      // the functions, into avo's global context
	consts []gen.Const // exported to <part>_consts.go (none: no file)
	// why the other builds' stubs never run.
	why string
}

var parts = map[string]part{
	"avx2": {emit: avx2Part, why: "The avx2 kernels' Available() fails in these builds, and Prepare with it.",
		consts: []gen.Const{{Name: "chunkCols", Value: fmt.Sprint(chunkCols),
			Doc: "chunkCols is the number of columns one chunk of codes covers in the avx2\nlayouts (32 bytes in avx2-i8's, 64 in avx2-f32's); the kernels compute\nceil(cols/128) chunks per row."}}},
	"quant": {emit: quantPart, why: "quantizeI8 never calls them here: quantAsm is false (need fails\nwithout asmBuilt)."},
	"avx2lut": {emit: avx2lutPart, why: "avx2lut-i8's Available() fails in these builds, and Prepare with it.",
		consts: []gen.Const{
			{Name: "a2Pairs", Value: fmt.Sprint(a2Pairs), Doc: "a2Pairs is the number of table pairs (Tu, Ts; 8 columns each) per pass."},
			{Name: "a2Halves", Value: fmt.Sprint(a2Halves), Doc: "a2Halves is the number of 8-row index vectors per block and table pair."},
			{Name: "a2Period", Value: fmt.Sprint(a2Period), Doc: "a2Period is the number of plane passes summed in int16 before widening."},
			{Name: "a2Slot", Value: fmt.Sprint(a2Slot), Doc: "a2Slot is the number of table bytes per table pair: E, Tu and Ts, 32 each."},
			{Name: "a2Digits", Value: a2DigitsLiteral(), Var: true,
				Doc: "a2Digits lists the eight nonzero digit pairs (d0, d1) in the order of\ntheir table entries (index byte 8h + entry)."},
		}},
	"avx512": {emit: avx512Part, why: "The AVX-512 kernels' Available() fails in these builds (need fails on\nasmBuilt), and Prepare with it.",
		consts: []gen.Const{
			{Name: "lutSets", Value: fmt.Sprint(lutSets), Doc: "lutSets is the number of 32-row word vectors per avx512lut-i8 row block."},
			{Name: "lut3PeriodWords", Value: fmt.Sprint(lut3PeriodWords), Doc: "lut3PeriodWords is the number of base-3 words (3 lookups each) whose int16\nsums cannot overflow for any codebook (36 lookups of at most 762); column\nchunks are whole periods, and codebooks with every |value| <= 1 sum two\nperiods before widening."},
		}},
}

func main() {
	name := flag.String("part", "", "the part to generate: "+strings.Join(partNames(), ", "))
	dir := flag.String("dir", "../amd64", "the package directory to write into")
	flag.Parse()
	p, ok := parts[*name]
	if !ok {
		log.Fatalf("amd64: -part %q: want one of %s", *name, strings.Join(partNames(), ", "))
	}
	base := filepath.Join(*dir, *name)
	ConstraintExpr("amd64,!purego")
	p.emit()
	for f, v := range map[string]string{"out": base + "_amd64.s", "stubs": base + "_stubs_amd64.go", "pkg": "amd64"} {
		if err := flag.Set(f, v); err != nil {
			log.Fatal(err)
		}
	}
	Generate()
	header := gen.Header("go run ./amd64 -part " + *name)
	for _, f := range []string{base + "_amd64.s", base + "_stubs_amd64.go"} {
		if err := gen.Reheader(f, header); err != nil {
			log.Fatal(err)
		}
	}
	funcs, err := gen.StubFuncs(base + "_stubs_amd64.go")
	if err != nil {
		log.Fatal(err)
	}
	if err := gen.OtherStubs(base+"_stubs_other.go", header, "amd64", "!amd64 || purego", p.why, funcs); err != nil {
		log.Fatal(err)
	}
	if len(p.consts) > 0 {
		doc := fmt.Sprintf("The layout that %s_amd64.s assumes, from its generator.", *name)
		if err := gen.Consts(base+"_consts.go", header, "amd64", doc, p.consts); err != nil {
			log.Fatal(err)
		}
	}
}

func partNames() []string {
	var names []string
	for n := range parts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
