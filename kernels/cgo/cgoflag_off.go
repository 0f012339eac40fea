//go:build !cgo

package cgo

const cgoEnabled = false
