package align

import (
	"image"
	"math"
)

// Point is a position in image pixels (sub-pixel: pixel (x, y) covers [x, x+1) x [y, y+1), so
// its centre is (x+0.5, y+0.5)).
type Point struct{ X, Y float64 }

func (p Point) add(q image.Point) Point { return Point{p.X + float64(q.X), p.Y + float64(q.Y)} }

// similarity is the map p -> scale * R(angle) * (p - from) + to.
type similarity struct {
	scale, cos, sin float64
	from, to        Point
}

// eyeSimilarity is the similarity taking the eye centres src[0], src[1] to dst[0], dst[1].
func eyeSimilarity(src, dst [2]Point) similarity {
	sdx, sdy := src[1].X-src[0].X, src[1].Y-src[0].Y
	ddx, ddy := dst[1].X-dst[0].X, dst[1].Y-dst[0].Y
	scale := math.Hypot(ddx, ddy) / math.Hypot(sdx, sdy)
	angle := math.Atan2(ddy, ddx) - math.Atan2(sdy, sdx)
	return similarity{
		scale: scale, cos: math.Cos(angle), sin: math.Sin(angle),
		from: Point{(src[0].X + src[1].X) / 2, (src[0].Y + src[1].Y) / 2},
		to:   Point{(dst[0].X + dst[1].X) / 2, (dst[0].Y + dst[1].Y) / 2},
	}
}

// inverse maps an output position back to the source.
func (s similarity) inverse(p Point) Point {
	dx, dy := (p.X-s.to.X)/s.scale, (p.Y-s.to.Y)/s.scale
	return Point{s.cos*dx + s.sin*dy + s.from.X, -s.sin*dx + s.cos*dy + s.from.Y}
}

// warp renders the size x size output of the similarity s applied to src. Each output pixel
// centre is mapped back to the source and sampled bilinearly, with positions outside the
// source clamped to its border (replicated edge pixels, no black corners). When the map
// shrinks by 2 or more, src is first halved with 2x2 box averaging, as often as needed, so the
// bilinear sampling never skips source pixels (no aliasing on big photos).
func warp(src *image.RGBA, s similarity, size int) *image.RGBA {
	for s.scale <= 0.5 && src.Rect.Dx() >= 2 && src.Rect.Dy() >= 2 {
		src = halve(src)
		s.scale *= 2
		s.from = Point{s.from.X / 2, s.from.Y / 2}
	}
	out := image.NewRGBA(image.Rect(0, 0, size, size))
	w, h := src.Rect.Dx(), src.Rect.Dy()
	for v := 0; v < size; v++ {
		for u := 0; u < size; u++ {
			p := s.inverse(Point{float64(u) + 0.5, float64(v) + 0.5})
			// Continuous position -> index space, where pixel i has its centre at i.
			x := math.Min(math.Max(p.X-0.5, 0), float64(w-1))
			y := math.Min(math.Max(p.Y-0.5, 0), float64(h-1))
			x0, y0 := int(x), int(y)
			x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
			fx, fy := x-float64(x0), y-float64(y0)
			o := out.PixOffset(u, v)
			for c := 0; c < 3; c++ {
				a := float64(src.Pix[src.PixOffset(x0, y0)+c])
				b := float64(src.Pix[src.PixOffset(x1, y0)+c])
				cc := float64(src.Pix[src.PixOffset(x0, y1)+c])
				d := float64(src.Pix[src.PixOffset(x1, y1)+c])
				top := a + (b-a)*fx
				bottom := cc + (d-cc)*fx
				out.Pix[o+c] = uint8(math.Round(top + (bottom-top)*fy))
			}
			out.Pix[o+3] = 255
		}
	}
	return out
}

// halve averages 2x2 blocks (an odd last row or column is averaged with itself).
func halve(src *image.RGBA) *image.RGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	out := image.NewRGBA(image.Rect(0, 0, (w+1)/2, (h+1)/2))
	for y := 0; y < out.Rect.Dy(); y++ {
		for x := 0; x < out.Rect.Dx(); x++ {
			x0, y0 := src.Rect.Min.X+2*x, src.Rect.Min.Y+2*y
			x1, y1 := min(x0+1, src.Rect.Max.X-1), min(y0+1, src.Rect.Max.Y-1)
			o := out.PixOffset(x, y)
			for c := 0; c < 4; c++ {
				sum := int(src.Pix[src.PixOffset(x0, y0)+c]) + int(src.Pix[src.PixOffset(x1, y0)+c]) +
					int(src.Pix[src.PixOffset(x0, y1)+c]) + int(src.Pix[src.PixOffset(x1, y1)+c])
				out.Pix[o+c] = uint8((sum + 2) / 4)
			}
		}
	}
	return out
}

// warpCropped is warp reading only the part of src the output needs: the bounding box of the
// output square mapped back into src, with a margin for the bilinear taps, widened to whole
// blocks of the halvings warp will do so that they average the same pixels. For a face in a
// 49 MP photo it copies a few megapixels instead of halving all 49. A face that lies off the
// photo altogether is warped from the whole photo (its border replicated), as warp does.
func warpCropped(src *image.RGBA, s similarity, size int) *image.RGBA {
	halvings, scale, w, h := 0, s.scale, src.Rect.Dx(), src.Rect.Dy()
	for scale <= 0.5 && w >= 2 && h >= 2 {
		w, h, scale, halvings = (w+1)/2, (h+1)/2, scale*2, halvings+1
	}
	block := 1 << halvings
	lo := Point{math.Inf(1), math.Inf(1)}
	hi := Point{math.Inf(-1), math.Inf(-1)}
	for _, c := range [4]Point{{0, 0}, {float64(size), 0}, {0, float64(size)}, {float64(size), float64(size)}} {
		p := s.inverse(c)
		lo = Point{math.Min(lo.X, p.X), math.Min(lo.Y, p.Y)}
		hi = Point{math.Max(hi.X, p.X), math.Max(hi.Y, p.Y)}
	}
	if math.IsNaN(lo.X+lo.Y+hi.X+hi.Y) || math.IsInf(lo.X+lo.Y+hi.X+hi.Y, 0) {
		return warp(src, s, size) // degenerate eyes: no region to speak of
	}
	margin := float64(2 * block)
	b := src.Rect
	down := func(v float64, limit int) int { // whole blocks, within [0, limit]
		return min(max(int(math.Floor((v-margin)/float64(block)))*block, 0), limit)
	}
	up := func(v float64, limit int) int {
		return min(max(int(math.Ceil((v+margin)/float64(block)))*block, 0), limit)
	}
	x0, x1 := down(lo.X, b.Dx()), up(hi.X, b.Dx())
	y0, y1 := down(lo.Y, b.Dy()), up(hi.Y, b.Dy())
	if x1-x0 < 2*block || y1-y0 < 2*block {
		return warp(src, s, size)
	}
	crop := image.NewRGBA(image.Rect(0, 0, x1-x0, y1-y0))
	for y := y0; y < y1; y++ {
		copy(crop.Pix[(y-y0)*crop.Stride:(y-y0+1)*crop.Stride], src.Pix[src.PixOffset(b.Min.X+x0, b.Min.Y+y):])
	}
	s.from = Point{s.from.X - float64(x0), s.from.Y - float64(y0)}
	return warp(crop, s, size)
}
