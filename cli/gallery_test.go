package cli

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/tensor"
	"github.com/vgglab/vgg/vision"
)

// randomModel saves an untrained toy VGG-D (32-pixel input, 1/16 width) for the given
// identities. Its classifier is chance, but its random convolutions already map alike
// pictures to alike embeddings, which is what the gallery needs; a toy model trained for a
// few epochs on cartoons does worse, collapsing every face onto nearly one embedding.
func randomModel(t *testing.T, names []string, seed uint64) string {
	t.Helper()
	b, err := kernels.Open("cpu")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	m, err := nn.New(b, nn.Config{Classes: len(names), InputSize: 32, WidthDivisor: 16}, seed)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "random.safetensors")
	if err := nn.SaveModel(path, m, nn.ModelInfo{ClassNames: names, Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.25, 0.25, 0.25}}); err != nil {
		t.Fatal(err)
	}
	return path
}

// patternPhotos writes n photos of each identity as dir/<identity>/NNNN.png: the identity's
// own pattern of coloured 4x4 blocks, with fresh pixel noise in every photo.
func patternPhotos(t *testing.T, dir string, names []string, n int) {
	t.Helper()
	for id, name := range names {
		rng := tensor.NewRand(uint64(100 + id))
		var blocks [16][3]int
		for i := range blocks {
			for c := range 3 {
				blocks[i][c] = rng.IntN(256)
			}
		}
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		for k := range n {
			img := image.NewRGBA(image.Rect(0, 0, 32, 32))
			for y := range 32 {
				for x := range 32 {
					for c := range 3 {
						v := blocks[(y/8)*4+x/8][c] + rng.IntN(81) - 40
						img.Pix[img.PixOffset(x, y)+c] = uint8(min(max(v, 0), 255))
					}
					img.Pix[img.PixOffset(x, y)+3] = 255
				}
			}
			if err := vision.WritePNG(filepath.Join(dir, name, fmt.Sprintf("%04d.png", k)), img); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// lookAlike is a toy model with a gallery of three identities, and a fourth person it has
// never seen.
type lookAlike struct {
	model, known, newcomerDir string
	names                     []string
}

func lookAlikeSetup(t *testing.T) lookAlike {
	t.Helper()
	la := lookAlike{names: []string{"Ann Ash", "Bob Birch", "Cyd Cedar"}}
	root := t.TempDir()
	la.known = filepath.Join(root, "known")
	patternPhotos(t, la.known, la.names, 6)
	patternPhotos(t, filepath.Join(root, "new"), []string{"a", "b", "c", "Dee Dogwood"}, 6)
	la.newcomerDir = filepath.Join(root, "new", "Dee Dogwood")
	la.model = randomModel(t, la.names, 3)
	if _, stderr, err := run(t, "index", "--model", la.model, "--data", la.known, "--aligned"); err != nil {
		t.Fatalf("index: %v\n%s", err, stderr)
	}
	return la
}

// index, gallery, enrol and gallery remove on a toy model: the gallery file appears beside the
// model, lists what went in, takes a new person without retraining, and refuses what does not
// belong.
func TestIndexEnrolAndGalleryCommands(t *testing.T) {
	la := lookAlikeSetup(t) // runs vgg index
	galleryFile := gallery.PathFor(la.model)
	stdout, _, err := run(t, "gallery", "--model", la.model)
	if err != nil || strings.Count(stdout, "  6\n") != 3 || !strings.Contains(stdout, "Cyd Cedar") ||
		!strings.Contains(stdout, "18 photos of 3 identities") {
		t.Fatalf("gallery list: %v\n%s", err, stdout)
	}
	var photos []string
	for k := range 5 {
		photos = append(photos, filepath.Join(la.newcomerDir, fmt.Sprintf("%04d.png", k)))
	}
	stdout, stderr, err := run(t, append([]string{"enrol", "--model", la.model, "--name", "Dee Dogwood", "--aligned"}, photos...)...)
	if err != nil || !strings.Contains(stdout, "enrolled 5 photos") || !strings.Contains(stdout, "23 photos of 4 identities") {
		t.Fatalf("enrol: %v\n%s%s", err, stdout, stderr)
	}

	// A photo without a face is refused when faces are looked for, and nothing is added, not
	// even the photo beside it.
	blank := filepath.Join(t.TempDir(), "wall.png")
	wall := image.NewGray(image.Rect(0, 0, 160, 160))
	for i := range wall.Pix {
		wall.Pix[i] = 128
	}
	if err := vision.WritePNG(blank, wall); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(galleryFile)
	_, _, err = run(t, "enrol", "--model", la.model, "--name", "Someone", photos[0], blank)
	if err == nil || !strings.Contains(err.Error(), "no face found") || !strings.Contains(err.Error(), blank) {
		t.Fatalf("enrol of a photo without a face: %v", err)
	}
	if after, _ := os.ReadFile(galleryFile); string(after) != string(before) {
		t.Fatal("a refused enrolment changed the gallery")
	}

	// A gallery from another model is refused by enrol; remove with a typo suggests the name.
	other := randomModel(t, la.names, 9)
	if _, _, err := run(t, "enrol", "--model", other, "--gallery", galleryFile, "--name", "X", "--aligned", photos[0]); err == nil ||
		!strings.Contains(err.Error(), "different model") || !strings.Contains(err.Error(), galleryFile) {
		t.Fatalf("enrol into another model's gallery: %v", err)
	}
	if _, _, err := run(t, "gallery", "--model", la.model, "remove", "dee dogwod"); err == nil || !strings.Contains(err.Error(), `closest: "Dee Dogwood"`) {
		t.Fatalf("remove with a typo: %v, want a suggestion", err)
	}
	stdout, _, err = run(t, "gallery", "remove", "--model", la.model, "dee dogwood")
	if err != nil || !strings.Contains(stdout, `removed "Dee Dogwood" (5 photos)`) || !strings.Contains(stdout, "18 photos of 3 identities") {
		t.Fatalf("remove: %v\n%s", err, stdout)
	}
	if _, _, err := run(t, "gallery"); err == nil || !strings.Contains(err.Error(), "--model") {
		t.Fatalf("gallery without a model: %v", err)
	}
}

// vgg train ends by indexing its photos: the model comes with its gallery.
func TestTrainWritesTheGallery(t *testing.T) {
	model := trainTiny(t, synthPhotos(t, 3, 4))
	stdout, _, err := run(t, "gallery", "--model", model)
	if err != nil || !strings.Contains(stdout, "12 photos of 3 identities") {
		t.Fatalf("gallery of a freshly trained model: %v\n%s", err, stdout)
	}
}
