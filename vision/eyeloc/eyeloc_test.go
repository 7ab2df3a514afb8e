package eyeloc

import (
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/vision/facetest"
	"github.com/vgglab/vgg/vision/haar"
	"github.com/vgglab/vgg/vision/synth"
)

// dlibFigures runs l on dlib_train's 18 annotated faces (dlib's boxes) and returns on how many
// both eyes are within a tenth of the distance between them, of the 13 in the photos recipes
// leave out and of the 5 they may train on, and the worst error.
func dlibFigures(t *testing.T, l *Locator, logEach bool) (heldOut, trained int, worst float64) {
	faces := facetest.DlibLandmarks(t)
	greys := map[string]*image.Gray{}
	for _, f := range faces {
		g, ok := greys[f.Photo]
		if !ok {
			g = haar.Grey(facetest.Load(t, filepath.Join(facetest.Dir(t), "dlib_train", f.Photo)))
			greys[f.Photo] = g
		}
		found, err := l.Locate(g, []image.Rectangle{f.Box})
		if err != nil {
			t.Fatal(err)
		}
		e := facetest.EyeError(found[0].Centres, f.Eyes)
		switch {
		case e > 0.1:
		case facetest.DlibHeldOut[f.Photo]:
			heldOut++
		default:
			trained++
		}
		worst = max(worst, e)
		if logEach {
			t.Logf("%s %v: off by %.3f of the distance between the eyes (spread %.3f)", f.Photo, f.Box, e, found[0].Spread)
		}
	}
	return heldOut, trained, worst
}

// TestDefaultLocatorOnDlibFaces measures the embedded locator on dlib_train's 18 faces, 13 of
// which (in the two larger photos) its recipe never saw. Issue 13 asks for both eyes within
// 10% of the distance between them on at least 15; the Haar eye cascade had 9, no eyes at all
// on 2 and one 0.32 off. The embedded weights have 10 (5 of the 13 held out, 11 of them within
// 15%), none worse than 0.2: this guards that, and the bar is still open.
func TestDefaultLocatorOnDlibFaces(t *testing.T) {
	heldOut, trained, worst := dlibFigures(t, Default(), testing.Verbose())
	t.Logf("both eyes within 10%% on %d of the 13 faces of the held-out photos and %d of the 5 the recipe trained on; worst error %.3f", heldOut, trained, worst)
	if heldOut < 5 || trained < 5 || worst > 0.25 {
		t.Errorf("both eyes within 10%% of the distance between them on %d of 13 held-out faces and %d of 5 trained on, the worst %.3f off; want at least 5, 5 and none over 0.25",
			heldOut, trained, worst)
	}
}

// TestDefaultLocatorOnHeldOutAlignedPhotos measures the embedded locator on the celebs60
// aligned photos its recipe left out, framed as the Haar cascade frames them and as dlib does.
func TestDefaultLocatorOnHeldOutAlignedPhotos(t *testing.T) {
	boxes := map[string]image.Rectangle{"cascade": image.Rect(13, 25, 99, 111), "dlib-like": image.Rect(9, 12, 104, 107)}
	for name, box := range boxes {
		n, within := 0, 0
		for _, p := range facetest.Aligned(t) {
			if !p.HeldOut {
				continue
			}
			found, err := Default().Locate(haar.Grey(p.Img), []image.Rectangle{box})
			if err != nil {
				t.Fatal(err)
			}
			n++
			if facetest.EyeError(found[0].Centres, facetest.ArcFaceEyes) <= 0.1 {
				within++
			}
		}
		t.Logf("%s box: both eyes within 10%% of the template's on %d of %d held-out photos", name, within, n)
		if within < n*9/10 {
			t.Errorf("%s box: both eyes within 10%% on only %d of %d", name, within, n)
		}
	}
}

// TestDefaultLocatorOnSynthFaces runs the embedded locator on synthetic faces of a seed its
// recipe did not draw, framed by the face cascade where it finds them.
func TestDefaultLocatorOnSynthFaces(t *testing.T) {
	const seed, size = 9, 128
	cascade := haar.FrontalFace()
	n, within := 0, 0
	for id := range 8 {
		for photo := range 4 {
			img := synth.Render(seed, id, photo, size)
			truth := synth.EyeCentres(synth.NewIdentity(seed, id), synth.NewShot(seed, id, photo), size)
			grey := haar.Grey(img)
			dets, err := cascade.Detect(grey, haar.DefaultParams())
			if err != nil {
				t.Fatal(err)
			}
			if len(dets) == 0 {
				continue
			}
			found, err := Default().Locate(grey, []image.Rectangle{dets[0].Box})
			if err != nil {
				t.Fatal(err)
			}
			n++
			if e := facetest.EyeError(found[0].Centres, truth); e <= 0.1 {
				within++
			} else {
				t.Logf("synth %d/%d: off by %.3f", id, photo, e)
			}
		}
	}
	t.Logf("both eyes within 10%% on %d of %d synthetic faces the cascade found", within, n)
	if n < 16 || within < n*9/10 {
		t.Errorf("both eyes within 10%% on %d of %d faces found (of 32)", within, n)
	}
}

// TestWindowMaps checks that toCrop inverts toPicture for upright and turned windows.
func TestWindowMaps(t *testing.T) {
	for _, w := range []window{{x0: 3, y0: -2, ux: 1.5}, {x0: 10, y0: 4, ux: 0.8, uy: -0.6}, {x0: -5, y0: 7, ux: 2, uy: 3}} {
		for _, p := range [][2]float64{{0, 0}, {7.5, 3}, {-2, 40}} {
			x, y := w.toPicture(p[0], p[1])
			u, v := w.toCrop(x, y)
			if math.Abs(u-p[0]) > 1e-9 || math.Abs(v-p[1]) > 1e-9 {
				t.Errorf("window %+v: crop point %v went to (%g, %g) and back to (%g, %g)", w, p, x, y, u, v)
			}
		}
	}
}

// TestSampleReadsTheWindow samples a picture whose grey rises linearly across it: bilinear
// interpolation and averaging give every crop pixel exactly the ramp's value at the crop
// pixel's centre, for windows that enlarge, shrink (averaging several points a pixel, or
// blocks of pixels first) and turn, as long as they stay inside the picture.
func TestSampleReadsTheWindow(t *testing.T) {
	const side = 90
	// Whole grey levels at the pixel centres, so that the picture holds the ramp exactly.
	ramp := func(x, y float64) float64 { return 10 + (x - 0.5) + (y - 0.5) }
	grey := image.NewGray(image.Rect(0, 0, side, side))
	for y := range side {
		for x := range side {
			grey.Pix[y*grey.Stride+x] = uint8(ramp(float64(x)+0.5, float64(y)+0.5))
		}
	}
	for _, w := range []window{
		{x0: 30, y0: 25, ux: 0.5},          // enlarging
		{x0: 1, y0: 1, ux: 1.7},            // shrinking: 2x2 points a pixel
		{x0: 2, y0: 3, ux: 4.2},            // shrinking a lot: 2x2 blocks averaged first
		{x0: 40, y0: 2, ux: 0.9, uy: 0.42}, // turned
	} {
		const n = 20
		p := greyPlane(grey, w, n).sample(w, n)
		for j := range n {
			for i := range n {
				x, y := w.toPicture(float64(i)+0.5, float64(j)+0.5)
				if got, want := p.pix[j*n+i], ramp(x, y); math.Abs(got-want) > 1e-9 {
					t.Fatalf("window %+v: crop pixel (%d, %d) is %g, the ramp there %g", w, i, j, got, want)
				}
			}
		}
	}
}

// TestCropOfATinyPictureAndBoxesOutside crops boxes that reach past the picture or miss it
// entirely: every value is finite (the border repeats), never a panic.
func TestCropOfATinyPictureAndBoxesOutside(t *testing.T) {
	grey := image.NewGray(image.Rect(5, 5, 9, 8))
	for i := range grey.Pix {
		grey.Pix[i] = uint8(40 * i)
	}
	for _, box := range []image.Rectangle{image.Rect(0, 0, 20, 20), image.Rect(100, 100, 140, 140), image.Rect(-50, 6, -10, 46)} {
		for i, v := range Crop(grey, box) {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("box %v: crop value %d is %v", box, i, v)
			}
		}
	}
}

// TestDecode checks the read-out: a peak with even neighbours answers its bin's centre, two
// equal bins the edge between them, and a far second peak does not pull the answer.
func TestDecode(t *testing.T) {
	logits := make([]float32, heads*Side)
	for i := range logits {
		logits[i] = -20
	}
	// Head 0: a peak at 10 with equal neighbours. Head 1: bins 20 and 21 equal. Head 2: a
	// peak at 5 and a slightly lower one at 40. Head 3: flat, the spread of a uniform.
	logits[10], logits[9], logits[11] = 5, 2, 2
	logits[Side+20], logits[Side+21] = 4, 4
	logits[2*Side+5], logits[2*Side+40] = 6, 5.5
	for i := range Side {
		logits[3*Side+i] = 0
	}
	got := decode(logits)
	for h, want := range []float64{10.5, 21, 5.5} {
		if math.Abs(got[h].mean-want) > 1e-9 {
			t.Errorf("head %d: mean %g, want %g", h, got[h].mean, want)
		}
	}
	if uniform := Side / math.Sqrt(12); got[3].dev < uniform {
		t.Errorf("flat head: spread %g, want at least %g (a uniform over %d bins about its mean)", got[3].dev, uniform, Side)
	}
	if got[0].dev >= got[2].dev {
		t.Errorf("a single peak spreads %g, two far apart %g: want less", got[0].dev, got[2].dev)
	}
}

// dotFace draws a grey picture with two dark dots (the eyes) on a lighter oval, on a grey
// background, the dots
// placed and turned at random: a toy face whose eyes are known exactly.
func dotFace(rng *rand.Rand) Source {
	const side = 96
	grey := image.NewGray(image.Rect(0, 0, side, side))
	d := 22 + 10*rng.Float64()
	turn := (rng.Float64() - 0.5) * 0.5
	cx, cy := 48+6*(rng.Float64()-0.5), 44+6*(rng.Float64()-0.5)
	cos, sin := math.Cos(turn), math.Sin(turn)
	eyes := [2][2]float64{{cx - d/2*cos, cy - d/2*sin}, {cx + d/2*cos, cy + d/2*sin}}
	background := 120 + 60*rng.Float64()
	for y := range side {
		for x := range side {
			px, py := float64(x)+0.5, float64(y)+0.5
			v := background
			if math.Hypot((px-cx)/(0.9*d), (py-cy-0.5*d)/(1.2*d)) < 1 {
				v = 200
			}
			for _, e := range eyes {
				if r := math.Hypot(px-e[0], py-e[1]); r < 0.15*d {
					v = 20
				}
			}
			grey.Pix[y*side+x] = uint8(v)
		}
	}
	return Source{Grey: grey, Eyes: eyes}
}

// TestExampleLabelsLandOnTheEyes cuts training crops of toy faces and checks that each label
// lies on the dark dot that is that eye: the framing, turn, enlargement and mirroring of
// example move the labels with the pixels.
func TestExampleLabelsLandOnTheEyes(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	for range 200 {
		src := dotFace(rng)
		crop, labels := example(src, rng)
		for k := range 2 {
			x, y := int(labels[2*k]), int(labels[2*k+1])
			// The dot is the darkest thing in the crop, even blurred by an enlargement: the
			// label's pixel is dark, and its neighbourhood holds the dot's core.
			darkest := float32(math.Inf(1))
			for j := max(y-1, 0); j <= min(y+1, Side-1); j++ {
				for i := max(x-1, 0); i <= min(x+1, Side-1); i++ {
					darkest = min(darkest, crop[j*Side+i])
				}
			}
			// The crop is standardised (mean 0); the dots are its darkest values.
			if floor := slices.Min(crop); darkest > 0.5*floor {
				t.Fatalf("eye %d's label (%d, %d): the darkest value beside it is %.2f, the crop's darkest %.2f: not on a dark dot", k, x, y, darkest, floor)
			}
		}
		if labels[0] >= labels[2] {
			t.Fatalf("labels %v: the image-left eye is not left of the other", labels)
		}
	}
}

// TestTrainLearnsToyEyes trains a locator briefly on toy faces and checks it finds the eyes of
// toy faces it never saw, through Locate's boxes: training, the labels and the read-out agree
// end to end.
func TestTrainLearnsToyEyes(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 7))
	var sources []Source
	for range 64 {
		sources = append(sources, dotFace(rng))
	}
	l, err := Train(sources, TrainConfig{Steps: 300, Batch: 16, LR: 3e-3, Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	within, n := 0, 20
	for range n {
		src := dotFace(rng)
		d := math.Hypot(src.Eyes[1][0]-src.Eyes[0][0], src.Eyes[1][1]-src.Eyes[0][1])
		mx, my := (src.Eyes[0][0]+src.Eyes[1][0])/2, (src.Eyes[0][1]+src.Eyes[1][1])/2
		box := image.Rect(int(mx-1.4*d), int(my-0.9*d), int(mx+1.4*d), int(my+1.9*d))
		found, err := l.Locate(src.Grey, []image.Rectangle{box})
		if err != nil {
			t.Fatal(err)
		}
		if facetest.EyeError(found[0].Centres, src.Eyes) <= 0.1 {
			within++
		}
	}
	if within < n*8/10 {
		t.Errorf("after training on toy faces, both eyes within 10%% on %d of %d new ones", within, n)
	}
}

// TestLoadRejectsBadWeights: weights for another crop size, or not safetensors, are errors
// that name the source; a saved locator loads back to the same answers.
func TestLoadRejectsBadWeights(t *testing.T) {
	if _, err := Load("junk.safetensors", []byte("not a safetensors file")); err == nil {
		t.Error("junk loaded")
	}
	l, err := newLocator(3)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "eyeloc.safetensors")
	if err := l.Save(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Load(path, data)
	if err != nil {
		t.Fatal(err)
	}
	src := dotFace(rand.New(rand.NewPCG(1, 1)))
	box := image.Rect(10, 10, 86, 86)
	a, err := l.Locate(src.Grey, []image.Rectangle{box})
	if err != nil {
		t.Fatal(err)
	}
	b, err := back.Locate(src.Grey, []image.Rectangle{box})
	if err != nil {
		t.Fatal(err)
	}
	if a[0] != b[0] {
		t.Errorf("saved and loaded locator answers %+v, the original %+v", b[0], a[0])
	}
	if back.Fingerprint() == "" {
		t.Error("a loaded locator has no fingerprint")
	}
	other := filepath.Join(t.TempDir(), "side32.safetensors")
	if err := nn.SaveParams(other, l.net.Params(), l.ctx.Backend, map[string]string{"side": "32"}); err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(other, data); err == nil || !strings.Contains(err.Error(), other) {
		t.Errorf("weights for 32-pixel crops: error %v, want one naming %s", err, other)
	}
}

// TestYawedMovesTheEyesWithThePixels turns toy faces about the vertical: no turn changes
// nothing, and after a turn each eye's new centre is still on its dark dot, and the eyes are
// closer together (by cos ψ on a cylinder).
func TestYawedMovesTheEyesWithThePixels(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for range 20 {
		src := dotFace(rng)
		same := yawed(src, 0, 1.1)
		if !slices.Equal(same.Grey.Pix, src.Grey.Pix) || facetest.EyeError(same.Eyes, src.Eyes) > 1e-12 {
			t.Fatal("a turn of 0 changed the picture or the eyes")
		}
		d := math.Hypot(src.Eyes[1][0]-src.Eyes[0][0], src.Eyes[1][1]-src.Eyes[0][1])
		for _, psi := range []float64{-0.6, -0.2, 0.3, 0.6} {
			turned := yawed(src, psi, 1.1)
			for k, e := range turned.Eyes {
				if v := turned.Grey.GrayAt(int(e[0]), int(e[1])).Y; v > 60 {
					t.Fatalf("turn %.1f: eye %d at (%.1f, %.1f) is on grey %d, not on its dot", psi, k, e[0], e[1], v)
				}
			}
			nd := math.Hypot(turned.Eyes[1][0]-turned.Eyes[0][0], turned.Eyes[1][1]-turned.Eyes[0][1])
			if want := d * math.Cos(psi); math.Abs(nd-want) > 1e-6*d {
				t.Fatalf("turn %.1f: eyes %.3f apart, want %.3f (%.3f cos ψ)", psi, nd, want, d)
			}
		}
	}
}
