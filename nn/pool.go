package nn

import (
	"fmt"

	"github.com/vgglab/vgg/tensor"
)

// MaxPool2D is PyTorch's nn.MaxPool2d(2): each 2x2 window keeps its largest value, halving the
// height and width. Backward routes the gradient to the winner, which Forward records.
type MaxPool2D struct {
	name          string
	ctx           *Context
	inShape       tensor.Shape
	y, argmax, dx *tensor.Tensor
}

func NewMaxPool2D(ctx *Context, name string) *MaxPool2D { return &MaxPool2D{name: name, ctx: ctx} }

func (m *MaxPool2D) Name() string             { return m.name }
func (m *MaxPool2D) Describe() string         { return "max pool 2x2" }
func (m *MaxPool2D) Params() []*Param         { return nil }
func (m *MaxPool2D) FLOPs(tensor.Shape) int64 { return 0 }

func (m *MaxPool2D) OutShape(in tensor.Shape) (tensor.Shape, error) {
	if len(in) != 4 || in[2]%2 != 0 || in[3]%2 != 0 || in[2] < 2 || in[3] < 2 {
		return nil, layerError(m, fmt.Errorf("input has shape %v, want [N C H W] with H and W even", in))
	}
	return tensor.Shape{in[0], in[1], in[2] / 2, in[3] / 2}, nil
}

func (m *MaxPool2D) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	out, err := m.OutShape(x.Shape())
	if err != nil {
		return nil, err
	}
	b := m.ctx.Backend
	if err := ensure(b, &m.y, tensor.Float32, out...); err != nil {
		return nil, layerError(m, err)
	}
	if err := ensure(b, &m.argmax, tensor.Int32, out...); err != nil {
		return nil, layerError(m, err)
	}
	if err := b.MaxPool2x2(m.y, m.argmax, x); err != nil {
		return nil, layerError(m, err)
	}
	m.inShape = x.Shape()
	return m.y, nil
}

func (m *MaxPool2D) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if m.inShape == nil {
		return nil, layerError(m, fmt.Errorf("backward before forward"))
	}
	if err := ensure(m.ctx.Backend, &m.dx, tensor.Float32, m.inShape...); err != nil {
		return nil, layerError(m, err)
	}
	if err := m.ctx.Backend.MaxPool2x2Backward(m.dx, dy, m.argmax); err != nil {
		return nil, layerError(m, err)
	}
	return m.dx, nil
}

func (m *MaxPool2D) Release() { release(&m.y); release(&m.argmax); release(&m.dx); m.inShape = nil }
