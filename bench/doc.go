// Package bench times QK256 GEMV kernels: a threaded Runner (rows split into
// cache-line-aligned ranges, one persistent worker per thread), the
// BenchmarkGEMV benchmarks over every registered kernel, the sweep engine
// behind `qkbench sweep` (Sweep: agreement first, calibrated samples
// interleaved round-robin, hot or cold, roofline floors from bench/probe),
// and the machine description that goes into receipts.
//
// BenchmarkGEMV is configured by environment variables:
//
//	QKBENCH_PRESET=default      workloads preset (or QKBENCH_SHAPES=2048x4096,640x2560)
//	QKBENCH_THREADS=1,2         thread counts (default 1; "max" is NumCPU)
//	QKBENCH_CODEBOOK=ternary    ternary (the default), qk256 or four integers in [-2, 2]
//	QKBENCH_KERNELS=ref-i8,...  only these kernels (default every registered kernel)
//	QKBENCH_SEED=42             workload seed
//	QKBENCH_REQUIRE=id,...      these kernels must run: unavailable is a failure
//	QKBENCH_PLUGINS=a.so:b.so   load the kernels of these plugins (include/qkbench_kernel.h) first
//
// Each benchmark is named kernel=<id>/shape=<rows>x<cols>/threads=<n>/mode=hot,
// as a sweep's results.txt names the cell, and the test binary first prints
// the configuration lines a results.txt starts with, so that one benchstat
// command compares go test's results with a sweep's. Each benchmark checks
// the kernel's output against the references before timing it.
package bench
