package align

import (
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/facetest"
	"github.com/vgglab/vgg/vision/haar"
)

// TestEyeSimilarity checks that the transform takes the source eyes exactly onto the targets
// (so its inverse takes the targets back), whatever the rotation and scale.
func TestEyeSimilarity(t *testing.T) {
	for _, src := range [][2]Point{{{10, 20}, {50, 20}}, {{100, 80}, {160, 120}}, {{30, 60}, {25, 10}}} {
		s := eyeSimilarity(src, EyeTargets)
		for i := range 2 {
			back := s.inverse(EyeTargets[i])
			if math.Hypot(back.X-src[i].X, back.Y-src[i].Y) > 1e-9 {
				t.Errorf("eyes %v: target %v maps back to %v, want %v", src, EyeTargets[i], back, src[i])
			}
		}
	}
}

// TestWarpIdentityAndBorder warps a test card with the identity transform (every pixel must
// come back unchanged) and with a strong zoom-out (corners must repeat the edge colour, not
// turn black).
func TestWarpIdentityAndBorder(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, Size, Size))
	for y := 0; y < Size; y++ {
		for x := 0; x < Size; x++ {
			src.Set(x, y, color.RGBA{uint8(x * 2), uint8(y * 2), uint8(x ^ y), 255})
		}
	}
	same := warp(src, eyeSimilarity(EyeTargets, EyeTargets), Size)
	for i := range src.Pix {
		if same.Pix[i] != src.Pix[i] {
			t.Fatalf("identity warp changed byte %d: %d -> %d", i, src.Pix[i], same.Pix[i])
		}
	}
	// Eyes 4x closer together than the targets: the picture shrinks to a quarter, mid-frame.
	mid := Point{Size / 2, Size / 2}
	small := [2]Point{{mid.X - 5, mid.Y}, {mid.X + 5, mid.Y}}
	out := warp(src, eyeSimilarity(small, EyeTargets), Size)
	corner := out.RGBAAt(0, 0)
	if corner.A != 255 || corner == (color.RGBA{0, 0, 0, 255}) && src.RGBAAt(0, 0) != corner {
		t.Errorf("corner pixel %v: border not replicated", corner)
	}
}

// TestHalveAverages checks the anti-aliasing step: each output pixel is its 2x2 block's mean.
func TestHalveAverages(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	vals := []uint8{10, 20, 30, 40, 50, 60}
	for i, v := range vals {
		src.Set(i%3, i/3, color.RGBA{v, v, v, 255})
	}
	h := halve(src)
	if h.Rect.Dx() != 2 || h.Rect.Dy() != 1 {
		t.Fatalf("halved size %v, want 2x1", h.Rect)
	}
	if got := h.RGBAAt(0, 0).R; got != 30 { // (10+20+40+50)/4
		t.Errorf("block (0,0) = %d, want 30", got)
	}
	if got := h.RGBAAt(1, 0).R; got != 45 { // odd column averaged with itself: (30+30+60+60)/4
		t.Errorf("block (1,0) = %d, want 45", got)
	}
}

// TestAlignBadInput: tiny, flat and face-free images give an error or a marked fallback,
// never a panic.
func TestAlignBadInput(t *testing.T) {
	a := New(haar.FrontalFace(), haar.Eye())
	if _, err := a.Align(image.NewRGBA(image.Rect(0, 0, 1, 1))); err == nil {
		t.Error("1x1 image: no error")
	}
	grey := image.NewGray(image.Rect(0, 0, 200, 150))
	for i := range grey.Pix {
		grey.Pix[i] = 120
	}
	faces, err := a.Align(grey)
	if err != nil || len(faces) != 1 || !faces[0].WholeImage || faces[0].Aligned.Rect.Dx() != Size {
		t.Errorf("flat grey image: %d faces, err %v; want one whole-image fallback", len(faces), err)
	}
}

// TestEyesOnDlibFaces finds the eyes inside each annotated dlib_train face box (dlib's boxes,
// framed lower and looser than the face cascade's), with the built-in eye locator and with the
// eye cascade, and measures both against the landmark eye centres: issue 13 asks for both eyes
// within 10% of the distance between them on at least 15 of the 18 faces, and no face without
// eyes. (The locator's recipe trained on the 5 faces of the two smaller photos; see
// vision/eyeloc's TestDefaultLocatorOnDlibFaces for the figures apart.)
func TestEyesOnDlibFaces(t *testing.T) {
	faces := facetest.DlibLandmarks(t)
	located, cascade := New(haar.FrontalFace(), haar.Eye()), New(haar.FrontalFace(), haar.Eye())
	cascade.UseEyeCascade(haar.Eye())
	greys := map[string]*image.Gray{}
	var locatorWithin, cascadeWithin, cascadeFound int
	var locatorWorst float64
	for _, f := range faces {
		g, ok := greys[f.Photo]
		if !ok {
			g = haar.Grey(facetest.Load(t, filepath.Join(facetest.Dir(t), "dlib_train", f.Photo)))
			greys[f.Photo] = g
		}
		lf, err := located.withEyes(g, f.Box, 0)
		if err != nil {
			t.Fatal(err)
		}
		le := facetest.EyeError(pair(lf.Eyes), f.Eyes)
		if le <= 0.10 {
			locatorWithin++
		}
		locatorWorst = max(locatorWorst, le)
		ce := math.NaN()
		if eyes, ok := cascade.findEyes(g, f.Box); ok {
			cascadeFound++
			if ce = facetest.EyeError(pair(eyes), f.Eyes); ce <= 0.10 {
				cascadeWithin++
			}
		}
		t.Logf("%s %v: eyes off by %.3f of the distance between them (locator, spread %.3f), %.3f (cascade; NaN: not found)", f.Photo, f.Box, le, lf.EyeSpread, ce)
	}
	t.Logf("both eyes within 10%% of the distance between them: locator %d of %d faces (worst %.3f), cascade %d (eyes found in %d)",
		locatorWithin, len(faces), locatorWorst, cascadeWithin, cascadeFound)
	// The embedded locator: 10, none over 0.2 (issue 13's 15 is still open); the cascade 9.
	if locatorWithin < 10 || locatorWorst > 0.25 {
		t.Errorf("the eye locator has both eyes within 10%% on %d of %d faces, the worst %.3f off; want at least 10 and none over 0.25",
			locatorWithin, len(faces), locatorWorst)
	}
}

// pair is eyes as eyeloc and facetest write them.
func pair(eyes [2]Point) [2][2]float64 {
	return [2][2]float64{{eyes[0].X, eyes[0].Y}, {eyes[1].X, eyes[1].Y}}
}

// TestAlignCelebs aligns a sample of celebs60 (every 10th photo) and reports, per kind of
// photo, how often a face and its eyes were found. For the 112x112 ArcFace-aligned photos the
// true eye positions are known, so it also measures the found eyes against them. (The
// embedded cascades were trained on those aligned photos, so this checks the pipeline — tight
// crops, padding, mapping back — more than it measures generalisation; dlib_train does that.)
func TestAlignCelebs(t *testing.T) {
	dir := os.Getenv("VGG_FACES")
	if dir == "" {
		t.Skip("VGG_FACES not set: real-photo checks skipped")
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "celebs60", "*", "*.jpg"))
	a := New(haar.FrontalFace(), haar.Eye())
	type tally struct{ photos, faces, eyes, eyesWithin10 int }
	kinds := map[int]*tally{}
	for i := 0; i < len(paths); i += 10 {
		img, err := vision.Load(paths[i])
		if err != nil {
			t.Fatal(err)
		}
		size := img.Bounds().Dx()
		if kinds[size] == nil {
			kinds[size] = &tally{}
		}
		k := kinds[size]
		faces, err := a.Align(img)
		if err != nil {
			t.Fatalf("%s: %v", paths[i], err)
		}
		k.photos++
		f := faces[0]
		if f.Aligned.Rect.Dx() != Size || f.Aligned.Rect.Dy() != Size {
			t.Fatalf("%s: aligned face is %v", paths[i], f.Aligned.Rect)
		}
		if f.WholeImage {
			continue
		}
		k.faces++
		if f.Fallback {
			continue
		}
		k.eyes++
		if size == 112 {
			truth := [2]Point{{38.29 + 0.5, 51.70 + 0.5}, {73.53 + 0.5, 51.50 + 0.5}}
			iod := truth[1].X - truth[0].X
			e := max(math.Hypot(f.Eyes[0].X-truth[0].X, f.Eyes[0].Y-truth[0].Y),
				math.Hypot(f.Eyes[1].X-truth[1].X, f.Eyes[1].Y-truth[1].Y)) / iod
			if e <= 0.1 {
				k.eyesWithin10++
			}
		}
	}
	for size, k := range kinds {
		t.Logf("%dx%d photos: %d, face found in %d, eyes in %d", size, size, k.photos, k.faces, k.eyes)
		if size == 112 {
			t.Logf("112x112 photos: both eyes within 10%% of the inter-ocular distance of the template eyes in %d", k.eyesWithin10)
		}
		if k.faces < k.photos*3/4 {
			t.Errorf("%dx%d photos: a face was found in only %d of %d", size, size, k.faces, k.photos)
		}
	}
}

func TestRankByConfidence(t *testing.T) {
	big := candidate{box: image.Rect(0, 0, 300, 300), neighbors: 7}                  // a false box spanning two people
	face := candidate{box: image.Rect(10, 10, 90, 90), neighbors: 60}                // a real face
	twin := candidate{box: image.Rect(100, 10, 200, 110), neighbors: 60}             // as confident, larger
	tilted := candidate{box: image.Rect(300, 10, 400, 110), neighbors: 60, tilt: 20} // as confident, as large, tilted
	dets := []candidate{big, tilted, face, twin}
	rankByConfidence(dets)
	if dets[0] != twin || dets[1] != face || dets[2] != tilted || dets[3] != big {
		t.Errorf("order %v, want the larger of the two most confident upright faces, the other, the tilted one, then the false box", dets)
	}
}

// On every dlib_train group photo, the face Detect puts first (the one match, enrol and align
// use) is one of the annotated faces, not a false box.
func TestFirstFaceIsARealFace(t *testing.T) {
	a := New(haar.FrontalFace(), haar.Eye())
	byFile := map[string][]image.Rectangle{}
	for _, f := range facetest.DlibLandmarks(t) {
		byFile[f.Photo] = append(byFile[f.Photo], f.Box)
	}
	for file, boxes := range byFile {
		img := facetest.Load(t, filepath.Join(facetest.Dir(t), "dlib_train", file))
		found, err := a.Detect(img)
		if err != nil || len(found) == 0 {
			t.Fatalf("%s: %d faces, %v", file, len(found), err)
		}
		first, best := found[0].Box, 0.0
		for _, b := range boxes {
			best = max(best, iou(first, b))
		}
		if best < 0.3 {
			t.Errorf("%s: the first face %v (%d hits) overlaps no annotated face (best IoU %.2f)", file, first, found[0].Neighbors, best)
		}
	}
}

var iou = haar.IoU

// The fingerprint keys cached framed photos: it must change with every setting that can change
// a crop, and only with those.
func TestFingerprintNamesEverySetting(t *testing.T) {
	base := New(haar.FrontalFace(), haar.Eye()).Fingerprint()
	if again := New(haar.FrontalFace(), haar.Eye()).Fingerprint(); again != base {
		t.Fatal("two default aligners have different fingerprints")
	}
	workers := New(haar.FrontalFace(), haar.Eye())
	workers.FaceParams.Workers = 1
	if workers.Fingerprint() != base {
		t.Error("the number of scanning goroutines changed the fingerprint")
	}
	trimmed := *haar.Eye()
	trimmed.Stages = trimmed.Stages[:len(trimmed.Stages)-1]
	changes := map[string]*Aligner{"eye cascade": New(haar.FrontalFace(), &trimmed)}
	minSize := New(haar.FrontalFace(), haar.Eye())
	minSize.FaceParams.MinSize = 30
	changes["face MinSize"] = minSize
	boxEyes := New(haar.FrontalFace(), haar.Eye())
	boxEyes.BoxEyes[0].X += 0.001
	changes["BoxEyes"] = boxEyes
	cropEyes := New(haar.FrontalFace(), haar.Eye())
	cropEyes.CropEyes[1].Y -= 0.001
	changes["CropEyes"] = cropEyes
	noCheck := New(haar.FrontalFace(), haar.Eye())
	noCheck.Check = nil
	changes["no check"] = noCheck
	strict := New(haar.FrontalFace(), haar.Eye())
	stricter := *strict.Check
	stricter.Threshold += 0.01
	strict.Check = &stricter
	changes["check threshold"] = strict
	upright := New(haar.FrontalFace(), haar.Eye())
	upright.Tilts = nil
	changes["no tilts"] = upright
	fallback := New(haar.FrontalFace(), haar.Eye())
	fallback.TiltsAsFallback = true
	changes["tilts as fallback"] = fallback
	eyeCascade := New(haar.FrontalFace(), haar.Eye())
	eyeCascade.UseEyeCascade(haar.Eye())
	changes["eyes by the cascade"] = eyeCascade
	for name, a := range changes {
		if a.Fingerprint() == base {
			t.Errorf("a change of %s kept the fingerprint", name)
		}
	}
}
