package train

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// facesIdentities are eight celebrities of $VGG_FACES/celebs60 whose 120 photos each are
// 112x112 crops aligned already, so the test needs no face detector.
var facesIdentities = []string{"Barack_Obama", "Hugh_Laurie", "Kate_Winslet", "Keanu_Reeves",
	"Miley_Cyrus", "Simon_Cowell", "Tina_Fey", "Tom_Hanks"}

// A small real run: eight people, a network at 1/8 width on 64x64 pictures, 12 epochs (about
// two minutes on two idle cores). It must land far above chance on the photos it did not
// train on: chance is 12.5% with a standard deviation of 2.4 points over 192 photos, so 25%
// is five deviations out. (This recipe reached 31% top-1, 90% top-5; small networks start
// slowly under VGG's initialisation, whose classifier weights of std 0.01 suit 25,088 inputs,
// not the 256 this width and size give.)
func TestTrainsOnRealFaces(t *testing.T) {
	root := os.Getenv("VGG_FACES")
	if root == "" {
		t.Skip("set VGG_FACES to the shared face folder (holding celebs60/) to train on real photos")
	}
	data := t.TempDir()
	for _, name := range facesIdentities {
		src := filepath.Join(root, "celebs60", name)
		if _, err := os.Stat(src); err != nil {
			t.Fatalf("VGG_FACES=%s: %v", root, err)
		}
		if err := os.Symlink(src, filepath.Join(data, name)); err != nil {
			t.Fatal(err)
		}
	}
	s := DefaultSettings()
	s.Data = data
	s.InputSize, s.WidthDivisor = 64, 8
	s.Epochs, s.BatchSize = 16, 16
	// A constant rate: a deep network without batch normalisation sits on a plateau at ln 8
	// for its first epochs, and one-cycle's slow start keeps a 12-16 epoch run there.
	s.Optimizer, s.LR, s.WeightDecay, s.Schedule = "adam", 0.0005, 0, "constant"
	s.ValFraction = 0.2
	var log bytes.Buffer
	report, err := Run(context.Background(), s, Options{Out: filepath.Join(t.TempDir(), "faces.safetensors"), Device: "cpu", Log: &log})
	t.Log(log.String())
	if err != nil {
		t.Fatal(err)
	}
	best := report.Epochs[report.BestEpoch-1]
	if report.ValPhotos != 192 || best.ValTop1 < 0.25 {
		t.Errorf("validation top-1 %.1f%% on %d photos, want at least 25%% on 192 (chance 12.5%%)", 100*best.ValTop1, report.ValPhotos)
	}
}
