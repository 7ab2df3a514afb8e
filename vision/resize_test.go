package vision

import (
	"image"
	"image/color"
	"testing"
)

func TestCenterSquare(t *testing.T) {
	for _, c := range []struct {
		bounds, want image.Rectangle
	}{
		{image.Rect(0, 0, 10, 6), image.Rect(2, 0, 8, 6)},    // landscape: sides cut
		{image.Rect(0, 0, 6, 11), image.Rect(0, 2, 6, 8)},    // portrait: top and bottom cut
		{image.Rect(5, 5, 12, 12), image.Rect(5, 5, 12, 12)}, // square: unchanged
		{image.Rect(-4, 3, 5, 7), image.Rect(-2, 3, 2, 7)},   // any origin
	} {
		if got := CenterSquare(image.NewRGBA(c.bounds)).Bounds(); got != c.want {
			t.Errorf("CenterSquare of %v = %v, want %v", c.bounds, got, c.want)
		}
	}
	// An image type without SubImage is copied instead, to the origin.
	src := quadrants(8, 4)
	copied := CenterSquare(struct{ image.Image }{src})
	if copied.Bounds() != image.Rect(0, 0, 4, 4) {
		t.Fatalf("copied centre square has bounds %v", copied.Bounds())
	}
	for y := 0; y < 4; y++ {
		for x := 0; x < 4; x++ {
			if copied.At(x, y) != src.At(x+2, y) {
				t.Errorf("copied pixel (%d,%d) differs from the source's (%d,%d)", x, y, x+2, y)
			}
		}
	}
}

func TestSquareResize(t *testing.T) {
	// A 300x200 photo, left third black, the rest grey: the centre 200x200 square is a
	// quarter black on the left (x 50..100 of 300 falls in the square's first 50 columns).
	photo := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for y := 0; y < 200; y++ {
		for x := 0; x < 300; x++ {
			v := uint8(200)
			if x < 100 {
				v = 0
			}
			photo.SetRGBA(x, y, color.RGBA{v, v, v, 255})
		}
	}
	out := SquareResize(photo, 40)
	if out.Bounds() != image.Rect(0, 0, 40, 40) {
		t.Fatalf("bounds %v", out.Bounds())
	}
	for x, want := range map[int]uint8{2: 0, 7: 0, 13: 200, 30: 200, 39: 200} {
		if got := out.RGBAAt(x, 20).R; got != want {
			t.Errorf("column %d = %d, want %d", x, got, want)
		}
	}
	// A flat picture stays exactly flat through the filter.
	flat := image.NewRGBA(image.Rect(0, 0, 37, 23))
	for i := range flat.Pix {
		flat.Pix[i] = 77
	}
	for _, v := range Resize(flat, 128, 128).Pix {
		if v != 77 {
			t.Fatalf("flat picture resized to %d somewhere, want 77 everywhere", v)
		}
	}
}
