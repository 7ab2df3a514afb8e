package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// Conv2D is PyTorch's nn.Conv2d(in, out, 3, padding=1): the only convolution VGG uses. The
// output has the input's height and width.
type Conv2D struct {
	name     string
	ctx      *Context
	In, Out  int
	Window   kernels.ConvParams
	Weight   *Param // [Out, In, 3, 3]
	Bias     *Param // [Out]
	x, y, dx *tensor.Tensor
}

// NewConv2D makes a 3x3, stride 1, pad 1 convolution. Its weights are drawn as PyTorch's
// kaiming_normal_(mode="fan_out", nonlinearity="relu") does, std = sqrt(2 / (out*3*3)), the
// initialisation torchvision's VGG uses; its bias starts at zero.
func NewConv2D(ctx *Context, name string, in, out int) *Conv2D {
	w := kernels.Conv3x3
	fanOut := out * w.KernelH * w.KernelW
	return &Conv2D{
		name: name, ctx: ctx, In: in, Out: out, Window: w,
		Weight: &Param{Name: name + ".weight", Shape: tensor.Shape{out, in, w.KernelH, w.KernelW},
			init: normalInit(math.Sqrt(2 / float64(fanOut)))},
		Bias: &Param{Name: name + ".bias", Shape: tensor.Shape{out}, init: zeroInit, NoDecay: true},
	}
}

func (c *Conv2D) Name() string { return c.name }

func (c *Conv2D) Describe() string {
	return fmt.Sprintf("conv %dx%d, %d -> %d", c.Window.KernelH, c.Window.KernelW, c.In, c.Out)
}

func (c *Conv2D) Params() []*Param { return []*Param{c.Weight, c.Bias} }

func (c *Conv2D) OutShape(in tensor.Shape) (tensor.Shape, error) {
	if len(in) != 4 || in[1] != c.In {
		return nil, layerError(c, fmt.Errorf("input has shape %v, want [N %d H W]", in, c.In))
	}
	p, q := c.Window.OutSize(in[2], in[3])
	if p < 1 || q < 1 {
		return nil, layerError(c, fmt.Errorf("input %v is too small for the window", in))
	}
	return tensor.Shape{in[0], c.Out, p, q}, nil
}

func (c *Conv2D) FLOPs(in tensor.Shape) int64 {
	out, err := c.OutShape(in)
	if err != nil {
		return 0
	}
	// Every output element is a dot product of In*R*S multiply-adds.
	return 2 * int64(out.Numel()) * int64(c.In*c.Window.KernelH*c.Window.KernelW)
}

func (c *Conv2D) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	out, err := c.OutShape(x.Shape())
	if err != nil {
		return nil, err
	}
	if err := ensure(c.ctx.Backend, &c.y, tensor.Float32, out...); err != nil {
		return nil, layerError(c, err)
	}
	if err := c.ctx.Backend.Conv2D(c.y, x, c.Weight.Value, c.Bias.Value, c.Window); err != nil {
		return nil, layerError(c, err)
	}
	c.x = x // the filter gradient needs the input
	return c.y, nil
}

func (c *Conv2D) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if c.x == nil {
		return nil, layerError(c, fmt.Errorf("backward before forward"))
	}
	b := c.ctx.Backend
	if err := ensure(b, &c.dx, tensor.Float32, c.x.Shape()...); err != nil {
		return nil, layerError(c, err)
	}
	if fused, ok := b.(kernels.ConvBackward); ok {
		if err := fused.Conv2DBackward(c.dx, c.Weight.Grad, c.Bias.Grad, c.x, dy, c.Weight.Value, c.Window); err != nil {
			return nil, layerError(c, err)
		}
		return c.dx, nil
	}
	if err := b.Conv2DBackwardData(c.dx, dy, c.Weight.Value, c.Window); err != nil {
		return nil, layerError(c, err)
	}
	if err := c.BackwardParams(dy); err != nil {
		return nil, err
	}
	return c.dx, nil
}

// BackwardParams writes the gradients of the weights and bias only, not the input's.
func (c *Conv2D) BackwardParams(dy *tensor.Tensor) error {
	if c.x == nil {
		return layerError(c, fmt.Errorf("backward before forward"))
	}
	if err := c.ctx.Backend.Conv2DBackwardFilter(c.Weight.Grad, c.Bias.Grad, c.x, dy, c.Window); err != nil {
		return layerError(c, err)
	}
	return nil
}

func (c *Conv2D) Release() { release(&c.y); release(&c.dx); c.x = nil }

// normalInit draws from N(0, std²).
func normalInit(std float64) func(*tensor.Tensor, *rand.Rand) {
	return func(t *tensor.Tensor, rng *rand.Rand) { t.FillNormal(rng, 0, std) }
}

// zeroInit leaves the host tensor at zero.
func zeroInit(*tensor.Tensor, *rand.Rand) {}
