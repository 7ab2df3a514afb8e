package vision

import (
	"image"
	"image/color"
	"testing"
)

// Outline marks exactly the box's edges, thick pixels inside it, and clips at the picture's
// border; Cross marks its two bars.
func TestOutlineAndCross(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 12, 10))
	green := color.RGBA{0, 230, 64, 255}
	Outline(img, image.Rect(2, 3, 8, 12), 2, green) // runs off the bottom
	for y := range 10 {
		for x := range 12 {
			inBox := x >= 2 && x < 8 && y >= 3
			inner := x >= 4 && x < 6 && y >= 5 // the box shrunk by 2 (its bottom edge is cut off)
			if want := inBox && !inner; (img.RGBAAt(x, y) == green) != want {
				t.Errorf("pixel (%d,%d) outlined %v, want %v", x, y, !want, want)
			}
		}
	}
	img = image.NewRGBA(image.Rect(0, 0, 9, 9))
	Cross(img, 4, 4, 2, 1, green)
	marked := 0
	for y := range 9 {
		for x := range 9 {
			if img.RGBAAt(x, y) == green {
				marked++
				if x != 4 && y != 4 {
					t.Errorf("pixel (%d,%d) off the cross's bars", x, y)
				}
			}
		}
	}
	if marked != 9 {
		t.Errorf("%d pixels marked, want 9 (two bars of 5 sharing the centre)", marked)
	}
	copied := CopyRGBA(img)
	copied.Pix[0] = 7
	if img.Pix[0] == 7 {
		t.Error("CopyRGBA shares its pixels")
	}
}
