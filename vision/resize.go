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
