package align

import (
	"image"
	"math"
)

// Point is a position in image pixels (sub-pixel: pixel (x, y) covers [x, x+1) x [y, y+1), so
// its centre is (x+0.5, y+0.5)).
type Point struct{ X, Y float64 }

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
