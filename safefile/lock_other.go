//go:build !unix

package safefile

import "os"

// Systems without flock get no inter-process lock: concurrent updates of one gallery are
// then the user's to avoid.
func lockFile(*os.File, bool) error { return nil }

func unlockFile(*os.File) {}
