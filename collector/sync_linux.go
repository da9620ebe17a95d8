package collector

import (
	"os"
	"syscall"
)

// fdatasync makes appended data durable without also flushing metadata that does not matter for
// reading it back (the file's times); the size change is flushed, as fdatasync(2) requires.
func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
