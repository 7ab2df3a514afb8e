package facecheck

import (
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vgglab/vgg/vision/facetest"
	"github.com/vgglab/vgg/vision/haar"
	"github.com/vgglab/vgg/vision/synth"
)

// This file is the recipe for the embedded weights data/facecheck.safetensors: with
// VGG_TRAIN_FACECHECK=1 and VGG_FACES set it gathers the crops below from the shared face data
// (never from the held-out photos, see facetest) and trains the checker with seed 1 (a few
// minutes on 2 cores).
//
// Faces: celebs60's 112x112 aligned photos at the face cascade's box (13,25)-(99,111), and
// the centred face of its 250x250 LFW photos, both moved, scaled and turned a little as the
// detector's boxes are; the detector's own boxes on those LFW faces, upright and turned; dlib_train's annotated
// faces in its two training photos.
// Non-faces: cbcl24's non-face patches; the detector's boxes, at a low neighbour count, on the
// LFW photos turned by quarter turns (and a further +-20 degrees), where no upright face is
// left; boxes that frame a face wrongly (too large, or half on it); random windows of the LFW
// photos and of dlib_train's training photos away from every face; the detector's boxes on
// dlib_train's training photos away from every annotated face. (The detector's other boxes
// on the upright LFW photos are no non-faces: nearly all are people in the background.)

// recipeSeed draws the crops and the training.
const recipeSeed = 1

func TestTrainEmbeddedChecker(t *testing.T) {
	if os.Getenv("VGG_TRAIN_FACECHECK") == "" {
		t.Skip("set VGG_TRAIN_FACECHECK=1 (and VGG_FACES) to retrain the embedded face checker")
	}
	start := time.Now()
	pos, neg := recipeCrops(t)
	t.Logf("%d face crops, %d non-face crops gathered in %.0fs", len(pos), len(neg), time.Since(start).Seconds())
	cfg := TrainConfig{Epochs: facetest.EnvInt("VGG_FACECHECK_EPOCHS", 8), Seed: recipeSeed,
		Progress: func(epoch int, loss float64) {
			t.Logf("%s epoch %d: loss %.4f", time.Now().Format("15:04:05"), epoch, loss)
		}}
	c, err := Train(pos, neg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("data", "facecheck.safetensors")
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s in %.0fs", path, time.Since(start).Seconds())
}

// recipeCrops gathers the training crops from the photos recipes may use.
func recipeCrops(t *testing.T) (pos, neg [][]float32) {
	rng := rand.New(rand.NewPCG(recipeSeed, 21))
	cascade := haar.FrontalFace()
	faceBox := image.Rect(13, 25, 99, 111)
	for _, p := range facetest.Aligned(t) {
		if p.HeldOut {
			continue
		}
		g := haar.Grey(p.Img)
		pos = append(pos, jitteredCrop(g, faceBox, rng))
	}
	for i, p := range facetest.LFW(t) {
		if p.HeldOut {
			continue
		}
		g := haar.Grey(p.Img)
		// The face is about LFWFace in every photo, but its size varies: where the detector
		// finds it, its box is the face's.
		face, best := p.Faces[0], 0.5
		for _, box := range detectTurned(t, cascade, g, 0, 3) {
			if o := haar.IoU(box.upright, p.Faces[0]); o >= best {
				face, best = box.upright, o
			}
		}
		if best > 0.5 {
			pos = append(pos, Crop(g, face))
		}
		pos = append(pos, jitteredCrop(g, face, rng))
		// The detector's other boxes on these photos are mostly real faces (people in the
		// background), so they are no non-faces. The photo turned by a quarter, a half or
		// three quarters holds no upright face: every box the detector finds there, on the
		// photo as it is or turned a further -20 or +20 degrees as the aligner searches, is one
		// (hands, collars, text, hair, the turned photo's edges).
		quarters := haar.NewRotation(g.Rect.Dx(), g.Rect.Dy(), float64(90*(1+i%3))).Apply(g)
		turned := quarters
		if turn := []float64{0, -20, 20}[(i/3)%3]; turn != 0 {
			turned = haar.NewRotation(quarters.Rect.Dx(), quarters.Rect.Dy(), turn).Apply(quarters)
		}
		for _, box := range detectTurned(t, cascade, turned, 0, 1) {
			neg = append(neg, Crop(box.canvas, box.inCanvas))
		}
		// The face of the photo turned by -20 or +20 degrees, found by a search turned back.
		turn := []float64{-20, 20}[i%2]
		rot := haar.NewRotation(g.Rect.Dx(), g.Rect.Dy(), turn)
		x, y := rot.ToCanvas(float64(face.Min.X+face.Max.X)/2, float64(face.Min.Y+face.Max.Y)/2)
		truth := squareAbout(x, y, float64(face.Dx()))
		for _, box := range detectTurned(t, cascade, rot.Apply(g), -turn, 3) {
			if haar.IoU(box.upright, truth) >= 0.5 {
				pos = append(pos, Crop(box.canvas, box.inCanvas))
			}
		}
		neg = append(neg, randomWindows(g, []image.Rectangle{face}, 3, rng)...)
		neg = append(neg, nearMisses(g, face, 2, rng)...)
	}
	for _, p := range facetest.Dlib(t) {
		if p.HeldOut {
			continue
		}
		g := haar.Grey(p.Img)
		for _, f := range p.Faces {
			pos = append(pos, jitteredCrop(g, f, rng), jitteredCrop(g, f, rng))
		}
		neg = append(neg, randomWindows(g, p.Faces, 300, rng)...)
		for _, f := range p.Faces {
			neg = append(neg, nearMisses(g, f, 6, rng)...)
		}
		for _, minNeighbors := range []int{3, 1, 0} {
			for _, box := range detectTurned(t, cascade, g, 0, minNeighbors) {
				if !overlapsAny(box.upright, p.Faces, 0.2) {
					neg = append(neg, Crop(g, box.upright))
				}
			}
		}
	}
	// The made-up people of vgg demo are faces to frame too (seeds the tests do not use).
	for id := range 60 {
		for photo := range 4 {
			g := haar.Grey(synth.Render(100+uint64(photo), id, photo, 96+8*(id%8)))
			if dets := detectTurned(t, cascade, g, 0, 3); len(dets) > 0 {
				pos = append(pos, Crop(g, dets[0].upright))
			}
		}
	}
	nonface, _ := filepath.Glob(filepath.Join(facetest.Dir(t), "cbcl24", "nonface", "*.png"))
	for _, path := range nonface {
		g := haar.Grey(facetest.Load(t, path))
		neg = append(neg, Crop(g, g.Rect))
	}
	return pos, neg
}

// turnedBox is a detector box found on a picture turned by some angle: its place on the
// turned canvas, and the upright box of the same size about the same centre in the picture.
type turnedBox struct {
	canvas   *image.Gray
	inCanvas image.Rectangle
	upright  image.Rectangle
}

// detectTurned runs the cascade on g turned by angle degrees.
func detectTurned(t *testing.T, c *haar.Cascade, g *image.Gray, angle float64, minNeighbors int) []turnedBox {
	canvas, rot := g, haar.NewRotation(g.Rect.Dx(), g.Rect.Dy(), angle)
	if angle != 0 {
		canvas = rot.Apply(g)
	}
	p := haar.DefaultParams()
	p.MinNeighbors = minNeighbors
	p.Workers = 1
	dets, err := c.Detect(canvas, p)
	if err != nil {
		t.Fatal(err)
	}
	var out []turnedBox
	for _, d := range dets {
		b := d.Box
		x, y := rot.ToPicture(float64(b.Min.X+b.Max.X)/2, float64(b.Min.Y+b.Max.Y)/2)
		out = append(out, turnedBox{canvas: canvas, inCanvas: b, upright: squareAbout(x, y, float64(b.Dx()))})
	}
	return out
}

// jitteredCrop is the crop of box moved by up to 6% of its side, scaled by 0.9 to 1.1 and
// turned by up to 12 degrees: the spread of the detector's boxes around a face, upright and
// from the tilted search.
func jitteredCrop(g *image.Gray, box image.Rectangle, rng *rand.Rand) []float32 {
	side := float64(box.Dx()) * (0.9 + 0.2*rng.Float64())
	cx := float64(box.Min.X+box.Max.X)/2 + (rng.Float64()*2-1)*0.06*side
	cy := float64(box.Min.Y+box.Max.Y)/2 + (rng.Float64()*2-1)*0.06*side
	rot := haar.NewRotation(g.Rect.Dx(), g.Rect.Dy(), (rng.Float64()*2-1)*12)
	canvas := rot.Apply(g)
	x, y := rot.ToCanvas(cx, cy)
	return Crop(canvas, squareAbout(x, y, side))
}

// nearMisses crops n boxes about a face that frame it wrongly (IoU under 0.25): of its size
// or up to 1.6 times it and moved by 0.6 to 1 side in any direction, or 2.5 to 4 times its
// size about a point near its centre.
func nearMisses(g *image.Gray, face image.Rectangle, n int, rng *rand.Rand) [][]float32 {
	var out [][]float32
	fs := float64(face.Dx())
	cx, cy := float64(face.Min.X+face.Max.X)/2, float64(face.Min.Y+face.Max.Y)/2
	for len(out) < n {
		var box image.Rectangle
		if rng.IntN(3) == 0 {
			side := fs * (2.5 + 1.5*rng.Float64())
			box = squareAbout(cx+(rng.Float64()-0.5)*0.6*side, cy+(rng.Float64()-0.5)*0.6*side, side)
		} else {
			side := fs * (0.8 + 0.8*rng.Float64())
			a, d := rng.Float64()*2*math.Pi, (0.6+0.4*rng.Float64())*fs
			box = squareAbout(cx+d*math.Cos(a), cy+d*math.Sin(a), side)
		}
		if haar.IoU(box, face) < 0.25 {
			out = append(out, Crop(g, box))
		}
	}
	return out
}

// squareAbout is the square of the given side about (x, y), in whole pixels.
func squareAbout(x, y, side float64) image.Rectangle {
	h := side / 2
	return image.Rect(int(math.Round(x-h)), int(math.Round(y-h)), int(math.Round(x+h)), int(math.Round(y+h)))
}

// randomWindows crops n square windows of g (sides 20 pixels to half the picture) that overlap
// no face by more than a little.
func randomWindows(g *image.Gray, faces []image.Rectangle, n int, rng *rand.Rand) [][]float32 {
	var out [][]float32
	w, h := g.Rect.Dx(), g.Rect.Dy()
	for tries := 0; len(out) < n && tries < 20*n; tries++ {
		side := 20 + rng.IntN(max(1, min(w, h)/2-20))
		x, y := rng.IntN(max(1, w-side)), rng.IntN(max(1, h-side))
		box := image.Rect(x, y, x+side, y+side).Add(g.Rect.Min)
		if overlapsAny(box, faces, 0.1) {
			continue
		}
		out = append(out, Crop(g, box))
	}
	return out
}

// overlapsAny says whether box overlaps one of faces with IoU at least iou, or holds a face's
// centre.
func overlapsAny(box image.Rectangle, faces []image.Rectangle, iou float64) bool {
	for _, f := range faces {
		if haar.IoU(box, f) >= iou || box.Overlaps(centreOf(f)) {
			return true
		}
	}
	return false
}

// centreOf is the middle ninth of a face box: a box covering it sits on the face.
func centreOf(f image.Rectangle) image.Rectangle {
	return image.Rect(f.Min.X+f.Dx()/3, f.Min.Y+f.Dy()/3, f.Max.X-f.Dx()/3, f.Max.Y-f.Dy()/3)
}
