//go:build !unix

package gguf

import (
	"errors"
	"os"
)

// mmapFile is not available here: Open reads through ReadAt instead.
func mmapFile(f *os.File, size int64) ([]byte, func() error, error) {
	return nil, nil, errors.New("gguf: no mmap on this OS")
}
