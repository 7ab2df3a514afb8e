package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// Batch normalisation's PyTorch defaults, which torchvision's vgg16_bn uses.
const (
	BatchNormMomentum = 0.1
	BatchNormEps      = 1e-5
)

// Buffer is a tensor a layer keeps and checkpoints but no optimiser touches: batch norm's
// running statistics. Its name is its PyTorch state_dict key ("cnn.1.running_mean").
type Buffer struct {
	Name  string
	Shape tensor.Shape
	Value *tensor.Tensor
	// Initial is every element's starting value.
	Initial float32
}

// BatchNorm2D is PyTorch's nn.BatchNorm2d(C): in training it normalises each channel with the
// batch's mean and variance and moves the running statistics towards them; in evaluation it
// normalises with the running statistics. Weight (gamma) starts at 1, Bias (beta) at 0, the
// running mean at 0 and the running variance at 1.
type BatchNorm2D struct {
	name                    string
	ctx                     *Context
	C                       int
	Weight, Bias            *Param  // [C]
	RunningMean, RunningVar *Buffer // [C]
	// NumBatchesTracked counts the training forwards, as PyTorch's int64 buffer does; it is
	// only stored (momentum is fixed), so it lives on the host.
	NumBatchesTracked int64

	x, y, saveMean, saveInvStd *tensor.Tensor
	trained                    bool // the last forward was a training one
}

func NewBatchNorm2D(ctx *Context, name string, channels int) *BatchNorm2D {
	return &BatchNorm2D{
		name: name, ctx: ctx, C: channels,
		Weight:      &Param{Name: name + ".weight", Shape: tensor.Shape{channels}, init: constInit(1), NoDecay: true},
		Bias:        &Param{Name: name + ".bias", Shape: tensor.Shape{channels}, init: zeroInit, NoDecay: true},
		RunningMean: &Buffer{Name: name + ".running_mean", Shape: tensor.Shape{channels}, Initial: 0},
		RunningVar:  &Buffer{Name: name + ".running_var", Shape: tensor.Shape{channels}, Initial: 1},
	}
}

func (l *BatchNorm2D) Name() string       { return l.name }
func (l *BatchNorm2D) Describe() string   { return fmt.Sprintf("batch norm, %d channels", l.C) }
func (l *BatchNorm2D) Params() []*Param   { return []*Param{l.Weight, l.Bias} }
func (l *BatchNorm2D) Buffers() []*Buffer { return []*Buffer{l.RunningMean, l.RunningVar} }

// FLOPs is zero: a per-element scale and shift, left out like the biases (see Layer.FLOPs).
func (l *BatchNorm2D) FLOPs(tensor.Shape) int64 { return 0 }

func (l *BatchNorm2D) OutShape(in tensor.Shape) (tensor.Shape, error) {
	if len(in) != 4 || in[1] != l.C {
		return nil, layerError(l, fmt.Errorf("input has shape %v, want [N %d H W]", in, l.C))
	}
	return in.Clone(), nil
}

// Forward does not work in place: its input is the convolution's output, which the
// convolution's backward does not need but this layer's does.
func (l *BatchNorm2D) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if _, err := l.OutShape(x.Shape()); err != nil {
		return nil, err
	}
	b := l.ctx.Backend
	if err := ensure(b, &l.y, tensor.Float32, x.Shape()...); err != nil {
		return nil, layerError(l, err)
	}
	if !l.ctx.Training {
		if err := b.BatchNormEval(l.y, x, l.Weight.Value, l.Bias.Value, l.RunningMean.Value, l.RunningVar.Value, BatchNormEps); err != nil {
			return nil, layerError(l, err)
		}
		l.x, l.trained = nil, false
		return l.y, nil
	}
	for _, t := range []**tensor.Tensor{&l.saveMean, &l.saveInvStd} {
		if err := ensure(b, t, tensor.Float32, l.C); err != nil {
			return nil, layerError(l, err)
		}
	}
	if err := b.BatchNormTrain(l.y, l.saveMean, l.saveInvStd, l.RunningMean.Value, l.RunningVar.Value, x,
		l.Weight.Value, l.Bias.Value, BatchNormMomentum, BatchNormEps); err != nil {
		return nil, layerError(l, err)
	}
	l.NumBatchesTracked++
	l.x, l.trained = x, true
	return l.y, nil
}

// Backward is the training-mode gradient, written over dy: the layer above is done with it.
// After an evaluation forward there is none to give (Grad-CAM stops before the conv stack).
func (l *BatchNorm2D) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if !l.trained {
		return nil, layerError(l, fmt.Errorf("backward without a training forward"))
	}
	if err := l.ctx.Backend.BatchNormBackward(dy, l.Weight.Grad, l.Bias.Grad, dy, l.x, l.Weight.Value, l.saveMean, l.saveInvStd); err != nil {
		return nil, layerError(l, err)
	}
	return dy, nil
}

func (l *BatchNorm2D) Release() {
	release(&l.y)
	release(&l.saveMean)
	release(&l.saveInvStd)
	l.x, l.trained = nil, false
}

// constInit fills a host tensor with v.
func constInit(v float32) func(*tensor.Tensor, *rand.Rand) {
	return func(t *tensor.Tensor, _ *rand.Rand) {
		for i := range t.Float32s() {
			t.Float32s()[i] = v
		}
	}
}

// CheckBackend reports, before any work, an op of the configuration's network that the backend
// has no kernel for (an error wrapping kernels.ErrNotImplemented): batch norm on a backend that
// lacks it, say, is then refused when a run starts rather than at its first training step.
func CheckBackend(b kernels.Backend, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil || cfg.Arch != ArchVGGDBN {
		return err
	}
	var ts []*tensor.Tensor
	defer func() {
		for _, t := range ts {
			t.Release()
		}
	}()
	for _, shape := range [][]int{{1, 1, 1, 1}, {1, 1, 1, 1}, {1}, {1}, {1}, {1}} {
		t, err := b.Alloc(tensor.Float32, shape...)
		if err != nil {
			return err
		}
		if err := b.Fill(t, 1); err != nil {
			return err
		}
		ts = append(ts, t)
	}
	if err := b.BatchNormEval(ts[0], ts[1], ts[2], ts[3], ts[4], ts[5], BatchNormEps); err != nil {
		return fmt.Errorf("%s on %s: %w", cfg.Arch, b.Name(), err)
	}
	return b.Sync()
}
