package vision

import (
	"image"

	"golang.org/x/image/draw"
)

// CenterSquare returns the largest square centred in img, sharing img's pixels where the
// image type allows (every type Load returns does). It is the default framing of a photo
// when no face aligner is set: portraits are cut at top and bottom, landscapes at the sides.
func CenterSquare(img image.Image) image.Image {
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	x0 := b.Min.X + (b.Dx()-side)/2
	y0 := b.Min.Y + (b.Dy()-side)/2
	r := image.Rect(x0, y0, x0+side, y0+side)
	if sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return sub.SubImage(r)
	}
	out := image.NewRGBA(image.Rect(0, 0, side, side))
	draw.Draw(out, out.Bounds(), img, r.Min, draw.Src)
	return out
}

// Resize scales img to width x height with the Catmull-Rom cubic filter, which stays sharp
// when enlarging and, unlike bilinear, averages over the whole footprint when shrinking, so
// a 250-pixel photo brought down to 128 does not alias.
func Resize(img image.Image, width, height int) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.CatmullRom.Scale(out, out.Bounds(), img, img.Bounds(), draw.Src, nil)
	return out
}

// SquareResize is CenterSquare then Resize to size x size: a photo framed for the network.
func SquareResize(img image.Image, size int) *image.RGBA {
	return Resize(CenterSquare(img), size, size)
}

// Shrink returns img reduced by the whole factor k, each output pixel the mean of a k x k block
// (the blocks of the last row and column may be partial): the cheap, alias-free way to bring a
// very large photo down, allocating only the output. k = 1 returns img itself.
func Shrink(img *image.RGBA, k int) *image.RGBA {
	if k <= 1 {
		return img
	}
	b := img.Rect
	w, h := (b.Dx()+k-1)/k, (b.Dy()+k-1)/k
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	sums := make([]uint32, 4*w)
	for oy := range h {
		clear(sums)
		y0, y1 := b.Min.Y+oy*k, min(b.Min.Y+(oy+1)*k, b.Max.Y)
		for y := y0; y < y1; y++ {
			row := img.Pix[img.PixOffset(b.Min.X, y):]
			for x := range b.Dx() {
				s := sums[4*(x/k):]
				p := row[4*x : 4*x+4]
				s[0] += uint32(p[0])
				s[1] += uint32(p[1])
				s[2] += uint32(p[2])
				s[3] += uint32(p[3])
			}
		}
		dst := out.Pix[oy*out.Stride:]
		for ox := range w {
			n := uint32((y1 - y0) * (min(b.Min.X+(ox+1)*k, b.Max.X) - (b.Min.X + ox*k)))
			for c := range 4 {
				dst[4*ox+c] = uint8((sums[4*ox+c] + n/2) / n)
			}
		}
	}
	return out
}

// ShrinkFactor is the smallest whole factor that brings a width x height picture within
// maxPixels (1 when it is within already, or when maxPixels is 0 or less: no limit).
func ShrinkFactor(width, height, maxPixels int) int {
	if maxPixels <= 0 {
		return 1
	}
	k := 1
	for ((width+k-1)/k)*((height+k-1)/k) > maxPixels {
		k++
	}
	return k
}
