//go:build unix

package safefile

import (
	"os"
	"syscall"
)

// lockFile takes flock's exclusive lock. flock locks belong to the open file, so two opens
// in one process exclude each other as two processes do.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}

func unlockFile(f *os.File) { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
