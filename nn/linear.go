package nn

import (
	"fmt"

	"github.com/vgglab/vgg/tensor"
)

// Linear is PyTorch's nn.Linear(in, out): y = x·wᵀ + b on [N, In] inputs.
type Linear struct {
	name     string
	ctx      *Context
	In, Out  int
	Weight   *Param // [Out, In]
	Bias     *Param // [Out]
	x, y, dx *tensor.Tensor
}

// NewLinear makes a fully connected layer with weights drawn from N(0, 0.01²) and zero bias,
// the initialisation torchvision's VGG uses: with 8192 inputs it keeps the activations' scale
// (8192 * 0.01² ≈ 0.8) and starts the classifier near uniform, so the first loss is ≈ ln N.
func NewLinear(ctx *Context, name string, in, out int) *Linear {
	return &Linear{
		name: name, ctx: ctx, In: in, Out: out,
		Weight: &Param{Name: name + ".weight", Shape: tensor.Shape{out, in}, init: normalInit(0.01)},
		Bias:   &Param{Name: name + ".bias", Shape: tensor.Shape{out}, init: zeroInit, NoDecay: true},
	}
}

func (l *Linear) Name() string     { return l.name }
func (l *Linear) Describe() string { return fmt.Sprintf("linear, %d -> %d", l.In, l.Out) }
func (l *Linear) Params() []*Param { return []*Param{l.Weight, l.Bias} }

func (l *Linear) OutShape(in tensor.Shape) (tensor.Shape, error) {
	if len(in) != 2 || in[1] != l.In {
		return nil, layerError(l, fmt.Errorf("input has shape %v, want [N %d]", in, l.In))
	}
	return tensor.Shape{in[0], l.Out}, nil
}

func (l *Linear) FLOPs(in tensor.Shape) int64 {
	if _, err := l.OutShape(in); err != nil {
		return 0
	}
	return 2 * int64(in[0]) * int64(l.In) * int64(l.Out)
}

func (l *Linear) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	out, err := l.OutShape(x.Shape())
	if err != nil {
		return nil, err
	}
	if err := ensure(l.ctx.Backend, &l.y, tensor.Float32, out...); err != nil {
		return nil, layerError(l, err)
	}
	if err := l.ctx.Backend.Linear(l.y, x, l.Weight.Value, l.Bias.Value); err != nil {
		return nil, layerError(l, err)
	}
	l.x = x
	return l.y, nil
}

func (l *Linear) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if l.x == nil {
		return nil, layerError(l, fmt.Errorf("backward before forward"))
	}
	if err := ensure(l.ctx.Backend, &l.dx, tensor.Float32, l.x.Shape()...); err != nil {
		return nil, layerError(l, err)
	}
	if err := l.ctx.Backend.LinearBackward(l.dx, l.Weight.Grad, l.Bias.Grad, dy, l.x, l.Weight.Value); err != nil {
		return nil, layerError(l, err)
	}
	return l.dx, nil
}

func (l *Linear) Release() { release(&l.y); release(&l.dx); l.x = nil }
