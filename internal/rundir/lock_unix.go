//go:build unix

package rundir

import (
	"os"
	"syscall"
)

// lock takes an exclusive, non-blocking advisory lock on the open folder.
func lock(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) }
