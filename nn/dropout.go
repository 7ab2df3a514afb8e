package nn

import (
	"fmt"
	"hash/fnv"

	"github.com/vgglab/vgg/tensor"
)

// Dropout is PyTorch's nn.Dropout(p): in training it zeroes each element with probability P and
// scales the survivors by 1/(1-P); in evaluation it is the identity.
//
// The mask is never stored. It is a pure function of a seed (kernels.DropoutKeep), and the seed
// is a pure function of the run seed, the step counter and the layer's name, so backward
// recomputes it, the CPU and CUDA backends agree bit for bit, and a resumed run draws the masks
// it would have drawn had it never stopped.
//
// Unlike ReLU it does not work in place: the model's embedding is the input of the dropout
// after fc.4, and it must survive a training step.
type Dropout struct {
	name  string
	ctx   *Context
	P     float32
	salt  uint64
	seed  uint64 // the seed of the last training forward, for backward
	y, dx *tensor.Tensor
}

func NewDropout(ctx *Context, name string, p float32) *Dropout {
	h := fnv.New64a()
	h.Write([]byte(name))
	return &Dropout{name: name, ctx: ctx, P: p, salt: h.Sum64()}
}

func (d *Dropout) Name() string                                   { return d.name }
func (d *Dropout) Describe() string                               { return fmt.Sprintf("dropout p=%g", d.P) }
func (d *Dropout) Params() []*Param                               { return nil }
func (d *Dropout) OutShape(in tensor.Shape) (tensor.Shape, error) { return in.Clone(), nil }
func (d *Dropout) FLOPs(tensor.Shape) int64                       { return 0 }

// Seed is the mask seed this layer uses at a given run seed and step.
func (d *Dropout) Seed(runSeed, step uint64) uint64 {
	return splitmix64(splitmix64(runSeed^d.salt) + step)
}

func (d *Dropout) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if !d.ctx.Training {
		return x, nil
	}
	if err := ensure(d.ctx.Backend, &d.y, tensor.Float32, x.Shape()...); err != nil {
		return nil, layerError(d, err)
	}
	d.seed = d.Seed(d.ctx.Seed, d.ctx.Step)
	if err := d.ctx.Backend.Dropout(d.y, x, d.P, d.seed); err != nil {
		return nil, layerError(d, err)
	}
	return d.y, nil
}

func (d *Dropout) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if !d.ctx.Training {
		return dy, nil
	}
	if err := ensure(d.ctx.Backend, &d.dx, tensor.Float32, dy.Shape()...); err != nil {
		return nil, layerError(d, err)
	}
	if err := d.ctx.Backend.DropoutBackward(d.dx, dy, d.P, d.seed); err != nil {
		return nil, layerError(d, err)
	}
	return d.dx, nil
}

func (d *Dropout) Release() { release(&d.y); release(&d.dx) }

// splitmix64 is the finaliser of Steele et al.'s SplitMix64: it scatters nearby inputs (step 7,
// step 8) to unrelated outputs, so consecutive steps get independent-looking masks.
func splitmix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
