// Package smallfile reads files that must be small regular files (receipts,
// caches): a symlink to /dev/zero, a FIFO or a multi-GB file is an error,
// never an unbounded read or a read that waits forever.
package smallfile

import (
	"fmt"
	"io"
	"os"
)

// Read returns the contents of path, which must be a regular file of at most
// limit bytes.
func Read(path string, limit int64) ([]byte, error) {
	// Stat before opening: opening a FIFO for reading waits for a writer.
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%v)", path, st.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%v)", path, st.Mode().Type())
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s has %d bytes, more than the %d expected at most", path, st.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s grew past %d bytes while read", path, limit)
	}
	return b, nil
}
