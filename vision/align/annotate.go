package align

import (
	"image"
	"image/color"

	"github.com/vgglab/vgg/vision"
)

// Annotate draws the faces found on a copy of img: each box in green and, where they were
// found, the eyes as red crosses ('vgg detect --out').
func Annotate(img image.Image, faces []Face) *image.RGBA {
	out := vision.CopyRGBA(vision.ToRGBA(img)) // ToRGBA may return img itself
	green, red := color.RGBA{0, 220, 0, 255}, color.RGBA{230, 0, 0, 255}
	for _, f := range faces {
		thick := max(1, f.Box.Dx()/60)
		vision.Outline(out, f.Box, thick, green)
		if f.Fallback {
			continue
		}
		arm := max(2, f.Box.Dx()/20)
		for _, e := range f.Eyes {
			vision.Cross(out, int(e.X), int(e.Y), arm, thick, red)
		}
	}
	return out
}
