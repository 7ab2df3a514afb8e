package align

import (
	"image"
	"image/draw"
	"math"
	"testing"

	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/haar"
)

// tiltedFacePhoto is facePhoto in grey turned by degrees (the canvas grows to hold it all),
// with where the centre of the face's box, found upright, lands.
func tiltedFacePhoto(t *testing.T, degrees float64) (*image.Gray, Point) {
	const side, faceSide, at = 300, 130, 85
	upright := haar.Grey(facePhoto(side, faceSide, at, at))
	faces, err := New(haar.FrontalFace(), haar.Eye()).Detect(upright)
	if err != nil || len(faces) != 1 {
		t.Fatalf("upright: %d faces, %v; want one", len(faces), err)
	}
	b := faces[0].Box
	rot := haar.NewRotation(side, side, degrees)
	x, y := rot.ToCanvas(float64(b.Min.X+b.Max.X)/2, float64(b.Min.Y+b.Max.Y)/2)
	return rot.Apply(upright), Point{x, y}
}

// A face leaning 22 degrees either way is found by the turned search that sets it upright,
// with both eyes, on the photo itself and on a shrunk copy: the eyes' line in the photo leans
// as the face does, so the aligned face comes out upright.
func TestTiltedFaceFound(t *testing.T) {
	for _, lean := range []float64{-22, 22} {
		photo, centre := tiltedFacePhoto(t, lean)
		a := New(haar.FrontalFace(), haar.Eye())
		if lean > 0 {
			// Searched on a copy shrunk by 2, the eyes read at full size.
			a.DetectPixels = 50_000
			if k := a.shrinkFactor(vision.ToRGBA(photo)); k != 2 {
				t.Fatalf("shrink factor %d, want 2", k)
			}
		}
		faces, err := a.Align(photo)
		if err != nil {
			t.Fatal(err)
		}
		f := faces[0]
		if f.WholeImage || f.Fallback {
			t.Errorf("lean %v: face not found with its eyes (%+v)", lean, f)
			continue
		}
		if want := -20 * math.Copysign(1, lean); f.Tilt != want {
			t.Errorf("lean %v: found at tilt %v, want %v (the turn that sets it upright)", lean, f.Tilt, want)
		}
		mid := Point{float64(f.Box.Min.X+f.Box.Max.X) / 2, float64(f.Box.Min.Y+f.Box.Max.Y) / 2}
		if d := math.Hypot(mid.X-centre.X, mid.Y-centre.Y); d > 0.1*float64(f.Box.Dx()) {
			t.Errorf("lean %v: box %v centred %.0f pixels from the face's centre %v", lean, f.Box, d, centre)
		}
		eyeLine := math.Atan2(f.Eyes[1].Y-f.Eyes[0].Y, f.Eyes[1].X-f.Eyes[0].X) * 180 / math.Pi
		if math.Abs(eyeLine-lean) > 6 {
			t.Errorf("lean %v: the eyes' line leans %.1f degrees", lean, eyeLine)
		}
		if faces[0].Score < a.Check.Threshold {
			t.Errorf("lean %v: kept with score %v under the threshold %v", lean, f.Score, a.Check.Threshold)
		}
		// Searched upright only, the face is not found (so the turned searches found it).
		upright := New(haar.FrontalFace(), haar.Eye())
		upright.Tilts = nil
		if only, err := upright.Detect(photo); err != nil || len(only) != 0 {
			t.Logf("lean %v: the upright search alone found %d faces (err %v)", lean, len(only), err)
		}
	}
}

// The checker decides which boxes are kept: one that takes nothing for a face leaves the
// whole-image fallback, and none at all keeps the cascade's boxes.
func TestCheckDropsBoxes(t *testing.T) {
	photo := facePhoto(240, 120, 60, 60)
	a := New(haar.FrontalFace(), haar.Eye())
	a.Tilts = nil
	faces, err := a.Align(photo)
	if err != nil || faces[0].WholeImage || !(faces[0].Score >= a.Check.Threshold) {
		t.Fatalf("built-in check: %+v, %v; want the face kept with its score", faces[0], err)
	}
	strict := *a.Check
	strict.Threshold = 1.1 // no probability reaches it
	a.Check = &strict
	if faces, err = a.Align(photo); err != nil || !faces[0].WholeImage {
		t.Errorf("a check that refuses every box: %+v, %v; want only the whole-image fallback", faces[0], err)
	}
	a.Check = nil
	if faces, err = a.Align(photo); err != nil || faces[0].WholeImage || faces[0].Score != 0 {
		t.Errorf("no check: %+v, %v; want the cascade's face, unscored", faces[0], err)
	}
}

// A face seen at several turns is kept once, at the turn with the most hits; faces of one
// turn are all kept.
func TestOnceEach(t *testing.T) {
	at := func(box image.Rectangle, neighbors int, tilt float64) candidate {
		return candidate{box: box, neighbors: neighbors, tilt: tilt,
			centre: Point{float64(box.Min.X+box.Max.X) / 2, float64(box.Min.Y+box.Max.Y) / 2}}
	}
	upright := at(image.Rect(0, 0, 100, 100), 30, 0)
	sameTilted := at(image.Rect(5, 3, 103, 101), 12, 20)
	tooLarge := at(image.Rect(20, 20, 250, 250), 8, -20) // holds the face's centre: IoU 0.12
	beside := at(image.Rect(60, 0, 160, 100), 9, 0)      // another face, same turn
	elsewhere := at(image.Rect(300, 0, 400, 100), 5, 20) // another face, turned
	got := onceEach([]candidate{upright, sameTilted, tooLarge, beside, elsewhere})
	if len(got) != 3 || got[0] != upright || got[1] != beside || got[2] != elsewhere {
		t.Errorf("kept %v; want the upright face, the one beside it and the one elsewhere", got)
	}
	// With the checker's scores, the surer face wins, whatever its hits: here a false box on
	// the hair above a face, with more hits, that holds the face's centre.
	face := at(image.Rect(350, 139, 379, 168), 12, 0)
	face.score = 0.99
	hair := at(image.Rect(329, 92, 392, 155), 13, 20)
	hair.score = 0.78
	if got := onceEach([]candidate{hair, face}); len(got) != 1 || got[0] != face {
		t.Errorf("kept %v; want only the face", got)
	}
}

// With TiltsAsFallback the turned searches run only where the upright search finds nothing:
// of an upright face beside a tilted one only the upright is found, and a tilted face alone
// is still found.
func TestTiltsAsFallback(t *testing.T) {
	tilted, _ := tiltedFacePhoto(t, 22)
	upright := haar.Grey(facePhoto(300, 130, 85, 85))
	both := image.NewGray(image.Rect(0, 0, upright.Rect.Dx()+tilted.Rect.Dx(), tilted.Rect.Dy()))
	for i := range both.Pix {
		both.Pix[i] = 128
	}
	draw.Draw(both, upright.Rect, upright, image.Point{}, draw.Src)
	draw.Draw(both, tilted.Rect.Add(image.Pt(upright.Rect.Dx(), 0)), tilted, image.Point{}, draw.Src)
	a := New(haar.FrontalFace(), haar.Eye())
	all, err := a.Detect(both)
	if err != nil || len(all) != 2 {
		t.Fatalf("every turn: %d faces, %v; want both", len(all), err)
	}
	a.TiltsAsFallback = true
	first, err := a.Detect(both)
	if err != nil || len(first) != 1 || first[0].Tilt != 0 {
		t.Fatalf("turns as fallback: %d faces (%+v), %v; want the upright one", len(first), first, err)
	}
	alone, err := a.Detect(tilted)
	if err != nil || len(alone) != 1 || alone[0].Tilt == 0 {
		t.Errorf("turns as fallback, a tilted face alone: %d faces (%+v), %v; want it, found turned", len(alone), alone, err)
	}
}
