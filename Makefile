# qkbench. Quick start: `make sweep` runs the main job, `make test` the tests.
GO ?= go
QEMU ?= qemu-aarch64-static
# The amd64 kernels on a CPU with AVX2 and without AVX-512: QEMU user
# emulation of a Haswell (test-haswell).
QEMU_X86 ?= qemu-x86_64-static -cpu Haswell
# Kernels that must run there.
HASWELL_REQUIRE ?= avx2-f32,avx2-i8,avx2lut-i8
# Flags for qkbench sweep (its default codebook is ternary, what BitNet
# models hold and what the ggml peers compute).
SWEEP_FLAGS ?=
# Go's SIMD experiment, so that archsimd-i8 (simd/archsimd) takes part in the
# sweep and the tests next to the assembly; set it empty to build without.
SIMD ?= GOEXPERIMENT=simd
# Kernels that test-simd must find usable (CI sets archsimd-i8), added to
# QKBENCH_REQUIRE.
SIMD_REQUIRE ?=

# Kernel plugins (include/qkbench_kernel.h) that make test loads through
# QKBENCH_PLUGINS, so that the conformance suite over the registry covers
# them: the example of examples/plugin-c and, on x86-64, c-i2s-i8's C code
# built as a plugin (plugin-i2s-i8).
CC ?= cc
PLUGIN_EXAMPLE := examples/plugin-c/libqkbench-example.so
PLUGIN_I2S := peers/libqkbench-i2s.so
TEST_PLUGINS := $(abspath $(PLUGIN_EXAMPLE))$(if $(filter amd64,$(shell $(GO) env GOARCH)),:$(abspath $(PLUGIN_I2S)))


.PHONY: test test-arm64 test-simd bench vet fmt generate check-generate peers sweep check build gate plugins $(PLUGIN_EXAMPLE)
.PHONY: test-haswell test-gen test-bigendian

# The regression gate: make gate BASE=main (head: the working tree). Both
# builds use $(SIMD), as the sweep does; GATE_FLAGS adds gate flags.
BASE ?=
GATE_FLAGS ?=

build:
	$(GO) build -o qkbench ./cmd/qkbench

# The main job: every kernel on the default preset, written to reports/runs/.
sweep:
	@bash kernels/cgo/peers.sh || echo "qkbench: the ggml peers could not be fetched; the sweep goes on without them"
	$(SIMD) $(GO) run ./cmd/qkbench sweep $(SWEEP_FLAGS)

check:
	$(GO) run ./cmd/qkbench check --shapes 2048x4096,67x3200,3x1

gate:
	@if [ -z "$(BASE)" ]; then echo "make gate BASE=<revision>: the revision to compare the working tree against"; exit 2; fi
	@bash kernels/cgo/peers.sh || echo "qkbench: the ggml peers could not be fetched; the gate goes on without them"
	$(SIMD) $(GO) run ./cmd/qkbench gate --base $(BASE) $(GATE_FLAGS)

test: vet plugins
	QKBENCH_PLUGINS=$(TEST_PLUGINS) $(GO) test -race ./...
	$(MAKE) --no-print-directory test-gen
	$(MAKE) --no-print-directory test-simd
	$(MAKE) --no-print-directory test-haswell
	$(MAKE) --no-print-directory test-arm64
	$(MAKE) --no-print-directory test-bigendian

# archsimd-i8 exists only under Go's SIMD experiment: vet everything and run
# the amd64 kernels and the benchmark engine again in that build.
test-simd:
	@if [ "$$($(GO) env GOARCH)" = amd64 ] && [ -n "$(SIMD)" ]; then \
		echo "$(SIMD) go test"; \
		$(SIMD) $(GO) vet ./... && \
		QKBENCH_PLUGINS=$(TEST_PLUGINS) QKBENCH_REQUIRE="$$QKBENCH_REQUIRE,$(SIMD_REQUIRE)" $(SIMD) $(GO) test -race -count=1 ./kernels/all/ ./kernels/amd64/ ./bench/...; \
	else \
		echo "skipping the GOEXPERIMENT=simd tests (not amd64, or SIMD is empty)"; \
	fi

# The portable and NEON kernels on arm64 under QEMU user emulation, when it
# is installed (apt-get install qemu-user-static): a CPU with dotprod (every
# NEON kernel must run) and a Cortex-A53 without it (neondot-i8 must say so).
test-arm64:
	@if command -v $(QEMU) >/dev/null 2>&1; then \
		echo "GOARCH=arm64 go test under $(QEMU)"; \
		QKBENCH_REQUIRE=neon-f32,neondot-i8,neon-i8 QEMU_CPU=max GOARCH=arm64 CGO_ENABLED=0 \
			$(GO) test -count=1 -exec $(QEMU) ./kernels/... ./workloads/... ./bench/probe/ && \
		QKBENCH_REQUIRE=neon-f32,neon-i8 QEMU_CPU=cortex-a53 GOARCH=arm64 CGO_ENABLED=0 \
			$(GO) test -count=1 -exec $(QEMU) ./kernels/all/ ./kernels/arm64/... ./bench/probe/; \
	else \
		echo "skipping arm64 tests: $(QEMU) is not installed (apt-get install qemu-user-static)"; \
	fi

# The amd64 kernels under QEMU user emulation of a Haswell (AVX2, no
# AVX-512; TCG has no AVX-512 at all), when it is installed: the package's
# tests and the conformance suite of its kernels (kernels/all). The AVX2
# kernels must run (HASWELL_REQUIRE), the AVX-512 kernels must say they are
# unavailable, and an AVX-512 instruction must fault (TestEmulatedCPU), so
# one in an AVX2 kernel would crash its tests.
test-haswell:
	@if [ "$$($(GO) env GOARCH)" != amd64 ]; then \
		echo "skipping the Haswell tests: GOARCH is not amd64"; \
	elif command -v $(firstword $(QEMU_X86)) >/dev/null 2>&1; then \
		echo "go test ./kernels/amd64/ under $(QEMU_X86)"; \
		QKBENCH_REQUIRE=$(HASWELL_REQUIRE) QKBENCH_EMULATOR="$(QEMU_X86)" \
			$(GO) test -count=1 -exec "$(QEMU_X86)" ./kernels/amd64/ && \
		QKBENCH_REQUIRE=$(HASWELL_REQUIRE) $(GO) test -count=1 -exec "$(QEMU_X86)" \
			-run '^TestRequired$$|^TestConformance$$/^(avx2|avx512|archsimd)' ./kernels/all/; \
	else \
		echo "skipping the Haswell tests: $(firstword $(QEMU_X86)) is not installed (apt-get install qemu-user-static)"; \
	fi

# The portable kernels on a big-endian CPU (s390x under QEMU): go-i8 adds
# its int32 table entries two to a uint64.
test-bigendian:
	@if command -v qemu-s390x-static >/dev/null 2>&1; then \
		echo "GOARCH=s390x go test ./kernels/scalar/ under qemu-s390x-static"; \
		GOARCH=s390x CGO_ENABLED=0 $(GO) test -count=1 -short -exec qemu-s390x-static ./kernels/scalar/; \
	else \
		echo "skipping the big-endian tests: qemu-s390x-static is not installed (apt-get install qemu-user-static)"; \
	fi

bench:
	$(GO) test -run '^$$' -bench GEMV ./bench/

# The assembly generators' module (kernels/_gen: avo, the arm64 encoder).
test-gen:
	cd kernels/_gen && $(GO) vet ./... && $(GO) test -count=1 ./...

vet:
	$(GO) vet ./...
	GOARCH=arm64 CGO_ENABLED=0 $(GO) vet ./...
	$(GO) vet -tags purego ./...
	CGO_ENABLED=0 $(GO) build ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# llama.cpp's prebuilt ggml CPU backends (npm package, no install scripts run)
# for the ggml-tq2_0-* peer kernels; they land in peers/, which git ignores.
peers:
	@bash kernels/cgo/peers.sh

plugins: $(PLUGIN_EXAMPLE) $(if $(filter amd64,$(shell $(GO) env GOARCH)),$(PLUGIN_I2S))

$(PLUGIN_EXAMPLE):
	@$(MAKE) --no-print-directory -C examples/plugin-c CC=$(CC)

# c-i2s-i8's own C code as a plugin: with --plugin peers/libqkbench-i2s.so a
# sweep times plugin-i2s-i8 next to c-i2s-i8 (what the plugin ABI costs).
$(PLUGIN_I2S): kernels/cgo/i2s.c kernels/cgo/i2s.h kernels/plugin/testdata/i2s.c include/qkbench_kernel.h
	@mkdir -p peers
	$(CC) -O3 -shared -fPIC -Iinclude -Ikernels/cgo -o $@ kernels/cgo/i2s.c kernels/plugin/testdata/i2s.c -lm

# Regenerate every assembly file with its stubs and constants (the commands
# of the generator module kernels/_gen, run by go generate); check-generate
# fails when the committed files differ, or when a .s or stub file is not
# generated at all.
GENERATED = '*.s' '*stubs*.go' '*_consts.go'

generate:
	$(GO) generate ./...

check-generate: generate
	@git diff --exit-code -- $(GENERATED) || { echo "generated files differ from the committed ones: run make generate and commit"; exit 1; }
	@if [ -n "$$(git status --porcelain --untracked-files=all -- $(GENERATED))" ]; then echo "make generate wrote files that are not committed:"; git status --short -- $(GENERATED); exit 1; fi
	@hand=$$(for f in $$(git ls-files $(GENERATED)); do head -1 "$$f" | grep -q '^// Code generated .* DO NOT EDIT\.$$' || echo "$$f"; done); \
		if [ -n "$$hand" ]; then echo "not generated (no \"Code generated ... DO NOT EDIT.\" line; write them from kernels/_gen):"; echo "$$hand"; exit 1; fi
