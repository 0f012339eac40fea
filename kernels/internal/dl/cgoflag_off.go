//go:build !cgo

package dl

const cgoEnabled = false
