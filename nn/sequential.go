package nn

import (
	"github.com/vgglab/vgg/tensor"
)

// Sequential is PyTorch's nn.Sequential: its layers run one after another forward and in
// reverse order backward.
type Sequential struct {
	Layers []Layer
}

func (s *Sequential) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	for _, l := range s.Layers {
		var err error
		if x, err = l.Forward(x); err != nil {
			return nil, err
		}
	}
	return x, nil
}

func (s *Sequential) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	for i := len(s.Layers) - 1; i >= 0; i-- {
		var err error
		if dy, err = s.Layers[i].Backward(dy); err != nil {
			return nil, err
		}
	}
	return dy, nil
}

// Params lists every layer's parameters in order, weight before bias, as state_dict does.
func (s *Sequential) Params() []*Param {
	var ps []*Param
	for _, l := range s.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

func (s *Sequential) Release() {
	for _, l := range s.Layers {
		l.Release()
	}
}
