// Command probe generates the loops that `qkbench machine` times to find
// the machine's read bandwidth, int8 MAC and f32 FMA peaks and clock
// (package bench/probe), one architecture per run:
//
//	-arch amd64: probe_amd64.s and probe_stubs_amd64.go (avo)
//	-arch arm64: probe_arm64.s and probe_stubs_arm64.go (SDOT as WORDs from
//	             internal/arm64asm)
//
// and probe_consts.go, the block size every read loop covers. Every compute
// loop returns the number of operations it did (MACs, FMAs or adds), so the
// unroll factors live here only and the Go side cannot disagree with them.
// go generate in bench/probe runs both:
//
//	cd kernels/_gen && go run ./probe -arch arm64
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	. "github.com/mmcloughlin/avo/build"

	"github.com/qkbench/qkbench/kernels/_gen/internal/gen"
)

// readBlock is the number of bytes one iteration of a read loop loads
// (exported to probe_consts.go).
const readBlock = 1024

func main() {
	arch := flag.String("arch", "", "amd64 or arm64")
	dir := flag.String("dir", "../../bench/probe", "the package directory to write into")
	flag.Parse()
	header := gen.Header("go run ./probe -arch " + *arch)
	asm, stubs := filepath.Join(*dir, "probe_"+*arch+".s"), filepath.Join(*dir, "probe_stubs_"+*arch+".go")
	switch *arch {
	case "amd64":
		ConstraintExpr("amd64,!purego")
		amd64Part()
		for f, v := range map[string]string{"out": asm, "stubs": stubs, "pkg": "probe"} {
			if err := flag.Set(f, v); err != nil {
				log.Fatal(err)
			}
		}
		Generate()
		for _, f := range []string{asm, stubs} {
			if err := gen.Reheader(f, header); err != nil {
				log.Fatal(err)
			}
		}
	case "arm64":
		text, funcs := arm64Part(header)
		if err := os.WriteFile(asm, text, 0o644); err != nil {
			log.Fatal(err)
		}
		if err := gen.Stubs(stubs, header, "probe", "arm64 && !purego", funcs); err != nil {
			log.Fatal(err)
		}
	default:
		log.Fatalf("probe: -arch %q: want amd64 or arm64", *arch)
	}
	consts := []gen.Const{{Name: "readBlock", Value: fmt.Sprint(readBlock),
		Doc: "readBlock is the byte count one iteration of every read loop covers; read\nsizes are rounded to it."}}
	if err := gen.Consts(filepath.Join(*dir, "probe_consts.go"), gen.Header("go run ./probe"), "probe",
		"The read loops' block, from the probe generator.", consts); err != nil {
		log.Fatal(err)
	}
}
