// Package nn builds the VGG-16 "configuration D" network out of layers that run on any
// kernels.Backend, trains it (optimisers, learning-rate schedules, a Trainer) and stores it in
// safetensors checkpoints that PyTorch loads with load_state_dict(strict=True).
//
// Every layer follows one pattern, as PyTorch's autograd does by hand:
//   - Forward(x) computes the output into a buffer the layer owns and keeps what Backward needs
//     (its input, the max-pool argmax, ...). The buffers are allocated the first time a batch
//     shape is seen and reused afterwards, so a training step allocates no backend memory.
//   - Backward(dy) takes the gradient of the loss with respect to the layer's output, writes the
//     gradients of its parameters (overwriting them: there is no zero_grad) and returns the
//     gradient with respect to its input.
//
// A returned tensor stays valid until the layer's next Forward or Backward call.
package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// Context is the state every layer of one network shares: the backend it computes on, whether
// it trains (dropout active) and which training step this is (dropout masks derive from Seed and
// Step, so a resumed run and another backend draw the very same masks).
type Context struct {
	Backend  kernels.Backend
	Training bool
	Seed     uint64
	Step     uint64
}

// Param is one learnable tensor: its PyTorch state_dict name ("cnn.0.weight"), its value and the
// gradient the last Backward wrote, both on the backend.
type Param struct {
	Name  string
	Shape tensor.Shape
	Value *tensor.Tensor
	Grad  *tensor.Tensor
	// NoDecay marks the parameters that weight decay should spare when the optimiser is told
	// to (OptimizerConfig.ExemptNoDecay): biases and batch norm's scales and shifts, which
	// set offsets and gains rather than feature detectors.
	NoDecay bool
	// init fills a host tensor with this parameter's initial values.
	init func(t *tensor.Tensor, rng *rand.Rand)
}

// Layer is one step of the network.
type Layer interface {
	// Name is the layer's PyTorch module path, e.g. "cnn.0" or "fc.3".
	Name() string
	// Describe says what the layer is, e.g. "conv 3x3, 64 -> 128", for the summary.
	Describe() string
	// OutShape is the output shape for an input shape, or an error naming the layer when the
	// input does not fit.
	OutShape(in tensor.Shape) (tensor.Shape, error)
	// FLOPs counts the floating-point operations of a forward pass for an input shape, a
	// multiply and an add counted as two: the matrix products of convolutions and linear layers
	// only (bias adds, ReLU and pooling are a fraction of a percent and are left out, as the
	// usual VGG figures do).
	FLOPs(in tensor.Shape) int64
	Forward(x *tensor.Tensor) (*tensor.Tensor, error)
	Backward(dy *tensor.Tensor) (*tensor.Tensor, error)
	// Params lists the learnable tensors (none for ReLU, pooling, dropout, flatten).
	Params() []*Param
	// Release hands the layer's activation buffers back to the backend.
	Release()
}

// ensure makes *t a backend tensor of the given type and shape, reusing the one already there
// when it fits: this is what keeps the per-step allocations at zero once the batch shape is
// stable.
func ensure(b kernels.Backend, t **tensor.Tensor, dtype tensor.DType, shape ...int) error {
	if *t != nil && (*t).DType() == dtype && (*t).Shape().Equal(shape) {
		return nil
	}
	release(t)
	n, err := b.Alloc(dtype, shape...)
	if err != nil {
		return err
	}
	*t = n
	return nil
}

// release frees a buffer made by ensure and forgets it.
func release(t **tensor.Tensor) {
	if *t != nil {
		(*t).Release()
		*t = nil
	}
}

// layerError prefixes an error with the layer that met it.
func layerError(l Layer, err error) error {
	return fmt.Errorf("%s (%s): %w", l.Name(), l.Describe(), err)
}
