# qkbench: `make test` runs every test; `make sweep` the main job.
GO ?= go
QEMU ?= qemu-aarch64-static

.PHONY: test test-arm64 bench vet fmt generate check-generate peers sweep

test: vet
	$(GO) test -race ./...
	$(MAKE) --no-print-directory test-arm64

# The portable kernels and the generators again on arm64, under QEMU user
# emulation when it is installed (apt-get install qemu-user-static).
test-arm64:
	@if command -v $(QEMU) >/dev/null 2>&1; then \
		echo "GOARCH=arm64 go test under $(QEMU)"; \
		GOARCH=arm64 CGO_ENABLED=0 $(GO) test -short -exec $(QEMU) ./kernels/... ./workloads/...; \
	else \
		echo "skipping arm64 tests: $(QEMU) is not installed (apt-get install qemu-user-static)"; \
	fi

bench:
	$(GO) test -run '^$$' -bench . ./bench/

vet:
	$(GO) vet ./...
	GOARCH=arm64 CGO_ENABLED=0 $(GO) vet ./...
	$(GO) vet -tags purego ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# Regenerate the avo assembly; check-generate fails when the committed files differ.
generate:
	$(GO) generate ./...

check-generate: generate
	git diff --exit-code -- '*.s' '*_amd64.go'
