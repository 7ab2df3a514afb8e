package framecache

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"image"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vgglab/vgg/vision/synth"
)

func picture(id, size int) *image.RGBA { return synth.Render(1, id, 0, size) }

func TestPutThenGetGivesTheSamePictureAndRemark(t *testing.T) {
	c, err := Open(filepath.Join(t.TempDir(), "frames"))
	if err != nil {
		t.Fatal(err)
	}
	k := NewKey([]byte("photo bytes"), "size 32")
	if _, _, ok := c.Get(k, 32); ok {
		t.Fatal("an empty cache has an entry")
	}
	want := picture(0, 32)
	if err := c.Put(k, want, "no face found: centre square used"); err != nil {
		t.Fatal(err)
	}
	got, remark, ok := c.Get(k, 32)
	if !ok || !bytes.Equal(got.Pix, want.Pix) || got.Rect != want.Rect || remark != "no face found: centre square used" {
		t.Fatalf("Get after Put: ok %v, remark %q, same pixels %v", ok, remark, ok && bytes.Equal(got.Pix, want.Pix))
	}
	// An entry of another size is a miss, whatever its key says.
	if _, _, ok := c.Get(k, 64); ok {
		t.Error("a 32-pixel entry was returned for 64 pixels")
	}
}

// A change of the photo's bytes or of any setting is another key.
func TestKeysDifferByContentAndSettings(t *testing.T) {
	base := NewKey([]byte("photo"), "framing a; size 64")
	for name, k := range map[string]Key{
		"content":  NewKey([]byte("photO"), "framing a; size 64"),
		"settings": NewKey([]byte("photo"), "framing a; size 65"),
		// The boundary between settings and content must not be movable.
		"shifted": NewKey([]byte("o"), "framing a; size 64phot"),
	} {
		if k == base {
			t.Errorf("a change of %s gives the same key", name)
		}
	}
	if NewKey([]byte("photo"), "framing a; size 64") != base {
		t.Error("the same photo and settings give two keys")
	}
}

// A damaged or cut entry reads as a miss, never as a wrong picture, and Put replaces it.
func TestDamagedEntryIsAMissAndIsReplaced(t *testing.T) {
	c, _ := Open(t.TempDir())
	k := NewKey([]byte("photo"), "s")
	want := picture(1, 24)
	if err := c.Put(k, want, "remark"); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(c.path(k))
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(whole)
	flipped[len(flipped)/2] ^= 0x10
	for name, data := range map[string][]byte{
		"empty":             {},
		"cut in the header": whole[:10],
		"cut in the PNG":    whole[:len(whole)/2],
		"without checksum":  whole[:len(whole)-4],
		"one bit flipped":   flipped,
		"another's key":     entryWithKey(t, NewKey([]byte("other"), "s"), want),
	} {
		if err := os.WriteFile(c.path(k), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, ok := c.Get(k, 24); ok {
			t.Errorf("%s: Get returned a picture", name)
		}
		if err := c.Put(k, want, "remark"); err != nil {
			t.Fatalf("%s: Put over it: %v", name, err)
		}
		if got, _, ok := c.Get(k, 24); !ok || !bytes.Equal(got.Pix, want.Pix) {
			t.Errorf("%s: not replaced by Put", name)
		}
	}
}

func entryWithKey(t *testing.T, k Key, img *image.RGBA) []byte {
	data, err := encodeEntry(k, img, "")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The folder may be deleted while a program uses it: Put makes it again.
func TestCacheFolderDeletedWhileInUse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "frames")
	c, _ := Open(dir)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	k := NewKey([]byte("photo"), "s")
	if _, _, ok := c.Get(k, 16); ok {
		t.Fatal("hit in a deleted folder")
	}
	if err := c.Put(k, picture(2, 16), ""); err != nil {
		t.Fatalf("Put after the folder was deleted: %v", err)
	}
	if _, _, ok := c.Get(k, 16); !ok {
		t.Error("miss after Put")
	}
}

func TestTransparentPictureIsNotStored(t *testing.T) {
	c, _ := Open(t.TempDir())
	img := picture(3, 16)
	img.Pix[3] = 128
	if err := c.Put(NewKey(nil, ""), img, ""); err != ErrNotOpaque {
		t.Errorf("Put of a transparent picture: %v, want ErrNotOpaque", err)
	}
}

// Writers of the same entries and readers at once: a reader sees no entry or a whole one,
// never a damaged file under an entry's name, and every entry ends up whole.
func TestConcurrentWritersAndReaders(t *testing.T) {
	c, _ := Open(t.TempDir())
	const photos, writers = 12, 4
	keys := make([]Key, photos)
	want := make([]*image.RGBA, photos)
	for i := range photos {
		keys[i] = NewKey([]byte{byte(i)}, "s")
		want[i] = picture(i, 20)
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*photos*2)
	for w := range writers {
		wg.Go(func() {
			for i := range photos {
				if err := c.Put(keys[(i+w)%photos], want[(i+w)%photos], fmt.Sprint("remark ", (i+w)%photos)); err != nil {
					errs <- err
				}
			}
		})
		wg.Go(func() {
			for i := range photos {
				data, err := os.ReadFile(c.path(keys[i]))
				if err != nil {
					continue // not written yet
				}
				if got, _, err := decodeEntry(data, keys[i]); err != nil || !bytes.Equal(got.Pix, want[i].Pix) {
					errs <- fmt.Errorf("entry %d read while written: %v", i, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range photos {
		got, remark, ok := c.Get(keys[i], 20)
		if !ok || !bytes.Equal(got.Pix, want[i].Pix) || remark != fmt.Sprint("remark ", i) {
			t.Errorf("entry %d after the writers: ok %v, remark %q", i, ok, remark)
		}
	}
}

// A process killed while it writes entries leaves only whole entries under entries' names
// (perhaps a temporary file beside them, which is never read), and another process can go on
// using the cache.
func TestKilledWriterLeavesNoBrokenEntry(t *testing.T) {
	if dir := os.Getenv("FRAMECACHE_TEST_WRITER"); dir != "" {
		writeForever(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriterLeavesNoBrokenEntry$")
	cmd.Env = append(os.Environ(), "FRAMECACHE_TEST_WRITER="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once it has written a few entries, most likely in the middle of another.
	deadline := time.Now().Add(20 * time.Second)
	for countEntries(t, dir) < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if countEntries(t, dir) < 5 {
		t.Fatalf("the writer wrote no entries: %s", out.String())
	}
	c, _ := Open(dir)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(path, ".frame") || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var k Key
		name := filepath.Base(filepath.Dir(path)) + strings.TrimSuffix(d.Name(), ".frame")
		if n, err := hex.Decode(k[:], []byte(name)); err != nil || n != len(k) {
			t.Errorf("%s: not an entry's name", path)
		}
		if _, _, err := decodeEntry(data, k); err != nil {
			t.Errorf("%s: %v after the writer was killed", path, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// And the cache still works for the next process.
	k := NewKey([]byte("after"), "s")
	if err := c.Put(k, picture(0, 32), ""); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := c.Get(k, 32); !ok {
		t.Error("miss after the writer was killed")
	}
}

// writeForever is the killed writer's work: entries as fast as it can write them.
func writeForever(dir string) {
	c, err := Open(dir)
	if err != nil {
		panic(err)
	}
	img := picture(0, 96) // large enough that a write takes a while
	for i := 0; ; i++ {
		if err := c.Put(NewKey([]byte(fmt.Sprint(i)), "s"), img, "r"); err != nil {
			panic(err)
		}
	}
}

func countEntries(t *testing.T, dir string) int {
	n := 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".frame") && !strings.HasPrefix(d.Name(), ".") {
			n++
		}
		return nil
	})
	return n
}

func TestDefaultDirFollowsTheEnvironment(t *testing.T) {
	t.Setenv(EnvVar, "/somewhere/vgg-cache")
	if dir, err := DefaultDir(); err != nil || dir != filepath.Join("/somewhere/vgg-cache", "frames") {
		t.Errorf("DefaultDir with %s set = %q, %v", EnvVar, dir, err)
	}
	t.Setenv(EnvVar, "")
	base, err := os.UserCacheDir()
	if err != nil {
		t.Skip("no user cache folder here")
	}
	if dir, err := DefaultDir(); err != nil || dir != filepath.Join(base, "vgg", "frames") {
		t.Errorf("DefaultDir = %q, %v; want under %s", dir, err, base)
	}
}

// A temporary entry file left by a writer killed mid-write is removed when the cache is next
// opened, once it is old enough that no writer can still be at work on it; entries and fresh
// temporary files stay.
func TestOpenSweepsStaleTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	k := NewKey([]byte("photo"), "settings")
	if err := c.Put(k, picture(1, 8), ""); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Dir(c.path(k))
	stale := filepath.Join(folder, "."+k.String()[2:]+".frame.tmp-123")
	fresh := filepath.Join(folder, "."+k.String()[2:]+".frame.tmp-456")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("half an entry"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleAfter)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale temporary file is still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh temporary file was removed: %v", err)
	}
	if _, _, ok := c.Get(k, 8); !ok {
		t.Error("the entry was lost")
	}
}
