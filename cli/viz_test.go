package cli

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func decodePNG(t *testing.T, path string) (w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img.Bounds().Dx(), img.Bounds().Dy()
}

func TestVizCommands(t *testing.T) {
	model := randomModel(t, []string{"Ann", "Bob"}, 1)
	data := t.TempDir()
	patternPhotos(t, data, []string{"Ann"}, 1)
	out := filepath.Join(t.TempDir(), "filters.png")
	if _, stderr, err := run(t, "viz", "filters", "--model", model, "--out", out, "--cell", "12"); err != nil {
		t.Fatalf("viz filters: %v\n%s", err, stderr)
	}
	// The toy model's 4 first-layer filters: 2x2 cells of 12 pixels, 2-pixel gaps.
	if w, h := decodePNG(t, out); w != 30 || h != 30 {
		t.Fatalf("filter grid is %dx%d", w, h)
	}

	dir := filepath.Join(t.TempDir(), "act")
	stdout, stderr, err := run(t, "viz", "activations", "--model", model, "--out", dir, "--aligned", filepath.Join(data, "Ann", "0000.png"))
	if err != nil {
		t.Fatalf("viz activations: %v\n%s", err, stderr)
	}
	if strings.Count(stdout, "block ") != 5 || !strings.Contains(stdout, "32 maps of 2x2") {
		t.Fatalf("viz activations said:\n%s", stdout)
	}
	if w, h := decodePNG(t, filepath.Join(dir, "face.png")); w != 32 || h != 32 {
		t.Fatalf("face.png is %dx%d, want the 32-pixel input", w, h)
	}
	for _, name := range []string{"block1.png", "block2.png", "block3.png", "block4.png", "block5.png"} {
		if w, h := decodePNG(t, filepath.Join(dir, name)); w < 60 || h < 60 {
			t.Errorf("%s is only %dx%d", name, w, h)
		}
	}
	// A folder that cannot be made is an error before any work.
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o644)
	if _, _, err := run(t, "viz", "activations", "--model", model, "--out", filepath.Join(blocker, "x"), "nope.jpg"); err == nil ||
		!strings.Contains(err.Error(), blocker) {
		t.Fatalf("viz into a folder under a file: %v", err)
	}
}

// Issue 18, item 10: a cell size that is not positive or would draw a picture too large to
// hold is refused before any work, and a refused run leaves no folder or file behind. Before,
// --cell 100000 ran out of memory after writing part of the folder, and --cell 0 was accepted.
func TestVizRefusesBadCells(t *testing.T) {
	model := randomModel(t, []string{"Ann", "Bob"}, 1)
	data := t.TempDir()
	patternPhotos(t, data, []string{"Ann"}, 1)
	photo := filepath.Join(data, "Ann", "0000.png")
	outDir := t.TempDir()
	for _, cell := range []string{"0", "-3", "100000"} {
		if _, _, err := run(t, "viz", "filters", "--model", model, "--out", filepath.Join(outDir, "f.png"), "--cell", cell); err == nil ||
			!strings.Contains(err.Error(), "--cell") {
			t.Errorf("viz filters --cell %s: error %v, want one naming --cell", cell, err)
		}
		if _, _, err := run(t, "viz", "activations", "--model", model, "--out", filepath.Join(outDir, "act"), "--aligned", "--cell", cell, photo); err == nil ||
			!strings.Contains(err.Error(), "--cell") {
			t.Errorf("viz activations --cell %s: error %v, want one naming --cell", cell, err)
		}
	}
	if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
		t.Errorf("refused runs left %d files behind", len(entries))
	}
	// The largest cell is drawn; the folder appears whole, with no temporary folder beside it.
	dir := filepath.Join(outDir, "act")
	if _, stderr, err := run(t, "viz", "activations", "--model", model, "--out", dir, "--aligned", "--cell", "128", photo); err != nil {
		t.Fatalf("viz activations --cell 128: %v\n%s", err, stderr)
	}
	entries, _ := os.ReadDir(outDir)
	if len(entries) != 1 || entries[0].Name() != "act" {
		t.Errorf("beside the folder: %v", entries)
	}
	if files, _ := os.ReadDir(dir); len(files) != 6 {
		t.Errorf("the folder holds %d files, want face.png and 5 blocks", len(files))
	}
}
