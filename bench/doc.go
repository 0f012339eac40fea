// Package bench holds the go test benchmarks (BenchmarkGEMV) and, later, the
// sweep engine behind `qkbench sweep`.
package bench
