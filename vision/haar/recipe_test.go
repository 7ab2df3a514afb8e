package haar

import (
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// This file is the recipe for the cascades embedded under data/: it trains them from the
// shared face data when asked (VGG_TRAIN_CASCADES=face, eye or both, with VGG_FACES set) and
// writes data/frontalface.xml and data/eye.xml. A face cascade takes a few minutes on 2 cores.
//
// Faces come from celebs60's 112x112 ArcFace-aligned photos, whose eyes sit near (38,52) and
// (74,52): the face box (13,25)-(99,111) has the eyes about a third of the way down, like the
// dlib_train boxes, and each face is also used mirrored. Negatives are cbcl24's non-face
// patches plus windows mined from celebs60's LFW photos (250x250, face centred): turned by
// 90, 180 and 270 degrees (so they hold no upright face) and upright near the central face but
// not on it (parts of faces, hair, collars: the hard cases). The eye cascade takes its eyes from
// the same aligned photos and its negatives from the rest of those faces.

// arcFaceEyes are the eye centres of a 112x112 ArcFace-aligned photo (the subject's right eye
// first, on the image's left).
var arcFaceEyes = [2][2]float64{{38.29, 51.70}, {73.53, 51.50}}

// arcFaceBox is the face box used for positives in a 112x112 aligned photo.
var arcFaceBox = image.Rect(13, 25, 99, 111)

func TestTrainEmbeddedCascades(t *testing.T) {
	which := os.Getenv("VGG_TRAIN_CASCADES")
	if which == "" {
		t.Skip("set VGG_TRAIN_CASCADES=face|eye|both (and VGG_FACES) to retrain the embedded cascades")
	}
	dir := facesDir(t)
	aligned, lfw := loadCelebs(t, filepath.Join(dir, "celebs60"))
	t.Logf("%d aligned photos, %d LFW photos", len(aligned), len(lfw))
	rng := rand.New(rand.NewPCG(7, 7))
	progress := func(format string, args ...any) { t.Logf(time.Now().Format("15:04:05 ")+format, args...) }
	if which == "face" || which == "both" {
		var faces []*image.Gray
		for _, g := range aligned {
			p := Patch(g, arcFaceBox, 24, 24)
			faces = append(faces, p, Mirror(p))
		}
		var negPatches []*image.Gray
		for _, path := range globOrFail(t, filepath.Join(dir, "cbcl24", "nonface", "*.png")) {
			negPatches = append(negPatches, Grey(decodeFile(t, path)))
		}
		var bgs []Background
		lfwFace := []image.Rectangle{image.Rect(68, 67, 183, 182), image.Rect(80, 84, 172, 176)}
		for _, g := range lfw {
			bgs = append(bgs, Background{Img: g, Avoid: lfwFace, Within: image.Rect(40, 40, 210, 210)})
			for r := 1; r <= 3; r++ {
				bgs = append(bgs, Background{Img: rotate90(g, r)})
			}
		}
		for _, g := range aligned[:len(aligned)/2] {
			bgs = append(bgs, Background{Img: g, Avoid: []image.Rectangle{arcFaceBox}})
		}
		cfg := TrainConfig{Stages: envInt("VGG_TRAIN_STAGES", 20), FeatureSample: envInt("VGG_TRAIN_FEATURES", 5000),
			Negatives: len(faces), Seed: 1, Progress: progress}
		trainAndSave(t, faces, negPatches, bgs, cfg, "data/frontalface.xml")
	}
	if which == "eye" || which == "both" {
		var eyes []*image.Gray
		var bgs []Background
		for i, g := range aligned {
			var boxes []image.Rectangle
			for _, e := range arcFaceEyes {
				b := eyeBox(e[0], e[1], arcFaceEyes[1][0]-arcFaceEyes[0][0])
				boxes = append(boxes, b)
				p := Patch(g, b, 20, 20)
				eyes = append(eyes, p, Mirror(p))
			}
			if i%2 == 0 {
				bgs = append(bgs, Background{Img: g, Avoid: boxes})
			}
		}
		for _, g := range lfw[:len(lfw)/2] {
			bgs = append(bgs, Background{Img: rotate90(g, 2)})
		}
		rng.Shuffle(len(eyes), func(i, j int) { eyes[i], eyes[j] = eyes[j], eyes[i] })
		eyes = eyes[:min(len(eyes), 6000)]
		cfg := TrainConfig{Width: 20, Height: 20, Stages: envInt("VGG_TRAIN_STAGES", 20), FeatureSample: envInt("VGG_TRAIN_FEATURES", 5000),
			Negatives: len(eyes), Seed: 2, Progress: progress}
		trainAndSave(t, eyes, nil, bgs, cfg, "data/eye.xml")
	}
}

// eyeBox is the box the eye cascade learns: 0.7 inter-ocular distances wide, centred on the eye.
func eyeBox(x, y, iod float64) image.Rectangle {
	half := 0.35 * iod
	return image.Rect(int(x-half+0.5), int(y-half+0.5), int(x+half+0.5), int(y+half+0.5))
}

func trainAndSave(t *testing.T, pos, neg []*image.Gray, bgs []Background, cfg TrainConfig, path string) {
	start := time.Now()
	c, reps, err := Train(pos, neg, bgs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	weak := 0
	for _, r := range reps {
		weak += r.Weak
	}
	t.Logf("%s: %d stages, %d weak classifiers, %d positives, %.0fs", path, len(c.Stages), weak, len(pos), time.Since(start).Seconds())
	if err := c.SaveFile(path); err != nil {
		t.Fatal(err)
	}
}

// loadCelebs reads celebs60 as grey images: the 112x112 aligned photos and the 250x250 LFW ones.
func loadCelebs(t *testing.T, dir string) (aligned, lfw []*image.Gray) {
	for _, path := range globOrFail(t, filepath.Join(dir, "*", "*.jpg")) {
		g := Grey(decodeFile(t, path))
		switch g.Rect.Dx() {
		case 112:
			aligned = append(aligned, g)
		case 250:
			lfw = append(lfw, g)
		}
	}
	return aligned, lfw
}

func globOrFail(t *testing.T, pattern string) []string {
	paths, err := filepath.Glob(pattern)
	if err != nil || len(paths) == 0 {
		t.Fatalf("no files match %s", pattern)
	}
	return paths
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// rotate90 turns g by quarter turns clockwise.
func rotate90(g *image.Gray, quarters int) *image.Gray {
	for ; quarters > 0; quarters-- {
		w, h := g.Rect.Dx(), g.Rect.Dy()
		out := image.NewGray(image.Rect(0, 0, h, w))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				out.Pix[x*out.Stride+(h-1-y)] = g.Pix[y*g.Stride+x]
			}
		}
		g = out
	}
	return g
}
