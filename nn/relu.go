package nn

import (
	"fmt"

	"github.com/vgglab/vgg/tensor"
)

// ReLU is PyTorch's nn.ReLU(inplace=True): it overwrites its input with max(x, 0). That is safe
// in VGG because every ReLU follows a convolution or linear layer, whose backward needs its own
// input, never its output; and it halves the activation memory of the conv stack.
type ReLU struct {
	name string
	ctx  *Context
	y    *tensor.Tensor
}

func NewReLU(ctx *Context, name string) *ReLU { return &ReLU{name: name, ctx: ctx} }

func (r *ReLU) Name() string                                   { return r.name }
func (r *ReLU) Describe() string                               { return "relu" }
func (r *ReLU) Params() []*Param                               { return nil }
func (r *ReLU) OutShape(in tensor.Shape) (tensor.Shape, error) { return in.Clone(), nil }
func (r *ReLU) FLOPs(tensor.Shape) int64                       { return 0 }

func (r *ReLU) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := r.ctx.Backend.ReLU(x, x); err != nil {
		return nil, layerError(r, err)
	}
	r.y = x // backward asks "was the output positive?"
	return x, nil
}

// Backward works in place too: dy belongs to the layer above, which is done with it.
func (r *ReLU) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if r.y == nil {
		return nil, layerError(r, fmt.Errorf("backward before forward"))
	}
	if err := r.ctx.Backend.ReLUBackward(dy, dy, r.y); err != nil {
		return nil, layerError(r, err)
	}
	return dy, nil
}

func (r *ReLU) Release() { r.y = nil }
