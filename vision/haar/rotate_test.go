package haar

import (
	"image"
	"math"
	"testing"
)

func TestRotationMapsBack(t *testing.T) {
	for _, deg := range []float64{-25, -20, 0, 7, 20, 90} {
		r := NewRotation(300, 200, deg)
		for _, p := range [][2]float64{{0, 0}, {300, 200}, {150, 100}, {12.5, 180.25}} {
			x, y := r.ToCanvas(p[0], p[1])
			if x < -1e-9 || y < -1e-9 || x > float64(r.W)+1e-9 || y > float64(r.H)+1e-9 {
				t.Errorf("%v degrees: %v lands at (%.2f, %.2f), outside the %dx%d canvas", deg, p, x, y, r.W, r.H)
			}
			bx, by := r.ToPicture(x, y)
			if math.Abs(bx-p[0]) > 1e-9 || math.Abs(by-p[1]) > 1e-9 {
				t.Errorf("%v degrees: %v comes back as (%v, %v)", deg, p, bx, by)
			}
		}
	}
	// Positive degrees turn clockwise on the screen: a point right of the centre goes down.
	r := NewRotation(100, 100, 90)
	if x, y := r.ToCanvas(100, 50); math.Abs(x-50) > 1e-9 || math.Abs(y-100) > 1e-9 {
		t.Errorf("90 degrees: the right edge's middle lands at (%v, %v), want (50, 100)", x, y)
	}
}

// Turning by 90 degrees moves whole pixels: the result is rotate90's exactly; turning by 30
// fills the corners the picture does not cover with its mean grey.
func TestRotationApply(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 37, 23))
	sum := 0
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 7 % 251)
		sum += int(g.Pix[i])
	}
	got := NewRotation(37, 23, 90).Apply(g)
	want := rotate90(g, 1)
	if got.Rect != want.Rect {
		t.Fatalf("canvas %v, want %v", got.Rect, want.Rect)
	}
	for i := range want.Pix {
		if got.Pix[i] != want.Pix[i] {
			t.Fatalf("pixel %d: %d, want %d", i, got.Pix[i], want.Pix[i])
		}
	}
	turned := NewRotation(37, 23, 30).Apply(g)
	if mean := uint8(sum / len(g.Pix)); turned.Pix[0] != mean || turned.Pix[len(turned.Pix)-1] != mean {
		t.Errorf("corners %d and %d, want the mean grey %d", turned.Pix[0], turned.Pix[len(turned.Pix)-1], mean)
	}
}
