package eyeloc

import (
	"image"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vgglab/vgg/vision/facetest"
	"github.com/vgglab/vgg/vision/haar"
	"github.com/vgglab/vgg/vision/synth"
)

// This file is the recipe for the embedded weights data/eyeloc.safetensors: with
// VGG_TRAIN_EYELOC=1 and VGG_FACES set it trains the locator with seed 1 for 3000 steps
// (about 9 minutes on 2 cores) on
//   - celebs60's 112x112 ArcFace-aligned photos that recipes may use (facetest: every fourth
//     photo of each identity is held out), whose eyes are at the template's places;
//   - dlib_train's 5 faces in its two photos recipes may use, with their landmark eyes;
//   - vision/synth's faces (the people of `vgg demo`), whose eyes EyeCentres gives exactly;
// and writes the weights. dlib_train's other 13 faces, in its two larger photos, measure the
// result (notes/framing.md).

const recipeSeed = 1

func TestTrainEmbeddedLocator(t *testing.T) {
	if os.Getenv("VGG_TRAIN_EYELOC") == "" {
		t.Skip("set VGG_TRAIN_EYELOC=1 (and VGG_FACES) to retrain the embedded eye locator")
	}
	start := time.Now()
	sources := recipeSources(t)
	t.Logf("%d photos with eyes", len(sources))
	cfg := TrainConfig{Steps: facetest.EnvInt("VGG_EYELOC_STEPS", 3000), Seed: recipeSeed,
		Progress: func(step int, loss float64) {
			t.Logf("%s step %d: loss %.4f", time.Now().Format("15:04:05"), step, loss)
		}}
	l, err := Train(sources, cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("data", "eyeloc.safetensors")
	if err := l.Save(path); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s in %.0fs", path, time.Since(start).Seconds())
	heldOut, trained, worst := dlibFigures(t, l, true)
	t.Logf("dlib_train: both eyes within 10%% of the distance between them on %d of the 13 held-out faces and %d of the 5 trained on; worst %.3f", heldOut, trained, worst)
}

// recipeSources gathers the training photos.
func recipeSources(t *testing.T) []Source {
	var sources []Source
	for _, p := range facetest.Aligned(t) {
		if !p.HeldOut {
			sources = append(sources, Source{Grey: haar.Grey(p.Img), Eyes: facetest.ArcFaceEyes})
		}
	}
	// dlib_train's faces in the photos recipes may use (5 faces, 27 to 35 pixels between the
	// eyes): real photos, not aligned, with landmark eyes.
	dlibPhotos := map[string]*image.Gray{}
	for _, f := range facetest.DlibLandmarks(t) {
		if facetest.DlibHeldOut[f.Photo] {
			continue
		}
		if dlibPhotos[f.Photo] == nil {
			dlibPhotos[f.Photo] = haar.Grey(facetest.Load(t, filepath.Join(facetest.Dir(t), "dlib_train", f.Photo)))
		}
		// Each comes round as often as 40 aligned photos would: otherwise 5 in 2,400.
		for range 40 {
			sources = append(sources, Source{Grey: dlibPhotos[f.Photo], Eyes: f.Eyes})
		}
	}
	const synthSeed, people, shots, size = 2, 40, 10, 128
	for id := range people {
		for photo := range shots {
			identity, shot := synth.NewIdentity(synthSeed, id), synth.NewShot(synthSeed, id, photo)
			img := synth.Render(synthSeed, id, photo, size)
			sources = append(sources, Source{Grey: haar.Grey(img), Eyes: synth.EyeCentres(identity, shot, size)})
		}
	}
	return sources
}
