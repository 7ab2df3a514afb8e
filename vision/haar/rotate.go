package haar

import (
	"image"
	"math"
)

// Rotation turns a w x h picture by Degrees about its centre (positive turns clockwise on the
// screen, y pointing down) onto a canvas just big enough to hold all of it: the way to look
// for tilted faces with an upright cascade. Points are continuous coordinates (a pixel's
// centre is at +0.5).
type Rotation struct {
	Degrees  float64
	W, H     int // the canvas
	cos, sin float64
	srcCX    float64
	srcCY    float64
	dstCX    float64
	dstCY    float64
}

// NewRotation is the rotation by degrees of a w x h picture.
func NewRotation(w, h int, degrees float64) Rotation {
	rad := degrees * math.Pi / 180
	cos, sin := math.Cos(rad), math.Sin(rad)
	cw := int(math.Ceil(float64(w)*math.Abs(cos) + float64(h)*math.Abs(sin) - 1e-9))
	ch := int(math.Ceil(float64(w)*math.Abs(sin) + float64(h)*math.Abs(cos) - 1e-9))
	return Rotation{Degrees: degrees, W: cw, H: ch, cos: cos, sin: sin,
		srcCX: float64(w) / 2, srcCY: float64(h) / 2, dstCX: float64(cw) / 2, dstCY: float64(ch) / 2}
}

// ToCanvas maps a point of the picture to the canvas.
func (r Rotation) ToCanvas(x, y float64) (float64, float64) {
	dx, dy := x-r.srcCX, y-r.srcCY
	return r.dstCX + r.cos*dx - r.sin*dy, r.dstCY + r.sin*dx + r.cos*dy
}

// ToPicture maps a point of the canvas back to the picture.
func (r Rotation) ToPicture(x, y float64) (float64, float64) {
	dx, dy := x-r.dstCX, y-r.dstCY
	return r.srcCX + r.cos*dx + r.sin*dy, r.srcCY - r.sin*dx + r.cos*dy
}

// Apply draws g turned onto the canvas, sampling bilinearly. The canvas corners that the
// picture does not cover are filled with its mean grey: flat, so the detector's variance test
// rejects windows there at once, and without the hard edge a black fill would draw.
func (r Rotation) Apply(g *image.Gray) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	pix := g.Pix[g.PixOffset(g.Rect.Min.X, g.Rect.Min.Y):]
	var sum int
	for y := 0; y < h; y++ {
		for _, p := range pix[y*g.Stride : y*g.Stride+w] {
			sum += int(p)
		}
	}
	fill := uint8(sum / max(1, w*h))
	out := image.NewGray(image.Rect(0, 0, r.W, r.H))
	for v := 0; v < r.H; v++ {
		for u := 0; u < r.W; u++ {
			x, y := r.ToPicture(float64(u)+0.5, float64(v)+0.5)
			x, y = x-0.5, y-0.5
			x0, y0 := int(math.Floor(x)), int(math.Floor(y))
			if x0 < -1 || y0 < -1 || x0 >= w || y0 >= h {
				out.Pix[v*out.Stride+u] = fill
				continue
			}
			fx, fy := x-float64(x0), y-float64(y0)
			at := func(x, y int) float64 {
				if x < 0 || y < 0 || x >= w || y >= h {
					return float64(fill)
				}
				return float64(pix[y*g.Stride+x])
			}
			top := at(x0, y0)*(1-fx) + at(x0+1, y0)*fx
			bottom := at(x0, y0+1)*(1-fx) + at(x0+1, y0+1)*fx
			out.Pix[v*out.Stride+u] = uint8(math.Round(top*(1-fy) + bottom*fy))
		}
	}
	return out
}
