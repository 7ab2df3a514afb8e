//go:build unix

package safefile

import (
	"os"
	"syscall"
)

// lockFile takes flock's exclusive lock, waiting for it or, without wait, returning ErrLocked
// when it is held. flock locks belong to the open file, so two opens in one process exclude
// each other as two processes do.
func lockFile(f *os.File, wait bool) error {
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	for {
		err := syscall.Flock(int(f.Fd()), how)
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EWOULDBLOCK:
			return ErrLocked
		}
		return err
	}
}

func unlockFile(f *os.File) { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
