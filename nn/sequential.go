package nn

import (
	"github.com/vgglab/vgg/kernels"
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

// ForwardHost runs the layers on backend b over a host tensor and returns the output as a host
// tensor: uploading, the forward pass and downloading, for small networks that answer one
// batch at a time (the face checker, the eye locator).
func (s *Sequential) ForwardHost(b kernels.Backend, host *tensor.Tensor) (*tensor.Tensor, error) {
	x, err := b.Alloc(tensor.Float32, host.Shape()...)
	if err != nil {
		return nil, err
	}
	defer x.Release()
	if err := b.Upload(x, host); err != nil {
		return nil, err
	}
	y, err := s.Forward(x)
	if err != nil {
		return nil, err
	}
	out := tensor.Zeros(y.Shape()...)
	if err := b.Download(out, y); err != nil {
		return nil, err
	}
	return out, nil
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
