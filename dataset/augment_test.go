package dataset

import (
	"image"
	"math"
	"testing"

	"github.com/vgglab/vgg/vision"
)

func TestAugmentDrawReproducible(t *testing.T) {
	a := DefaultAugment
	if a.Draw(5, 3, 17, 128) != a.Draw(5, 3, 17, 128) {
		t.Fatal("the same (seed, epoch, index) drew different jitters")
	}
	base := a.Draw(5, 3, 17, 128)
	for name, other := range map[string]Jitter{
		"seed": a.Draw(6, 3, 17, 128), "epoch": a.Draw(5, 4, 17, 128), "index": a.Draw(5, 3, 18, 128),
	} {
		if other == base {
			t.Errorf("changing the %s did not change the jitter", name)
		}
	}
	if (Augment{}).Draw(5, 3, 17, 128) != NoJitter {
		t.Error("the zero Augment varied a picture")
	}
	// Draws stay within the limits and flips come up about half the time.
	flips := 0
	for i := range 2000 {
		j := a.Draw(1, 0, i, 100)
		if j.Flip {
			flips++
		}
		if math.Abs(j.ShiftX) > 6 || math.Abs(j.ShiftY) > 6 || math.Abs(j.Scale-1) > 0.08 || math.Abs(j.Rotate) > 8*math.Pi/180 {
			t.Fatalf("draw %d out of range: %+v", i, j)
		}
	}
	if flips < 900 || flips > 1100 {
		t.Errorf("%d flips in 2000 draws", flips)
	}
	// Turning flips off keeps the other draws as they were.
	noFlip := a
	noFlip.Flip = false
	j, k := a.Draw(9, 2, 4, 64), noFlip.Draw(9, 2, 4, 64)
	k.Flip = j.Flip
	if j != k {
		t.Error("switching Flip off changed the shift, scale or rotation drawn")
	}
	if (Augment{MaxScale: 1}).Validate() == nil || (Augment{MaxShift: -0.1}).Validate() == nil || DefaultAugment.Validate() != nil {
		t.Error("Validate accepts or refuses the wrong settings")
	}
}

// ramp is a picture whose red is 10*x, green 10*y, blue 7.
func ramp(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(10*x), uint8(10*y), 7, 255
		}
	}
	return img
}

// sampleAt reads channel c at (x, y) of a CHW slice as a 0..255 value (Identity norm).
func sampleAt(chw []float32, w, h, c, x, y int) float64 {
	return float64(chw[c*w*h+y*w+x]) * 255
}

func TestJitterApply(t *testing.T) {
	const w, h = 9, 7
	img := ramp(w, h)
	out := make([]float32, 3*w*h)
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-3 }

	// NoJitter is exactly ToCHW.
	NoJitter.Apply(img, vision.Identity, out)
	plain := make([]float32, len(out))
	vision.ToCHW(img, vision.Identity, plain)
	for i := range out {
		if out[i] != plain[i] {
			t.Fatalf("NoJitter differs from ToCHW at %d", i)
		}
	}

	// A mirror swaps columns exactly.
	Jitter{Flip: true, Scale: 1}.Apply(img, vision.Identity, out)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if got := sampleAt(out, w, h, 0, x, y); !near(got, float64(10*(w-1-x))) {
				t.Fatalf("flip: red at (%d,%d) = %v, want %v", x, y, got, 10*(w-1-x))
			}
		}
	}

	// A shift of (2, -1) pixels moves content right and up; uncovered pixels repeat the edge.
	Jitter{ShiftX: 2, ShiftY: -1, Scale: 1}.Apply(img, vision.Identity, out)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			wantR := float64(10 * max(x-2, 0))
			wantG := float64(10 * min(y+1, h-1))
			if r, g := sampleAt(out, w, h, 0, x, y), sampleAt(out, w, h, 1, x, y); !near(r, wantR) || !near(g, wantG) {
				t.Fatalf("shift: (%d,%d) = (%v,%v), want (%v,%v)", x, y, r, g, wantR, wantG)
			}
		}
	}

	// Zooming in by 2 halves the red slope about the centre (4.5 in pixel-centre units):
	// output column x samples source position 4 + (x - 4)/2, and red is linear in it.
	Jitter{Scale: 2}.Apply(img, vision.Identity, out)
	for x := 0; x < w; x++ {
		want := 10 * (4 + float64(x-4)/2)
		if got := sampleAt(out, w, h, 0, x, 3); !near(got, want) {
			t.Errorf("zoom: red at column %d = %v, want %v", x, got, want)
		}
	}

	// A quarter turn maps the red ramp (along x) onto the rows of a square picture.
	sq := ramp(7, 7)
	sqOut := make([]float32, 3*49)
	Jitter{Scale: 1, Rotate: math.Pi / 2}.Apply(sq, vision.Identity, sqOut)
	for y := 0; y < 7; y++ {
		for x := 0; x < 7; x++ {
			// Turning content clockwise (y down) by 90°: output (x, y) shows source (y, 6-x).
			if r, g := sampleAt(sqOut, 7, 7, 0, x, y), sampleAt(sqOut, 7, 7, 1, x, y); !near(r, float64(10*y)) || !near(g, float64(10*(6-x))) {
				t.Fatalf("rotate: (%d,%d) = (%v,%v), want (%v,%v)", x, y, r, g, 10*y, 10*(6-x))
			}
		}
	}

	// Normalisation is applied after sampling.
	norm := vision.Normalization{Mean: [3]float32{0.1, 0.2, 0.3}, Std: [3]float32{0.5, 0.25, 2}}
	Jitter{Flip: true, Scale: 1}.Apply(img, norm, out)
	if got, want := out[0], (float32(10*(w-1))/255-0.1)/0.5; math.Abs(float64(got-want)) > 1e-5 {
		t.Errorf("normalised flip: %v, want %v", got, want)
	}
}

// Random erasing: about the asked share of pictures get a rectangle of 2-25% of their area
// inside the picture, the other draws are those of a run without erasing, and Apply blanks
// exactly that rectangle to the normalised mean.
func TestAugmentErase(t *testing.T) {
	const size, n = 64, 4000
	a := DefaultAugment
	a.Erase = 0.5
	erased := 0
	for i := range n {
		j := a.Draw(7, 2, i, size)
		plain := DefaultAugment.Draw(7, 2, i, size)
		if plain.Erase != (image.Rectangle{}) {
			t.Fatalf("draw %d: erasing off drew %v", i, plain.Erase)
		}
		moved := j
		moved.Erase = image.Rectangle{}
		if moved != plain {
			t.Fatalf("draw %d: erasing changed the other draws: %+v, want %+v", i, moved, plain)
		}
		if j.Erase.Empty() {
			continue
		}
		erased++
		area := float64(j.Erase.Dx()*j.Erase.Dy()) / (size * size)
		if !j.Erase.In(image.Rect(0, 0, size, size)) || area < 0.01 || area > 0.3 {
			t.Fatalf("draw %d: erased %v (%.1f%% of the picture)", i, j.Erase, 100*area)
		}
	}
	// Binomial(4000, 0.5): a standard deviation of 32.
	if erased < n/2-200 || erased > n/2+200 {
		t.Errorf("%d of %d pictures erased, want about half", erased, n)
	}

	img := image.NewRGBA(image.Rect(0, 0, 20, 12))
	for i := range img.Pix {
		img.Pix[i] = uint8(17 + i*7%200)
	}
	norm := vision.Normalization{Mean: [3]float32{0.4, 0.5, 0.6}, Std: [3]float32{0.2, 0.25, 0.3}}
	j := Jitter{Flip: true, ShiftX: 1.5, Scale: 1.05, Rotate: 0.1, Erase: image.Rect(3, 2, 9, 7)}
	whole := make([]float32, 3*20*12)
	Jitter{Flip: j.Flip, ShiftX: j.ShiftX, Scale: j.Scale, Rotate: j.Rotate}.Apply(img, norm, whole)
	got := make([]float32, len(whole))
	for i := range got {
		got[i] = float32(math.NaN())
	}
	j.Apply(img, norm, got)
	for c := range 3 {
		for y := range 12 {
			for x := range 20 {
				i := c*240 + y*20 + x
				want := whole[i]
				if image.Pt(x, y).In(j.Erase) {
					want = 0
				}
				if got[i] != want {
					t.Fatalf("channel %d (%d, %d): %v, want %v", c, x, y, got[i], want)
				}
			}
		}
	}
}
