package explain

import (
	"image"
	"image/color"
	"math"
)

// Turbo maps v in [0, 1] to Google's Turbo colormap (Mikhailov, 2019): dark blue through cyan,
// green, yellow and orange to dark red. Unlike jet its lightness rises and falls smoothly, so
// no false edges appear in a smooth heatmap, and it stays readable in grey for most of its
// range. This is the published degree-5 polynomial fit, within a few percent of the table.
func Turbo(v float64) color.RGBA {
	x := math.Max(0, math.Min(1, v))
	poly := func(c [6]float64) uint8 {
		y := c[0] + x*(c[1]+x*(c[2]+x*(c[3]+x*(c[4]+x*c[5]))))
		return uint8(math.Round(255 * math.Max(0, math.Min(1, y))))
	}
	return color.RGBA{
		R: poly([6]float64{0.13572138, 4.61539260, -42.66032258, 132.13108234, -152.94239396, 59.28637943}),
		G: poly([6]float64{0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604}),
		B: poly([6]float64{0.10667330, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973}),
		A: 255,
	}
}

// Overlay lays a heatmap (width x height values in [0, 1], row-major, the size of face) over
// the face in Turbo colours: out = (1-alpha)*face + alpha*Turbo(heat). Alpha 0.5 is the
// Grad-CAM paper's blend: the face stays recognisable under the colour.
func Overlay(face *image.RGBA, heat []float32, alpha float64) *image.RGBA {
	b := face.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			c := Turbo(float64(heat[y*b.Dx()+x]))
			src := face.Pix[face.PixOffset(b.Min.X+x, b.Min.Y+y):]
			dst := out.Pix[out.PixOffset(x, y):]
			for i, v := range [3]uint8{c.R, c.G, c.B} {
				dst[i] = uint8(math.Round((1-alpha)*float64(src[i]) + alpha*float64(v)))
			}
			dst[3] = 255
		}
	}
	return out
}
