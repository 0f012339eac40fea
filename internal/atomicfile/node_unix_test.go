//go:build unix

package atomicfile

import "syscall"

// mknodNull makes a character device node like /dev/null (1, 3): root only.
func mknodNull(path string) error {
	return syscall.Mknod(path, syscall.S_IFCHR|0o666, 1<<8|3)
}

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o644) }
