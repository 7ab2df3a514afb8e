package nn

import (
	"fmt"

	"github.com/vgglab/vgg/tensor"
)

// Flatten is torch.flatten(x, 1): [N, C, H, W] becomes [N, C*H*W] in C, H, W order, the layout
// PyTorch's first linear layer expects. It is a view: no copy, no compute.
type Flatten struct {
	name    string
	in, out *tensor.Tensor // the last input and its flat view, reused while the input is
	dyIn    *tensor.Tensor // the last gradient and its unflattened view
	dx      *tensor.Tensor
}

func NewFlatten(name string) *Flatten { return &Flatten{name: name} }

func (f *Flatten) Name() string             { return f.name }
func (f *Flatten) Describe() string         { return "flatten" }
func (f *Flatten) Params() []*Param         { return nil }
func (f *Flatten) FLOPs(tensor.Shape) int64 { return 0 }

func (f *Flatten) OutShape(in tensor.Shape) (tensor.Shape, error) {
	if len(in) < 2 {
		return nil, layerError(f, fmt.Errorf("input has shape %v, want at least 2 axes", in))
	}
	return tensor.Shape{in[0], in[1:].Numel()}, nil
}

func (f *Flatten) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if x == f.in {
		return f.out, nil
	}
	out, err := f.OutShape(x.Shape())
	if err != nil {
		return nil, err
	}
	v, err := x.Reshape(out...)
	if err != nil {
		return nil, layerError(f, err)
	}
	f.in, f.out = x, v
	return v, nil
}

func (f *Flatten) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if f.in == nil {
		return nil, layerError(f, fmt.Errorf("backward before forward"))
	}
	if dy == f.dyIn && f.dx.Shape().Equal(f.in.Shape()) {
		return f.dx, nil
	}
	v, err := dy.Reshape(f.in.Shape()...)
	if err != nil {
		return nil, layerError(f, err)
	}
	f.dyIn, f.dx = dy, v
	return v, nil
}

func (f *Flatten) Release() { f.in, f.out, f.dyIn, f.dx = nil, nil, nil, nil }
