//go:build !unix

package rundir

import "os"

// lock does nothing where there is no flock: unique default names still
// keep runs apart, a folder the user names twice is not guarded.
func lock(*os.File) error { return nil }
