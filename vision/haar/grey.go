package haar

import (
	"image"
	"math"
)

// Grey converts img to 8-bit grey the way OpenCV's cvtColor(BGR2GRAY) does
// (Y = 0.299 R + 0.587 G + 0.114 B in 14-bit fixed point). A JPEG decoded by Go is already
// YCbCr, and its Y plane is that same luma, so it is copied directly.
func Grey(img image.Image) *image.Gray {
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	switch src := img.(type) {
	case *image.Gray:
		for y := 0; y < b.Dy(); y++ {
			copy(g.Pix[y*g.Stride:y*g.Stride+b.Dx()], src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.RGBA:
		for y := 0; y < b.Dy(); y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < b.Dx(); x++ {
				r, gg, bb := uint32(row[4*x]), uint32(row[4*x+1]), uint32(row[4*x+2])
				g.Pix[y*g.Stride+x] = uint8((4899*r + 9617*gg + 1868*bb + 8192) >> 14)
			}
		}
	case *image.YCbCr:
		for y := 0; y < b.Dy(); y++ {
			copy(g.Pix[y*g.Stride:y*g.Stride+b.Dx()], src.Y[src.YOffset(b.Min.X, b.Min.Y+y):])
		}
	default:
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				r, gg, bb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				g.Pix[y*g.Stride+x] = uint8((4899*(r>>8) + 9617*(gg>>8) + 1868*(bb>>8) + 8192) >> 14)
			}
		}
	}
	return g
}

// resizeBilinear scales src (w x h, row stride srcStride) to dst (dw x dh, stride dw) with
// OpenCV's INTER_LINEAR_EXACT rule: the centre of destination pixel d maps to source
// coordinate (d+0.5)*w/dw - 0.5, neighbours are clamped at the border, the two weights of each
// axis are rounded to 1/256 and the result is rounded once at the end. Downscaling by a
// factor below 2 (all the pyramid needs between neighbouring levels) loses little to aliasing.
func resizeBilinear(dst []uint8, dw, dh int, src []uint8, w, h, srcStride int, xs []bilinearTap) {
	xs = bilinearTaps(xs[:0], w, dw)
	row := make([]uint32, dw*2) // horizontal pass of the two source rows in use
	scaleY := float64(h) / float64(dh)
	for dy := 0; dy < dh; dy++ {
		t := bilinearTap1(float64(dy), scaleY, h)
		for k, sy := range [2]int{t.i0, t.i1} {
			srow := src[sy*srcStride:]
			for dx, tx := range xs {
				row[k*dw+dx] = uint32(srow[tx.i0])*tx.w0 + uint32(srow[tx.i1])*tx.w1
			}
		}
		out := dst[dy*dw : dy*dw+dw]
		for dx := range out {
			v := row[dx]*t.w0 + row[dw+dx]*t.w1
			out[dx] = uint8((v + 1<<15) >> 16)
		}
	}
}

// bilinearTap is one output coordinate's two source indices and their weights (sum 256).
type bilinearTap struct {
	i0, i1 int
	w0, w1 uint32
}

func bilinearTaps(taps []bilinearTap, n, dn int) []bilinearTap {
	scale := float64(n) / float64(dn)
	for d := 0; d < dn; d++ {
		taps = append(taps, bilinearTap1(float64(d), scale, n))
	}
	return taps
}

func bilinearTap1(d, scale float64, n int) bilinearTap {
	f := (d+0.5)*scale - 0.5
	i := int(math.Floor(f))
	frac := f - float64(i)
	if i < 0 {
		i, frac = 0, 0
	}
	if i >= n-1 {
		i, frac = n-1, 0
	}
	w1 := uint32(math.Round(frac * 256))
	i1 := i + 1
	if i1 > n-1 {
		i1 = n - 1
	}
	return bilinearTap{i0: i, i1: i1, w0: 256 - w1, w1: w1}
}

// Patch cuts box out of g and scales it to w x h with the pyramid's bilinear rule, so a
// training patch looks exactly like the window the detector sees when it meets that box.
// The box is clipped to the image first.
func Patch(g *image.Gray, box image.Rectangle, w, h int) *image.Gray {
	box = box.Intersect(g.Rect)
	out := image.NewGray(image.Rect(0, 0, w, h))
	if box.Empty() {
		return out
	}
	src := g.Pix[g.PixOffset(box.Min.X, box.Min.Y):]
	resizeBilinear(out.Pix, w, h, src, box.Dx(), box.Dy(), g.Stride, nil)
	return out
}

// Mirror returns g flipped left to right (a mirrored face is another good training face).
func Mirror(g *image.Gray) *image.Gray {
	out := image.NewGray(image.Rect(0, 0, g.Rect.Dx(), g.Rect.Dy()))
	w := g.Rect.Dx()
	for y := 0; y < g.Rect.Dy(); y++ {
		row := g.Pix[g.PixOffset(g.Rect.Min.X, g.Rect.Min.Y+y):]
		for x := 0; x < w; x++ {
			out.Pix[y*out.Stride+x] = row[w-1-x]
		}
	}
	return out
}
