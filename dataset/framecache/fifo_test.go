//go:build unix

package framecache

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A named pipe where an entry should be is a miss, not a hang: opening it for reading would
// wait forever for a writer (issue 18: only regular files are read).
func TestGetOfANamedPipeIsAMiss(t *testing.T) {
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	k := NewKey([]byte("a photo"), "settings")
	if err := os.MkdirAll(filepath.Dir(c.path(k)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(c.path(k), 0o644); err != nil {
		t.Skip(err)
	}
	done := make(chan bool, 1)
	go func() {
		_, _, ok := c.Get(k, 32)
		done <- ok
	}()
	select {
	case ok := <-done:
		if ok {
			t.Error("Get of a named pipe gave a picture")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Get of a named pipe hangs")
	}
}
