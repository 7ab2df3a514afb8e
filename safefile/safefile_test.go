package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCheckOutput(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	photo := filepath.Join(data, "Arin", "0000.jpg")
	os.MkdirAll(filepath.Dir(photo), 0o755)
	os.WriteFile(photo, []byte("a photo"), 0o644)
	mine := filepath.Join(dir, "mine.out")
	os.WriteFile(mine, []byte("MINE"), 0o644)
	theirs := filepath.Join(dir, "theirs.out")
	os.WriteFile(theirs, []byte("someone else's"), 0o644)
	kind := Kind{Name: "thing", Made: func(p string) bool { return string(ReadHead(p, 4)) == "MINE" }}
	in := Input{Path: data, Flag: "--data"}

	for _, c := range []struct {
		path  string
		force bool
		want  error // nil: allowed
	}{
		{filepath.Join(dir, "new.out"), false, nil},
		{mine, false, nil},
		{theirs, false, ErrExists},
		{theirs, true, nil},
		{photo, false, ErrInput},
		{photo, true, ErrInput}, // an input is never replaced, even with force
		{filepath.Join(data, "Arin", "model.out"), true, ErrInput},
		{filepath.Join(dir, ".", "data", "..", "data", "x"), false, ErrInput},
	} {
		err := CheckOutput(c.path, kind, c.force, in)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("CheckOutput(%s, force=%v) = %v, want %v", c.path, c.force, err, c.want)
		}
		if err != nil && !strings.Contains(err.Error(), c.path) {
			t.Errorf("error %q does not name %s", err, c.path)
		}
	}
	if err := CheckOutput(data, kind, true); err == nil || !strings.Contains(err.Error(), "folder") {
		t.Errorf("a folder as the output: %v", err)
	}
	// The input is the same file under another name: a symbolic link to it.
	link := filepath.Join(dir, "link.jpg")
	if err := os.Symlink(photo, link); err != nil {
		t.Skip(err)
	}
	if err := CheckOutput(photo, kind, true, Input{Path: link, Flag: "PHOTO"}); !errors.Is(err, ErrInput) {
		t.Errorf("output through a link to the input: %v", err)
	}
}

// Lock excludes a second holder until the first releases it, within one process as between
// two (flock locks belong to the open file).
func TestLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g")
	var mu sync.Mutex
	inside, most := 0, 0
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			unlock, err := Lock(path)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			inside++
			most = max(most, inside)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			inside--
			mu.Unlock()
			unlock()
		})
	}
	wg.Wait()
	if most != 1 && lockWorks {
		t.Errorf("%d holders at once, want 1", most)
	}

	unlock, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryLock(path); lockWorks && !errors.Is(err, ErrLocked) {
		t.Errorf("TryLock of a held lock: %v, want ErrLocked", err)
	}
	unlock()
	again, err := TryLock(path)
	if err != nil {
		t.Errorf("TryLock after release: %v", err)
	} else {
		again()
	}
}
