package explain

import (
	"image"

	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/tensor"
)

// BlockMaps are the feature maps one convolution block makes of one face: the output of the
// block's last ReLU, just before its max pool.
type BlockMaps struct {
	// Block counts from 1; Layer is the ReLU's module name ("cnn.3").
	Block   int
	Layer   string
	C, H, W int
	// Values are C maps of H x W, row-major.
	Values []float32
}

// Activations runs one face x (host [1, 3, S, S], normalised as the model expects) through
// the convolution stack in evaluation mode and returns the feature maps of each of the five
// blocks: 64 maps of 128x128 that still look like the photo (edges, colours), down to 512 maps
// of 8x8 that no longer do but tell identities apart.
func Activations(m *nn.Model, x *tensor.Tensor) ([]BlockMaps, error) {
	input, err := uploadFace("activations", m, x)
	if err != nil {
		return nil, err
	}
	defer input.Release()
	b := m.Ctx.Backend
	var blocks []BlockMaps
	layers := m.CNN.Layers
	y := input
	for i, l := range layers {
		if y, err = l.Forward(y); err != nil {
			return nil, err
		}
		if i+1 == len(layers) {
			break
		}
		if _, pool := layers[i+1].(*nn.MaxPool2D); !pool {
			continue
		}
		host := tensor.Zeros(y.Shape()...)
		if err := b.Download(host, y); err != nil {
			return nil, err
		}
		blocks = append(blocks, BlockMaps{Block: len(blocks) + 1, Layer: l.Name(),
			C: y.Dim(1), H: y.Dim(2), W: y.Dim(3), Values: host.Float32s()})
	}
	return blocks, nil
}

// Grid draws the block's maps in a square grid, each map in grey from black (silent) to white
// (its own strongest response), so a map's pattern shows whatever its scale; maps smaller than
// minCell pixels are enlarged by whole pixels to at least that. An all-black cell is a feature
// this face does not trigger at all.
func (bm BlockMaps) Grid(minCell int) (*image.RGBA, error) {
	if err := CheckCell(minCell); err != nil {
		return nil, err
	}
	factor := max(1, (minCell+bm.W-1)/bm.W)
	if _, _, err := gridSize(bm.C, gridColumns(bm.C), bm.W*factor, bm.H*factor, 1); err != nil {
		return nil, err
	}
	plane := bm.H * bm.W
	cells := make([]*image.RGBA, bm.C)
	for c := range bm.C {
		vals := bm.Values[c*plane : (c+1)*plane]
		var top float32
		for _, v := range vals {
			top = max(top, v)
		}
		img := image.NewRGBA(image.Rect(0, 0, bm.W, bm.H))
		for i, v := range vals {
			g := uint8(0)
			if top > 0 {
				g = uint8(255*max(v, 0)/top + 0.5)
			}
			img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = g, g, g, 255
		}
		cells[c] = enlarge(img, factor)
	}
	return tile(cells, gridColumns(bm.C), 1), nil
}
