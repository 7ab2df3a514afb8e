package explain

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"

	"github.com/vgglab/vgg/tensor"
)

// gridBackground separates the cells of a grid: a mid grey, distinct from both a silent (black)
// and a saturated (white) feature map.
var gridBackground = color.RGBA{R: 96, G: 96, B: 96, A: 255}

// MaxCell is the largest cell a grid is drawn at, in pixels: four times the default size of a
// feature map, and enough to see every weight of a 3x3 filter as a block of 40 pixels.
const MaxCell = 128

// MaxGridPixels bounds the pixels of one grid (64 MB of RGBA), so that no cell size or
// model can make a picture that does not fit in memory.
const MaxGridPixels = 16_000_000

// CheckCell says what is wrong with a requested cell size, if anything.
func CheckCell(cell int) error {
	if cell < 1 || cell > MaxCell {
		return fmt.Errorf("cell size %d must be from 1 to %d pixels", cell, MaxCell)
	}
	return nil
}

// gridSize is the side of a grid of n cells of w x h in cols columns, gap pixels apart and
// around, refused when it would exceed MaxGridPixels (computed without overflow).
func gridSize(n, cols, w, h, gap int) (width, height int, err error) {
	rows := (n + cols - 1) / cols
	width, height = cols*(w+gap)+gap, rows*(h+gap)+gap
	if px, ok := tensor.CheckedProduct(int64(width), int64(height)); !ok || px > MaxGridPixels {
		return 0, 0, fmt.Errorf("a grid of %d cells of %dx%d pixels would be %dx%d, over the %d-pixel limit: choose a smaller cell",
			n, w, h, width, height, MaxGridPixels)
	}
	return width, height, nil
}

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
