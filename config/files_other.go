//go:build !unix

package config

import (
	"os"
)

// openNonBlocking opens path after checking that it is a regular file: without O_NONBLOCK, a
// stat first is what keeps the open from waiting on a pipe. readFile checks the open file again.
func openNonBlocking(path string) (*os.File, error) {
	if err := statFile(path); err != nil {
		return nil, err
	}
	return os.Open(path)
}
