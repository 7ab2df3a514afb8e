package eyeloc

import (
	"image"
	"math"
	"slices"

	"github.com/vgglab/vgg/vision"
)

// Side is the side of the grey crop the network reads: about one pixel per picture pixel for
// the detector's smallest faces (a 37-pixel box grown by Margin is 46 pixels).
const Side = 48

// Margin is how much the crop reaches past the face box on every side, as a share of the
// box's side, so that an eye near the box's edge (a box framed low or to one side) is still
// well inside the crop.
const Margin = 0.125

// window is the square of a picture that a crop reads: crop point (u, v) is picture point
// (x0 + u·ux − v·uy, y0 + u·uy + v·ux). (ux, uy) is one crop pixel along the crop's x axis,
// measured in picture pixels, and its y axis is that turned a quarter clockwise, so a window
// may be turned (training) or upright (uy = 0, the detector's boxes).
type window struct {
	x0, y0 float64
	ux, uy float64
}

// boxWindow is the upright window Crop reads for a face box: the square of the box's larger
// side grown by Margin on every side, about the box's centre.
func boxWindow(box image.Rectangle) window {
	side := float64(max(box.Dx(), box.Dy())) * (1 + 2*Margin)
	cx := float64(box.Min.X+box.Max.X) / 2
	cy := float64(box.Min.Y+box.Max.Y) / 2
	return window{x0: cx - side/2, y0: cy - side/2, ux: side / Side}
}

// toPicture maps crop point (u, v) to the picture.
func (w window) toPicture(u, v float64) (x, y float64) {
	return w.x0 + u*w.ux - v*w.uy, w.y0 + u*w.uy + v*w.ux
}

// toCrop maps picture point (x, y) into the crop (the inverse of toPicture).
func (w window) toCrop(x, y float64) (u, v float64) {
	dx, dy := x-w.x0, y-w.y0
	s2 := w.ux*w.ux + w.uy*w.uy
	return (dx*w.ux + dy*w.uy) / s2, (-dx*w.uy + dy*w.ux) / s2
}

// plane is a grey picture as floats: rect of the picture, each plane pixel the mean of a
// step x step block of picture pixels, row by row. Coordinates are the picture's, continuous
// (pixel (x, y) covers [x, x+1) x [y, y+1)).
type plane struct {
	rect image.Rectangle // in picture pixels
	step int
	w, h int // in plane pixels
	pix  []float64
}

// greyPlane copies the part of grey that window w (read at n x n samples) touches, and a
// little beyond for the interpolation: a face's neighbourhood, not the whole photo. Where the
// window spans more than two picture pixels a crop pixel, blocks of pixels are averaged as
// they are copied, so that a face of thousands of pixels costs about what a small one does.
func greyPlane(grey *image.Gray, w window, n int) plane {
	step := max(1, int(math.Hypot(w.ux, w.uy)/2))
	xa, ya := w.toPicture(0, 0)
	xb, yb := w.toPicture(float64(n), 0)
	xc, yc := w.toPicture(0, float64(n))
	xd, yd := w.toPicture(float64(n), float64(n))
	margin := 2 * step
	r := image.Rect(
		int(math.Floor(min(xa, xb, xc, xd)))-margin, int(math.Floor(min(ya, yb, yc, yd)))-margin,
		int(math.Ceil(max(xa, xb, xc, xd)))+margin, int(math.Ceil(max(ya, yb, yc, yd)))+margin,
	).Intersect(grey.Rect)
	if r.Empty() {
		// The window lies wholly outside the picture: its nearest pixel stands for all.
		x := min(max(int(xa), grey.Rect.Min.X), grey.Rect.Max.X-1)
		y := min(max(int(ya), grey.Rect.Min.Y), grey.Rect.Max.Y-1)
		r, step = image.Rect(x, y, x+1, y+1), 1
	}
	// Whole blocks only: the rectangle shrinks to a multiple of step (by less than a block
	// on the far sides, which the clamped interpolation covers).
	p := plane{rect: r, step: step, w: max(1, r.Dx()/step), h: max(1, r.Dy()/step)}
	p.rect.Max = image.Pt(r.Min.X+p.w*step, r.Min.Y+p.h*step)
	p.pix = make([]float64, p.w*p.h)
	inv := 1 / float64(step*step)
	for y := range p.h * step {
		py := min(r.Min.Y+y, grey.Rect.Max.Y-1)
		row := grey.Pix[grey.PixOffset(r.Min.X, py):]
		dst := p.pix[(y/step)*p.w:]
		for x := range p.w * step {
			dst[x/step] += float64(row[min(x, r.Dx()-1)]) * inv
		}
	}
	return p
}

// bilinear is the plane's value at picture point (x, y), interpolated between the four plane
// pixel centres around it; points past the edge take the edge's value.
func (p plane) bilinear(x, y float64) float64 {
	s := float64(p.step)
	fx, fy := (x-float64(p.rect.Min.X))/s-0.5, (y-float64(p.rect.Min.Y))/s-0.5
	x0, y0 := math.Floor(fx), math.Floor(fy)
	tx, ty := fx-x0, fy-y0
	clampX := func(i int) int { return min(max(i, 0), p.w-1) }
	clampY := func(i int) int { return min(max(i, 0), p.h-1) }
	xa, xb := clampX(int(x0)), clampX(int(x0)+1)
	ya, yb := clampY(int(y0)), clampY(int(y0)+1)
	top := p.pix[ya*p.w+xa]*(1-tx) + p.pix[ya*p.w+xb]*tx
	bottom := p.pix[yb*p.w+xa]*(1-tx) + p.pix[yb*p.w+xb]*tx
	return top*(1-ty) + bottom*ty
}

// sample reads window w of p into an n x n plane (its rect is (0,0)-(n,n)). Each crop pixel
// averages k x k interpolated points spread over it, k the window's plane pixels per crop
// pixel rounded up, so that a large face is averaged down rather than aliased, and a small one
// is interpolated smoothly.
func (p plane) sample(w window, n int) plane {
	k := max(1, int(math.Ceil(math.Hypot(w.ux, w.uy)/float64(p.step))))
	out := plane{rect: image.Rect(0, 0, n, n), step: 1, w: n, h: n, pix: make([]float64, n*n)}
	inv := 1 / float64(k*k)
	for j := range n {
		for i := range n {
			var acc float64
			for b := range k {
				v := float64(j) + (float64(b)+0.5)/float64(k)
				for a := range k {
					x, y := w.toPicture(float64(i)+(float64(a)+0.5)/float64(k), v)
					acc += p.bilinear(x, y)
				}
			}
			out.pix[j*n+i] = acc * inv
		}
	}
	return out
}

// standardised returns the plane's values shifted and scaled to zero mean and unit deviation,
// so that lighting and contrast do not count; a floor on the deviation (8 grey levels) keeps
// a flat crop from being blown up into noise.
func standardised(p plane) []float32 {
	var sum, sumSq float64
	for _, v := range p.pix {
		sum += v
		sumSq += v * v
	}
	n := float64(len(p.pix))
	mean := sum / n
	dev := math.Max(math.Sqrt(math.Max(sumSq/n-mean*mean, 0)), 8)
	out := make([]float32, len(p.pix))
	for i, v := range p.pix {
		out[i] = float32((v - mean) / dev)
	}
	return out
}

// Crop is what the network reads for a face box of grey: the window of boxWindow, Side x
// Side, standardised.
func Crop(grey *image.Gray, box image.Rectangle) []float32 {
	w := boxWindow(box)
	return standardised(greyPlane(grey, w, Side).sample(w, Side))
}

// mirror returns a crop flipped left to right.
func mirror(crop []float32) []float32 {
	out := slices.Clone(crop)
	vision.MirrorCHW(out, Side)
	return out
}
