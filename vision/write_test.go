package vision

import (
	"errors"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWritePNGRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.png")
	img := quadrants(20, 10)
	if err := WritePNG(path, img); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	checkQuadrants(t, path, back, 20, 10, false, 0)
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", info.Mode().Perm())
	}
	if err := WriteJPEG(filepath.Join(filepath.Dir(path), "out.jpg"), img, 90); err != nil {
		t.Fatal(err)
	}
}

func TestWriteAtomicLeavesOldFileOnFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keep.png")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	err := WriteAtomic(path, func(w io.Writer) error {
		w.Write([]byte("half an ima"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want the writer's", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "old" {
		t.Errorf("old file became %q", data)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary file left behind: %v", entries)
	}
	if err := WritePNG(filepath.Join(dir, "no", "such", "dir.png"), quadrants(2, 2)); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
}

// WritePNG marks its files, so that a later run may replace them and nothing else: the mark
// is there, the picture decodes as before, and a PNG from elsewhere is not taken for ours.
func TestPNGMark(t *testing.T) {
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Pix[0], img.Pix[3] = 200, 255
	ours, theirs := filepath.Join(dir, "ours.png"), filepath.Join(dir, "theirs.png")
	if err := WritePNG(ours, img); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create(theirs)
	png.Encode(f, img)
	f.Close()
	if !MadePNG(ours) || MadePNG(theirs) || MadePNG(filepath.Join(dir, "none.png")) {
		t.Errorf("MadePNG: ours %v, theirs %v", MadePNG(ours), MadePNG(theirs))
	}
	back, err := Load(ours)
	if err != nil || back.Bounds() != img.Bounds() || ToRGBA(back).Pix[0] != 200 {
		t.Errorf("the marked PNG decodes as %v (%v)", back, err)
	}
}
