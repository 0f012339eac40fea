//go:build !amd64 || purego

package amd64

const asmBuilt = false
