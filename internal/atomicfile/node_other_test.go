//go:build !unix

package atomicfile

import "errors"

func mknodNull(string) error { return errors.New("no device nodes here") }

func mkfifo(string) error { return errors.New("no FIFOs here") }
