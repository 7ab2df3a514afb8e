package vision

import (
	"image"
	"image/color"
	"image/draw"
)

// Outline draws the edges of box, thick pixels wide and inside it, on dst in colour c: the
// one way faces are marked, by 'vgg detect' and in the look-alike reports. What falls outside
// dst is left out.
func Outline(dst *image.RGBA, box image.Rectangle, thick int, c color.Color) {
	for _, edge := range []image.Rectangle{
		{box.Min, image.Pt(box.Max.X, box.Min.Y+thick)},
		{image.Pt(box.Min.X, box.Max.Y-thick), box.Max},
		{box.Min, image.Pt(box.Min.X+thick, box.Max.Y)},
		{image.Pt(box.Max.X-thick, box.Min.Y), box.Max},
	} {
		draw.Draw(dst, edge.Intersect(dst.Bounds()), image.NewUniform(c), image.Point{}, draw.Src)
	}
}

// Cross draws an upright cross centred on pixel (x, y), its arms arm pixels long and thick
// pixels wide, on dst in colour c (an eye, for 'vgg detect').
func Cross(dst *image.RGBA, x, y, arm, thick int, c color.Color) {
	for _, bar := range []image.Rectangle{
		image.Rect(x-arm, y-thick/2, x+arm+1, y-thick/2+thick),
		image.Rect(x-thick/2, y-arm, x-thick/2+thick, y+arm+1),
	} {
		draw.Draw(dst, bar.Intersect(dst.Bounds()), image.NewUniform(c), image.Point{}, draw.Src)
	}
}

// CopyRGBA is a copy of src that can be drawn on without changing src.
func CopyRGBA(src *image.RGBA) *image.RGBA {
	out := image.NewRGBA(src.Rect)
	copy(out.Pix, src.Pix)
	return out
}
