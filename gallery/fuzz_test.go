package gallery

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds damaged gallery files to Load: it must return a gallery or an error naming
// the file, never panic. The seeds are a small valid gallery and its first bytes.
func FuzzLoad(f *testing.F) {
	g := New("abc", 3)
	for i, name := range []string{"Ann", "Bob", "Ann"} {
		if err := g.Add(Entry{Identity: name, Path: name + string(rune('0'+i)) + ".jpg"}, []float32{float32(i), 1, -2}); err != nil {
			f.Fatal(err)
		}
	}
	path := filepath.Join(f.TempDir(), "seed.gallery")
	if err := g.Save(path); err != nil {
		f.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add(raw[:len(raw)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "fuzz.gallery")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		g, err := Load(path, "")
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		// A loaded gallery answers without panicking.
		g.Separation()
	})
}
