package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vgglab/vgg/dataset/framecache"
	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/train"
)

func cacheEntries(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".frame") {
			n++
		}
		return nil
	})
	return n
}

// train frames each photo once: the gallery indexed at the end of the run, and a second run,
// read them from the cache; --no-cache and --cache DIR choose otherwise.
func TestTrainAndIndexFrameOnce(t *testing.T) {
	data := synthPhotos(t, 3, 6)
	cacheRoot := t.TempDir()
	t.Setenv(framecache.EnvVar, cacheRoot)
	frames := filepath.Join(cacheRoot, "frames")
	trainArgs := func(out string) []string {
		// The photos are framed by the face aligner (no --aligned): 32-pixel cartoons have
		// no face it finds, so each is framed whole, with a remark.
		return []string{"train", "--data", data, "--out", out, "--epochs", "1", "--width", "16",
			"--input", "32", "--batch", "8", "--allow-chance"}
	}
	first := filepath.Join(t.TempDir(), "first.safetensors")
	stdout, stderr, err := run(t, trainArgs(first)...)
	if err != nil {
		t.Fatalf("vgg train: %v\n%s", err, stderr)
	}
	if want := "framed 18 photos: 0 from the cache (" + frames + "), 18 framed now in "; !strings.Contains(stdout, want) {
		t.Errorf("the first run does not say %q:\n%s", want, stdout)
	}
	if want := "vgg: index: framed 18 photos: 18 from the cache (" + frames + "), 0 framed now"; !strings.Contains(stderr, want) {
		t.Errorf("the gallery at the end of the run was not indexed from the cache (%q):\n%s", want, stderr)
	}
	if n := cacheEntries(t, frames); n != 18 {
		t.Errorf("%d entries in the cache after the first run, want 18", n)
	}
	list, err := os.ReadFile(train.PathsFor(first).Framing)
	if err != nil || strings.Count(string(list), ": no face found") != 18 {
		t.Errorf("the remarks list: %v\n%s", err, list)
	}
	if !strings.Contains(stdout, "18 photos were framed with a remark (all listed in "+train.PathsFor(first).Framing+")") {
		t.Errorf("the run does not point at the remarks list:\n%s", stdout)
	}

	second := filepath.Join(t.TempDir(), "second.safetensors")
	stdout, stderr, err = run(t, trainArgs(second)...)
	if err != nil {
		t.Fatalf("second vgg train: %v\n%s", err, stderr)
	}
	if want := "framed 18 photos: 18 from the cache (" + frames + "), 0 framed now in "; !strings.Contains(stdout, want) {
		t.Errorf("the second run does not say %q:\n%s", want, stdout)
	}
	if again, _ := os.ReadFile(train.PathsFor(second).Framing); string(again) != string(list) {
		t.Errorf("remarks from the cache differ:\n%s\nwant\n%s", again, list)
	}

	// --no-cache neither reads nor writes it.
	os.RemoveAll(frames)
	_, stderr, err = run(t, "index", "--model", first, "--data", data, "--no-cache")
	if err != nil || !strings.Contains(stderr, "vgg: index: framed 18 photos (no framing cache)") {
		t.Errorf("index --no-cache: %v\n%s", err, stderr)
	}
	if _, err := os.Stat(frames); !os.IsNotExist(err) {
		t.Errorf("index --no-cache wrote to the cache: %v", err)
	}
	// --cache DIR puts it elsewhere; evaluate reads it back.
	mine := filepath.Join(t.TempDir(), "mine")
	_, stderr, err = run(t, "index", "--model", first, "--data", data, "--cache", mine)
	if err != nil || !strings.Contains(stderr, "vgg: index: framed 18 photos: 0 from the cache ("+mine+"), 18 framed now") {
		t.Errorf("index --cache %s: %v\n%s", mine, err, stderr)
	}
	stdout, stderr, err = run(t, "evaluate", "--model", first, "--data", data, "--shots", "2", "--cache", mine)
	if err != nil || !strings.Contains(stderr, "vgg: evaluate: framed 18 photos: 18 from the cache ("+mine+"), 0 framed now") {
		t.Errorf("evaluate --cache %s: %v\n%s", mine, err, stderr)
	}
	// The gallery 'vgg index' just wrote whitens the embeddings; without it, evaluate says
	// that its score is of unwhitened embeddings.
	if strings.Contains(stdout, "not whitened") {
		t.Errorf("evaluate with the model's whitened gallery says it is not whitened:\n%s", stdout)
	}
	os.Remove(gallery.PathFor(first))
	if stdout, _, err = run(t, "evaluate", "--model", first, "--data", data, "--shots", "2", "--cache", mine); err != nil || !strings.Contains(stdout, "not whitened") {
		t.Errorf("evaluate without the model's gallery: %v, and no word that it is not whitened:\n%s", err, stdout)
	}
	if n := cacheEntries(t, frames); n != 0 {
		t.Errorf("--cache elsewhere wrote %d entries to the default cache", n)
	}
}

// A second 'vgg align' of the same photos reads the aligned faces and what was unusual about
// each from the cache, and writes the same files.
func TestAlignReusesTheCache(t *testing.T) {
	data := synthPhotos(t, 2, 3)
	cache := filepath.Join(t.TempDir(), "frames")
	var outs []string
	for i, want := range []string{"0 from the cache (" + cache + "), 6 framed now", "6 from the cache (" + cache + "), 0 framed now"} {
		out := filepath.Join(t.TempDir(), "aligned")
		_, stderr, err := run(t, "align", "--in", data, "--out", out, "--cache", cache)
		if err != nil || !strings.Contains(stderr, "vgg: align: framed 6 photos: "+want) {
			t.Errorf("align run %d: %v, want %q:\n%s", i+1, err, want, stderr)
		}
		outs = append(outs, out)
	}
	err := filepath.WalkDir(outs[0], func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(outs[0], path)
		a, _ := os.ReadFile(path)
		b, err := os.ReadFile(filepath.Join(outs[1], rel))
		if err != nil || string(a) != string(b) {
			t.Errorf("%s differs between the aligning run and the cached one (%v)", rel, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The framing cache is never written into the photos a command reads (the output rule of
// issue 18): a --cache inside --data is a warning, and the photos are framed without it.
func TestCacheInsideTheDataIsNotUsed(t *testing.T) {
	model := randomModel(t, []string{"Ann", "Bob"}, 1)
	data := t.TempDir()
	patternPhotos(t, data, []string{"Ann", "Bob"}, 2)
	inside := filepath.Join(data, "Ann", "frames")
	_, stderr, err := run(t, "index", "--model", model, "--data", data, "--aligned", "--cache", inside)
	if err != nil {
		t.Fatalf("index: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "framing without a cache") || !strings.Contains(stderr, "framed 4 photos (no framing cache)") {
		t.Errorf("index --cache inside --data does not say it frames without the cache:\n%s", stderr)
	}
	if _, err := os.Stat(inside); !os.IsNotExist(err) {
		t.Errorf("the cache was made inside the photos: %v", err)
	}
}
