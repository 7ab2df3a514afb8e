//go:build unix

package safefile

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lockWorks: flock exists here.
const lockWorks = true

// A named pipe is refused without opening it: opening it for reading would wait forever for
// a writer.
func TestOpenRefusesANamedPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "photo.jpg")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := ReadFile(fifo)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "named pipe") || !strings.Contains(err.Error(), fifo) {
			t.Errorf("ReadFile(fifo) = %v, want a named-pipe error naming it", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadFile of a named pipe hangs")
	}
	if got := ReadHead(fifo, 4); got != nil {
		t.Errorf("ReadHead(fifo) = %q", got)
	}
}
