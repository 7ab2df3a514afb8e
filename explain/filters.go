package explain

import (
	"fmt"
	"image"
	"math"

	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/tensor"
)

// FilterGrid draws the first convolution's filters (64 of 3x3x3 for the full network) as a grid
// of little RGB squares, each 3x3 filter enlarged to cell x cell pixels. A trained network's
// first filters are colour blobs and oriented edges: what every photo is first broken into.
//
// Each filter is scaled on its own so that 0 is mid grey and its largest weight, positive or
// negative, reaches black or full colour: the shapes show, not the filters' relative sizes.
func FilterGrid(m *nn.Model, cell int) (*image.RGBA, error) {
	if m.Ctx.Backend == nil {
		return nil, fmt.Errorf("filters: the model has no weights yet")
	}
	w := m.Params()[0] // cnn.0.weight, [K, 3, R, S]
	host := tensor.Zeros(w.Shape...)
	if err := m.Ctx.Backend.Download(host, w.Value); err != nil {
		return nil, fmt.Errorf("filters: %s: %w", w.Name, err)
	}
	if err := CheckCell(cell); err != nil {
		return nil, fmt.Errorf("filters: %w", err)
	}
	k, r, s := w.Shape[0], w.Shape[2], w.Shape[3]
	factor := max(1, cell/max(r, s))
	if _, _, err := gridSize(k, gridColumns(k), s*factor, r*factor, 2); err != nil {
		return nil, fmt.Errorf("filters: %w", err)
	}
	size := 3 * r * s
	var cells []*image.RGBA
	for f := range k {
		vals := host.Float32s()[f*size : (f+1)*size]
		var top float64
		for _, v := range vals {
			top = math.Max(top, math.Abs(float64(v)))
		}
		img := image.NewRGBA(image.Rect(0, 0, s, r))
		for y := range r {
			for x := range s {
				p := img.Pix[img.PixOffset(x, y):]
				for c := range 3 {
					v := 0.5
					if top > 0 {
						v += 0.5 * float64(vals[c*r*s+y*s+x]) / top
					}
					p[c] = uint8(math.Round(255 * v))
				}
				p[3] = 255
			}
		}
		cells = append(cells, enlarge(img, factor))
	}
	return tile(cells, gridColumns(k), 2), nil
}
