// Command qkbench lists, checks and benchmarks QK256 GEMV kernels.
package main

import (
	"fmt"
	"os"

	"github.com/qkbench/qkbench/kernels"
	_ "github.com/qkbench/qkbench/kernels/all"
)

func main() {
	for _, k := range kernels.List() {
		fmt.Println(k.Info().ID)
	}
	os.Exit(0)
}
