package cli

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/synth"
)

// index, gallery, enrol and gallery remove on a toy model: the gallery file appears beside the
// model, lists what went in, takes a new person without retraining, and refuses what does not
// belong.
func TestIndexEnrolAndGalleryCommands(t *testing.T) {
	data := synthPhotos(t, 4, 6)
	// Train on three of the four synthetic people; the fourth is enrolled later.
	known := filepath.Join(t.TempDir(), "known")
	if err := os.MkdirAll(known, 0o755); err != nil {
		t.Fatal(err)
	}
	for id := range 3 {
		if err := os.Symlink(filepath.Join(data, synth.Name(id)), filepath.Join(known, synth.Name(id))); err != nil {
			t.Fatal(err)
		}
	}
	model := trainTiny(t, known)
	// The toy photos are 32-pixel cartoons, where the face detector is hit and miss: they are
	// taken as face crops (--aligned), as the model was trained.
	stdout, stderr, err := run(t, "index", "--model", model, "--data", known, "--aligned")
	if err != nil {
		t.Fatalf("index: %v\n%s", err, stderr)
	}
	galleryFile := gallery.PathFor(model)
	if !strings.Contains(stdout, "18 photos of 3 identities") || !strings.Contains(stdout, galleryFile) {
		t.Fatalf("index said:\n%s", stdout)
	}
	stdout, _, err = run(t, "gallery", "--model", model)
	if err != nil || strings.Count(stdout, "  6\n") != 3 || !strings.Contains(stdout, synth.Name(2)) {
		t.Fatalf("gallery list: %v\n%s", err, stdout)
	}

	newcomer := synth.Name(3)
	var photos []string
	for k := range 5 {
		photos = append(photos, filepath.Join(data, newcomer, photoName(k)))
	}
	stdout, stderr, err = run(t, append([]string{"enrol", "--model", model, "--name", newcomer, "--aligned"}, photos...)...)
	if err != nil || !strings.Contains(stdout, "enrolled 5 photos") || !strings.Contains(stdout, "23 photos of 4 identities") {
		t.Fatalf("enrol: %v\n%s%s", err, stdout, stderr)
	}

	// A photo without a face is refused when faces are looked for, and nothing is added, not
	// even the good photo beside it.
	blank := filepath.Join(t.TempDir(), "wall.png")
	wall := image.NewGray(image.Rect(0, 0, 160, 160))
	for i := range wall.Pix {
		wall.Pix[i] = 128
	}
	if err := vision.WritePNG(blank, wall); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(galleryFile)
	_, _, err = run(t, "enrol", "--model", model, "--name", "Someone", photos[0], blank)
	if err == nil || !strings.Contains(err.Error(), "no face found") || !strings.Contains(err.Error(), blank) {
		t.Fatalf("enrol of a photo without a face: %v", err)
	}
	if after, _ := os.ReadFile(galleryFile); string(after) != string(before) {
		t.Fatal("a refused enrolment changed the gallery")
	}

	// A gallery from another model is refused by enrol; remove with a typo suggests the name.
	other := trainTinySeed(t, known, "9")
	if _, _, err := run(t, "enrol", "--model", other, "--gallery", galleryFile, "--name", "X", "--aligned", photos[0]); err == nil ||
		!strings.Contains(err.Error(), "different model") || !strings.Contains(err.Error(), galleryFile) {
		t.Fatalf("enrol into another model's gallery: %v", err)
	}
	typo := strings.ToLower(newcomer[:len(newcomer)-1])
	if _, _, err := run(t, "gallery", "--model", model, "remove", typo); err == nil || !strings.Contains(err.Error(), newcomer) {
		t.Fatalf("remove %q: %v, want a suggestion of %q", typo, err, newcomer)
	}
	stdout, _, err = run(t, "gallery", "remove", "--model", model, newcomer)
	if err != nil || !strings.Contains(stdout, "(5 photos)") || !strings.Contains(stdout, "18 photos of 3 identities") {
		t.Fatalf("remove: %v\n%s", err, stdout)
	}
}

// photoName is the file name synth.WriteDataset gives photo k.
func photoName(k int) string { return fmt.Sprintf("%04d.jpg", k) }

// trainTinySeed is trainTiny with another seed: a different model of the same shape.
func trainTinySeed(t *testing.T, data, seed string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "other.safetensors")
	if _, stderr, err := run(t, "train", "--data", data, "--out", out, "--epochs", "1", "--width", "16",
		"--input", "32", "--batch", "8", "--optimizer", "adam", "--lr", "0.003", "--aligned", "--seed", seed); err != nil {
		t.Fatalf("vgg train: %v\n%s", err, stderr)
	}
	return out
}
