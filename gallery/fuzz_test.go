package gallery

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawGallery writes a gallery file byte by byte, header as given, so tests can claim what a
// damaged or hostile file claims.
func rawGallery(header string, vectors ...float32) []byte {
	var b bytes.Buffer
	b.WriteString(magic)
	binary.Write(&b, binary.LittleEndian, uint32(len(header)))
	b.WriteString(header)
	binary.Write(&b, binary.LittleEndian, vectors)
	return b.Bytes()
}

// hostileGalleries are headers whose sizes overflowed the old size check (issue 18, item 9)
// and a gallery of NaN embeddings: Load must refuse each with an error, never panic.
func hostileGalleries() map[string][]byte {
	entry := `{"identity":"Ann","path":"a.jpg"}`
	return map[string][]byte{
		// 4 x 1 x 2^62 bytes wrapped around to 0: the header alone "fitted".
		"dim 2^62, one photo": rawGallery(`{"version":1,"model_sha256":"abc","dim":4611686018427387904,"entries":[` + entry + `]}`),
		// No photos, so no bytes are needed, but every later step allocates dim values.
		"dim 2^62, no photos": rawGallery(`{"version":1,"model_sha256":"abc","dim":4611686018427387904,"entries":[]}`),
		"4 x 2^61 photos":     rawGallery(`{"version":1,"model_sha256":"abc","dim":2305843009213693952,"entries":[` + entry + `,` + entry + `]}`),
		"NaN embedding":       rawGallery(`{"version":1,"model_sha256":"abc","dim":2,"entries":[`+entry+`]}`, float32(math.NaN()), 1),
		"infinite embedding":  rawGallery(`{"version":1,"model_sha256":"abc","dim":2,"entries":[`+entry+`]}`, 0, float32(math.Inf(1))),
		// A whitening of 2^62 x 2^62 values, or one that is missing, or NaN.
		"whitening of dim 2^62": rawGallery(`{"version":2,"model_sha256":"abc","dim":4611686018427387904,"whitened":true,"entries":[]}`),
		"whitening missing":     rawGallery(`{"version":2,"model_sha256":"abc","dim":2,"whitened":true,"entries":[`+entry+`]}`, 1, 0),
		"NaN whitening":         rawGallery(`{"version":2,"model_sha256":"abc","dim":2,"whitened":true,"entries":[`+entry+`]}`, 1, 0, 1, 0, float32(math.NaN()), 1),
	}
}

// TestLoadRefusesHostileHeaders: each file is refused with an error naming it (before the
// fix the first two panicked in makeslice and the NaN gallery scored every photo "NaN").
func TestLoadRefusesHostileHeaders(t *testing.T) {
	for name, data := range hostileGalleries() {
		path := filepath.Join(t.TempDir(), "hostile.gallery")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		g, err := Load(path, "")
		if err == nil {
			t.Errorf("%s: loaded a gallery of width %d and %d photos", name, g.Dim, g.Len())
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
}

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
	for _, hostile := range hostileGalleries() {
		f.Add(hostile)
	}
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
