package gallery

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/vision"
)

// Issue 18 item 2: several processes updating one gallery at once each keep their change.
// Each update waits a moment between reading and saving, the window in which an unlocked
// read-modify-write loses the others' people.
func TestUpdateKeepsConcurrentChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.gallery")
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			_, err := Update(path, "abc", func() *Gallery { return New("abc", 2) }, func(g *Gallery) error {
				time.Sleep(10 * time.Millisecond)
				return g.Add(Entry{Identity: fmt.Sprintf("Person %d", i), Path: fmt.Sprint(i)}, []float32{1, float32(i)})
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	g, err := Load(path, "abc")
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Identities()) != 6 {
		t.Errorf("after 6 updates at once the gallery holds %v", g.Names())
	}
	if _, err := Update(path, "other", nil, func(*Gallery) error { return nil }); err == nil {
		t.Error("Update of another model's gallery: no error")
	}
}

// Issue 18 items 6 and 13: names are stored in normal form C, one identity however typed;
// names and paths that are not UTF-8 are refused; the same photo is not added twice.
func TestNamesAndDuplicates(t *testing.T) {
	g := New("abc", 3)
	nfc, nfd := "Jos\u00e9", "Jose\u0301"
	if err := g.Add(Entry{Identity: nfd, Path: "a.jpg"}, []float32{1, 0, 0}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		e     Entry
		v     []float32
		added bool
	}{
		{Entry{Identity: nfc, Path: "a.jpg"}, []float32{0, 1, 0}, false},    // same path
		{Entry{Identity: nfc, Path: "copy.jpg"}, []float32{2, 0, 0}, false}, // same picture
		{Entry{Identity: nfc, Path: "b.jpg"}, []float32{0, 1, 0}, true},
		{Entry{Identity: "Ann", Path: "a.jpg"}, []float32{1, 0, 0}, true}, // another person's photo
	} {
		added, err := g.AddNew(c.e, c.v)
		if err != nil || added != c.added {
			t.Errorf("AddNew(%+v) = %v, %v; want %v", c.e, added, err, c.added)
		}
	}
	if got := g.Identities(); len(got) != 2 || got[1] != (IdentityCount{nfc, 2}) {
		t.Errorf("identities %v, want José (NFC) with 2 photos", got)
	}
	if i, err := Lookup(g.Names(), nfd); err != nil || g.Names()[i] != nfc {
		t.Errorf("Lookup(NFD) = %d, %v", i, err)
	}
	for _, e := range []Entry{{Identity: "Bad\xff", Path: "x.jpg"}, {Identity: "Ann", Path: "dir/\xfe.jpg"}} {
		if err := g.Add(e, []float32{0, 0, 1}); err == nil || !strings.Contains(err.Error(), "UTF-8") {
			t.Errorf("Add(%q) = %v, want it refused", e, err)
		}
	}
}

// AddPhotos skips, naming it, a photo whose path the gallery cannot store.
func TestAddPhotosSkipsNamesThatAreNotUTF8(t *testing.T) {
	b := openCPU(t)
	m := tinyModel(t, b, 3)
	dir := t.TempDir()
	entries := writePhotos(t, dir, []string{"Ann"}, 2, 1)
	entries[1].Path = filepath.Join(dir, "Ann", "bad\xff.png")
	fp, _ := m.Fingerprint()
	g := New(fp, m.EmbeddingWidth())
	skipped, err := g.AddPhotos(context.Background(), &Embedder{Model: m, Norm: vision.Identity}, dataset.NewSource(dataset.SourceOptions{Size: 32}), entries, nil)
	if err != nil || g.Len() != 1 || len(skipped) != 1 || !strings.Contains(skipped[0].Error(), "UTF-8") {
		t.Fatalf("gallery of %d photos, skipped %v, error %v", g.Len(), skipped, err)
	}
}
