GO ?= go

.PHONY: test bench vet fmt

test: vet
	$(GO) test -race ./...

bench:
	$(GO) test -run '^$$' -bench . ./bench/

vet:
	$(GO) vet ./...
	GOARCH=arm64 CGO_ENABLED=0 $(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')
