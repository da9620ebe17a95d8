//go:build unix

package config

import (
	"os"
	"syscall"
)

// openNonBlocking opens path for reading without waiting for a writer: opening a named pipe
// blocks until someone writes to it, which would hang check-config past SIGTERM. The flag does
// not change reads of regular files, the only kind readFile goes on to read.
func openNonBlocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
