package dataset

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vgglab/vgg/dataset/framecache"
	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/synth"
)

// framedSet writes synthetic photos, 3 people x 3 photos, and returns the scanned set.
func framedSet(t *testing.T) *Dataset {
	t.Helper()
	root := t.TempDir()
	for id := range 3 {
		dir := filepath.Join(root, synth.Name(id))
		os.Mkdir(dir, 0o755)
		for p := range 3 {
			if err := vision.WritePNG(filepath.Join(dir, fmt.Sprintf("%d.png", p)), synth.Render(7, id, p, 48)); err != nil {
				t.Fatal(err)
			}
		}
	}
	set, err := Scan(root, vision.Decoder{})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// countingFrame is a framing that counts its calls: the upper-left 40x40 of the photo, with a
// remark of its own for each photo.
type countingFrame struct{ calls atomic.Int32 }

func (c *countingFrame) frame(img image.Image) (image.Image, string, error) {
	c.calls.Add(1)
	crop := img.(*image.RGBA).SubImage(image.Rect(0, 0, 40, 40))
	// A remark that depends on the pixels, so that each photo's own remark must come back.
	return crop, fmt.Sprintf("corner %d", img.(*image.RGBA).Pix[0]), nil
}

func openCache(t *testing.T, dir string) *framecache.Cache {
	t.Helper()
	c, err := framecache.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// load frames every photo of set through a fresh source and returns the pictures by path.
func load(t *testing.T, set *Dataset, opts SourceOptions) (*Source, map[string]*image.RGBA) {
	t.Helper()
	src := NewSource(opts)
	pictures := map[string]*image.RGBA{}
	for _, s := range set.Samples {
		img, err := src.Image(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		pictures[s.Path] = img
	}
	return src, pictures
}

func samePictures(a, b map[string]*image.RGBA) bool {
	if len(a) != len(b) {
		return false
	}
	for path, img := range a {
		if other := b[path]; other == nil || img.Rect != other.Rect || !bytes.Equal(img.Pix, other.Pix) {
			return false
		}
	}
	return true
}

// A second source over the same photos and settings frames nothing: it reads the pictures and
// their remarks from the cache, and they are the very pictures framing makes.
func TestFrameCacheHitGivesTheFramedPictures(t *testing.T) {
	set := framedSet(t)
	cache := openCache(t, t.TempDir())
	var f countingFrame
	opts := SourceOptions{Size: 16, Frame: f.frame, FrameID: "corner v1", FrameCache: cache}
	first, framed := load(t, set, opts)
	if st := first.Stats(); st.Framed != 9 || st.FromCache != 0 || f.calls.Load() != 9 {
		t.Fatalf("first pass: %+v with %d framings, want 9 framed", st, f.calls.Load())
	}
	second, cached := load(t, set, opts)
	if st := second.Stats(); st.FromCache != 9 || st.Framed != 0 || f.calls.Load() != 9 {
		t.Fatalf("second pass: %+v with %d framings in all, want 9 from the cache", st, f.calls.Load())
	}
	if !samePictures(framed, cached) {
		t.Error("the cached pictures differ from the framed ones")
	}
	if r1, r2 := first.Remarks(), second.Remarks(); len(r1) != 9 || fmt.Sprint(r1) != fmt.Sprint(r2) {
		t.Errorf("remarks framed %v, from the cache %v", r1, r2)
	}
	_, uncached := load(t, set, SourceOptions{Size: 16, Frame: f.frame})
	if !samePictures(framed, uncached) {
		t.Error("pictures made with the cache differ from those made without it")
	}
	want := fmt.Sprintf("framed 9 photos: 9 from the cache (%s), 0 framed now", cache.Dir())
	if got := second.Stats().Summary(); got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}

// Any change of what shapes the picture misses: the size, the framing (its ID, or none), the
// photo's bytes.
func TestFrameCacheMissesOnAnyChange(t *testing.T) {
	set := framedSet(t)
	cache := openCache(t, t.TempDir())
	var f countingFrame
	base := SourceOptions{Size: 16, Frame: f.frame, FrameID: "corner v1", FrameCache: cache}
	load(t, set, base)
	changed := map[string]SourceOptions{
		"size":       {Size: 20, Frame: f.frame, FrameID: "corner v1", FrameCache: cache},
		"framing ID": {Size: 16, Frame: f.frame, FrameID: "corner v2", FrameCache: cache},
		"no framing": {Size: 16, FrameCache: cache},
	}
	for name, opts := range changed {
		if src, _ := load(t, set, opts); src.Stats().FromCache != 0 {
			t.Errorf("a change of %s: %+v, want every photo framed anew", name, src.Stats())
		}
	}
	// A photo rewritten with other pixels, under the same name.
	path := set.Samples[0].Path
	if err := vision.WritePNG(path, synth.Render(8, 0, 0, 48)); err != nil {
		t.Fatal(err)
	}
	src, pictures := load(t, set, base)
	if st := src.Stats(); st.Framed != 1 || st.FromCache != 8 {
		t.Errorf("one photo changed: %+v, want it alone framed", st)
	}
	_, fresh := load(t, set, SourceOptions{Size: 16, Frame: f.frame})
	if !samePictures(pictures, fresh) {
		t.Error("the changed photo's picture is the old one")
	}
}

// Entries cut short (a crash, a full disk) or damaged are framed again, silently, and replaced.
func TestFrameCacheDamagedEntriesAreFramedAgain(t *testing.T) {
	set := framedSet(t)
	dir := t.TempDir()
	var f countingFrame
	opts := SourceOptions{Size: 16, Frame: f.frame, FrameID: "corner v1", FrameCache: openCache(t, dir)}
	_, want := load(t, set, opts)
	entries := 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".frame") {
			data, _ := os.ReadFile(path)
			cut := data[:len(data)/2]
			if entries%2 == 1 {
				cut = append(bytes.Clone(data[:len(data)-1]), data[len(data)-1]^1)
			}
			os.WriteFile(path, cut, 0o644)
			entries++
		}
		return nil
	})
	if entries != 9 {
		t.Fatalf("%d entries in the cache, want 9", entries)
	}
	src, got := load(t, set, opts)
	if st := src.Stats(); st.Framed != 9 || st.FromCache != 0 || !samePictures(got, want) {
		t.Errorf("over damaged entries: %+v, right pictures %v", st, samePictures(got, want))
	}
	if src, _ := load(t, set, opts); src.Stats().FromCache != 9 {
		t.Errorf("the damaged entries were not replaced: %+v", src.Stats())
	}
}

// Two programs framing the same photos at once into one cache folder leave whole entries
// that a third reads back.
func TestFrameCacheSharedByConcurrentSources(t *testing.T) {
	set := framedSet(t)
	dir := t.TempDir()
	var f countingFrame
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			src := NewSource(SourceOptions{Size: 16, Frame: f.frame, FrameID: "corner v1", FrameCache: openCache(t, dir)})
			errs[i] = set.Verify(context.Background(), src, 3, nil)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	_, want := load(t, set, SourceOptions{Size: 16, Frame: f.frame})
	src, got := load(t, set, SourceOptions{Size: 16, Frame: f.frame, FrameID: "corner v1", FrameCache: openCache(t, dir)})
	if st := src.Stats(); st.FromCache != 9 || !samePictures(got, want) {
		t.Errorf("after two concurrent sources: %+v, right pictures %v", st, samePictures(got, want))
	}
}

// A cache that cannot be written costs time, not the photos: they load, and the stats say why
// the cache did not fill.
func TestFrameCacheUnwritableIsNotAnError(t *testing.T) {
	set := framedSet(t)
	dir := filepath.Join(t.TempDir(), "frames")
	cache := openCache(t, dir)
	// A file where the cache's folder was: no entry can be written (even by root).
	os.RemoveAll(dir)
	os.WriteFile(dir, []byte("in the way"), 0o644)
	var f countingFrame
	src := NewSource(SourceOptions{Size: 16, Frame: f.frame, FrameID: "corner v1", FrameCache: cache})
	var progress atomic.Int32
	if err := set.Verify(context.Background(), src, 2, func(int) { progress.Add(1) }); err != nil || len(set.Skipped) != 0 {
		t.Fatalf("Verify with an unwritable cache: %v, skipped %v", err, set.Skipped)
	}
	st := src.Stats()
	if st.Framed != 9 || st.CacheWriteErrors != 9 || st.CacheWriteError == nil || progress.Load() != 9 {
		t.Errorf("stats %+v, %d progress calls; want 9 framed, 9 write errors, 9 calls", st, progress.Load())
	}
	if s := st.CacheProblem(); !strings.HasPrefix(s, "9 framed photos could not be stored in the framing cache") {
		t.Errorf("CacheProblem() = %q", s)
	}
}

// A cached picture does not let a photo past the pixel budget, and without a cache no entry is
// written anywhere.
func TestFrameCacheKeepsTheDecoderChecks(t *testing.T) {
	set := framedSet(t)
	dir := t.TempDir()
	load(t, set, SourceOptions{Size: 16, FrameCache: openCache(t, dir)})
	src := NewSource(SourceOptions{Size: 16, FrameCache: openCache(t, dir), Decoder: vision.Decoder{MaxPixels: 100}})
	if _, err := src.Image(set.Samples[0].Path); err == nil {
		t.Error("a photo over the pixel budget was loaded from the cache")
	}

	empty := t.TempDir()
	t.Setenv(framecache.EnvVar, empty)
	load(t, set, SourceOptions{Size: 16})
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("a source without a cache wrote %d files", len(entries))
	}
}
