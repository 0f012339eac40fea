//go:build !arm64 || purego

package arm64

const asmBuilt = false
