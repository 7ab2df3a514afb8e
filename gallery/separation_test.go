package gallery

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func galleryOf(t *testing.T, photos map[string][][]float32) *Gallery {
	t.Helper()
	g := New("abc", 3)
	for _, name := range []string{"Ann", "Bob", "Cyd"} {
		for i, e := range photos[name] {
			if err := g.Add(Entry{Identity: name, Path: name + string(rune('0'+i))}, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	return g
}

func TestSeparation(t *testing.T) {
	same := []float32{1, 2, 3}
	collapsed := galleryOf(t, map[string][][]float32{"Ann": {same, same}, "Bob": {same, same}, "Cyd": {same}})
	if bad, why := collapsed.Separation().Collapsed(); !bad || !strings.Contains(why, "collapsed") {
		t.Errorf("identical embeddings: collapsed %v (%s), want collapsed", bad, why)
	}
	// Photos of one person no closer than photos of two: noise, whatever the scale.
	mixed := galleryOf(t, map[string][][]float32{"Ann": {{1, 0, 0}, {0, 1, 0}}, "Bob": {{1, 0.1, 0}, {0.1, 1, 0}}})
	if bad, why := mixed.Separation().Collapsed(); !bad || !strings.Contains(why, "do not separate") {
		t.Errorf("unseparated embeddings: collapsed %v (%s)", bad, why)
	}
	apart := galleryOf(t, map[string][][]float32{"Ann": {{1, 0.1, 0}, {1, 0, 0.1}}, "Bob": {{0, 1, 0.1}, {0.1, 1, 0}}, "Cyd": {{0, 0.1, 1}}})
	s := apart.Separation()
	if bad, why := s.Collapsed(); bad || s.SamePairs != 2 || s.DifferentPairs != 8 || s.Same < 0.9 || s.Different > 0.2 {
		t.Errorf("separated embeddings: %+v, collapsed %v (%s)", s, bad, why)
	}
	one := galleryOf(t, map[string][][]float32{"Ann": {same}, "Bob": {same}})
	if bad, _ := one.Separation().Collapsed(); bad {
		t.Error("a gallery of one photo per person cannot tell and is not collapsed")
	}

	// Saved in the file, and measured afresh when photos change.
	path := filepath.Join(t.TempDir(), "model.gallery")
	if err := collapsed.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path, "abc")
	if err != nil {
		t.Fatal(err)
	}
	if back.separation == nil || *back.separation != collapsed.Separation() {
		t.Errorf("loaded separation %v, saved %+v", back.separation, collapsed.Separation())
	}
	back.Remove("Cyd")
	if got := back.Separation(); got.DifferentPairs != 4 {
		t.Errorf("after a removal, %d pairs of different people, want 4", got.DifferentPairs)
	}
}

// A gallery written before the separation was stored still loads, and is measured on demand.
func TestLoadsAGalleryWithoutSeparation(t *testing.T) {
	g := galleryOf(t, map[string][][]float32{"Ann": {{1, 0, 0}, {1, 0.1, 0}}, "Bob": {{0, 1, 0}}})
	head, err := json.Marshal(map[string]any{"version": 1, "model_sha256": "abc", "dim": 3, "entries": g.Entries})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "old.gallery")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString(magic)
	binary.Write(w, binary.LittleEndian, uint32(len(head)))
	w.Write(head)
	binary.Write(w, binary.LittleEndian, g.vectors)
	w.Flush()
	f.Close()
	old, err := Load(path, "abc")
	if err != nil {
		t.Fatal(err)
	}
	if old.separation != nil || old.Separation() != g.Separation() {
		t.Errorf("old gallery: separation %+v, want %+v measured on demand", old.Separation(), g.Separation())
	}
}
