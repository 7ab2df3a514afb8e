package nn

import (
	"fmt"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// OptimizerConfig chooses the update rule. The learning rate is not here: a Schedule gives it
// at every step.
type OptimizerConfig struct {
	// Kind is "sgd" (with momentum, PyTorch's torch.optim.SGD), "adam" (L2 weight decay added
	// to the gradient) or "adamw" (decoupled weight decay, Loshchilov & Hutter 2019).
	Kind        string
	WeightDecay float32
	// ExemptNoDecay spares the parameters marked NoDecay (biases, batch norm's weights and
	// biases) from weight decay, as the usual recipes for batch-norm networks do. False
	// decays every parameter alike.
	ExemptNoDecay bool `json:",omitempty"`
	// SGD only.
	Momentum float32
	Nesterov bool
	// Adam and AdamW only; zero means PyTorch's defaults 0.9, 0.999, 1e-8.
	Beta1, Beta2, Eps float32
}

// Optimizer updates a list of parameters from their gradients, keeping its per-parameter state
// (SGD's velocity, Adam's two moments) on the backend next to them.
type Optimizer struct {
	Config OptimizerConfig
	params []*Param
	// state[i] holds parameter i's buffers, named as PyTorch's optimizer state_dict names them.
	state [][]*tensor.Tensor
	names []string
	// Steps counts the updates done; Adam's bias correction uses it (from 1).
	Steps int
	b     kernels.Backend
}

// NewOptimizer allocates zeroed state for every parameter on b.
func NewOptimizer(b kernels.Backend, params []*Param, cfg OptimizerConfig) (*Optimizer, error) {
	var names []string
	switch cfg.Kind {
	case "sgd":
		names = []string{"momentum_buffer"}
	case "adam", "adamw":
		names = []string{"exp_avg", "exp_avg_sq"}
		if cfg.Beta1 == 0 {
			cfg.Beta1 = 0.9
		}
		if cfg.Beta2 == 0 {
			cfg.Beta2 = 0.999
		}
		if cfg.Eps == 0 {
			cfg.Eps = 1e-8
		}
	default:
		return nil, fmt.Errorf("optimizer %q is unknown; use sgd, adam or adamw", cfg.Kind)
	}
	o := &Optimizer{Config: cfg, params: params, names: names, b: b}
	for _, p := range params {
		var bufs []*tensor.Tensor
		for range names {
			t, err := b.Alloc(tensor.Float32, p.Shape...)
			if err != nil {
				return nil, fmt.Errorf("optimizer state for %s: %w", p.Name, err)
			}
			if err := b.Fill(t, 0); err != nil {
				return nil, fmt.Errorf("optimizer state for %s: %w", p.Name, err)
			}
			bufs = append(bufs, t)
		}
		o.state = append(o.state, bufs)
	}
	return o, nil
}

// Update applies one step with learning rate lr to every parameter.
func (o *Optimizer) Update(lr float32) error {
	o.Steps++
	c := o.Config
	for i, p := range o.params {
		decay := c.WeightDecay
		if c.ExemptNoDecay && p.NoDecay {
			decay = 0
		}
		var err error
		switch c.Kind {
		case "sgd":
			err = o.b.SGD(p.Value, p.Grad, o.state[i][0], kernels.SGDConfig{
				LR: lr, Momentum: c.Momentum, WeightDecay: decay, Nesterov: c.Nesterov})
		default:
			err = o.b.Adam(p.Value, p.Grad, o.state[i][0], o.state[i][1], kernels.AdamConfig{
				LR: lr, Beta1: c.Beta1, Beta2: c.Beta2, Eps: c.Eps, WeightDecay: decay,
				Decoupled: c.Kind == "adamw"}, o.Steps)
		}
		if err != nil {
			return fmt.Errorf("%s update of %s: %w", c.Kind, p.Name, err)
		}
	}
	return nil
}

// stateTensors lists the optimiser's buffers by name ("cnn.0.weight.exp_avg"), for the
// training-state checkpoint.
func (o *Optimizer) stateTensors() []namedTensor {
	var nts []namedTensor
	for i, p := range o.params {
		for j, n := range o.names {
			nts = append(nts, namedTensor{p.Name + "." + n, o.state[i][j]})
		}
	}
	return nts
}

// Release frees the optimiser's state.
func (o *Optimizer) Release() {
	for _, bufs := range o.state {
		for j := range bufs {
			release(&bufs[j])
		}
	}
}
