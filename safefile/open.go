// Package safefile holds the file-system rules every vgg command shares: read only regular
// files (a named pipe, a device or a socket given as a photo would block the program forever
// in open), never write over an input or over a file vgg did not make (CheckOutput), take an
// OS lock on a file that several processes may update at once (Lock), and print names that
// come from the file system or the user with their control characters escaped (Printable).
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular says a path is not a regular file: a named pipe, a device, a socket.
var ErrNotRegular = errors.New("not a regular file")

// notRegularError names what the file is instead ("a named pipe, not a regular file") and
// matches ErrNotRegular under errors.Is.
type notRegularError struct{ what string }

func (e *notRegularError) Error() string { return e.what + ", not a regular file" }
func (e *notRegularError) Unwrap() error { return ErrNotRegular }

// CheckRegular returns nil for a regular file and otherwise says what the mode is.
func CheckRegular(mode fs.FileMode) error {
	if mode.IsRegular() {
		return nil
	}
	return &notRegularError{what: describe(mode)}
}

func describe(mode fs.FileMode) string {
	switch {
	case mode.IsDir():
		return "a folder"
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode&fs.ModeDevice != 0:
		return "a device"
	case mode&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return fmt.Sprintf("a special file (%v)", mode.Type())
}

// Open opens a regular file for reading, following symbolic links. Anything else is refused
// before it is opened, with an *fs.PathError wrapping ErrNotRegular: opening a named pipe for
// reading waits for a writer that may never come, and no Ctrl-C handler can interrupt that.
func Open(path string) (*os.File, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := CheckRegular(info.Mode()); err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	// The path could have been swapped between Stat and Open; the open file is what counts.
	if info, err = f.Stat(); err == nil {
		err = CheckRegular(info.Mode())
	}
	if err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return f, nil
}

// ReadFile is os.ReadFile for regular files only (see Open).
func ReadFile(path string) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// ReadHead returns up to n bytes from the start of the regular file at path, for recognising
// a file by its content; an unreadable or special file gives nil.
func ReadHead(path string, n int) []byte {
	f, err := Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	buf := make([]byte, n)
	k, _ := io.ReadFull(f, buf)
	return buf[:k]
}
