package safefile

import (
	"errors"
	"fmt"
	"os"
)

// LockSuffix names the lock file of a path: "model.gallery" is locked through
// "model.gallery.lock". The lock file stays after use (removing it would race with a
// process waiting on it); it is empty and harmless.
const LockSuffix = ".lock"

// Lock takes an exclusive OS lock for path, waiting while another process (or goroutine)
// holds it, and returns the function that releases it. A process that dies releases its
// lock. Use it around read-modify-write of a file that several commands may update at once,
// and read the file again once the lock is held: what was read before may be stale.
//
// Where the system has no flock (see lock_other.go) Lock only creates the lock file and
// excludes nothing.
func Lock(path string) (unlock func(), err error) { return lock(path, true) }

// ErrLocked says another process holds the lock TryLock asked for.
var ErrLocked = errors.New("another vgg process is writing it")

// TryLock is Lock for work too long to wait for (a training run): when another holder has
// the lock it returns at once with an error wrapping ErrLocked. Its unlock removes the lock
// file, then releases the lock, so a run leaves nothing behind: since nobody waits on a
// TryLock, whoever opened the old file meanwhile finds it still held and stops, and whoever
// comes later makes a new one.
func TryLock(path string) (unlock func(), err error) { return lock(path, false) }

func lock(path string, wait bool) (unlock func(), err error) {
	f, err := os.OpenFile(path+LockSuffix, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot lock %s: %w", path, err)
	}
	if err := lockFile(f, wait); err != nil {
		f.Close()
		if errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("%s: %w; wait for it to finish", path, ErrLocked)
		}
		return nil, fmt.Errorf("cannot lock %s: %w", path, err)
	}
	return func() {
		if !wait {
			os.Remove(f.Name())
		}
		unlockFile(f)
		f.Close()
	}, nil
}
