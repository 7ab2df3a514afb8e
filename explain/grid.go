package explain

import (
	"image"
	"image/color"
	"image/draw"
	"math"
)

// gridBackground separates the cells of a grid: a mid grey, distinct from both a silent (black)
// and a saturated (white) feature map.
var gridBackground = color.RGBA{R: 96, G: 96, B: 96, A: 255}

// tile lays equal-sized cells out in rows of cols, gap pixels apart and around.
func tile(cells []*image.RGBA, cols, gap int) *image.RGBA {
	if len(cells) == 0 {
		return image.NewRGBA(image.Rect(0, 0, 0, 0))
	}
	cw, ch := cells[0].Bounds().Dx(), cells[0].Bounds().Dy()
	rows := (len(cells) + cols - 1) / cols
	out := image.NewRGBA(image.Rect(0, 0, cols*(cw+gap)+gap, rows*(ch+gap)+gap))
	draw.Draw(out, out.Bounds(), image.NewUniform(gridBackground), image.Point{}, draw.Src)
	for i, c := range cells {
		x, y := gap+(i%cols)*(cw+gap), gap+(i/cols)*(ch+gap)
		draw.Draw(out, image.Rect(x, y, x+cw, y+ch), c, c.Bounds().Min, draw.Src)
	}
	return out
}

// gridColumns is the number of columns that makes a grid of n cells about square.
func gridColumns(n int) int {
	return max(1, int(math.Ceil(math.Sqrt(float64(n)))))
}

// enlarge scales a small picture up by an integer factor with nearest-neighbour sampling, so
// each weight or feature-map cell stays a crisp square instead of being smoothed into its
// neighbours: the learner should see the actual numbers.
func enlarge(img *image.RGBA, factor int) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()*factor, b.Dy()*factor))
	for y := range b.Dy() * factor {
		for x := range b.Dx() * factor {
			out.SetRGBA(x, y, img.RGBAAt(b.Min.X+x/factor, b.Min.Y+y/factor))
		}
	}
	return out
}
