package train

import (
	"fmt"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/tensor"
)

// staging uploads host batches into backend tensors that it keeps, one per type and shape, so
// that a run allocates device memory for its inputs once: a full batch and the smaller last
// batch of an epoch.
type staging struct {
	b       kernels.Backend
	tensors map[string]*tensor.Tensor
}

func newStaging(b kernels.Backend) *staging {
	return &staging{b: b, tensors: map[string]*tensor.Tensor{}}
}

// upload copies host into the backend tensor of its type and shape and returns that tensor,
// valid until the next upload of the same shape.
func (s *staging) upload(host *tensor.Tensor) (*tensor.Tensor, error) {
	key := host.DType().String() + host.Shape().String()
	t := s.tensors[key]
	if t == nil {
		var err error
		if t, err = s.b.Alloc(host.DType(), host.Shape()...); err != nil {
			return nil, fmt.Errorf("input batch %v: %w", host.Shape(), err)
		}
		s.tensors[key] = t
	}
	return t, s.b.Upload(t, host)
}

func (s *staging) release() {
	for _, t := range s.tensors {
		t.Release()
	}
	s.tensors = map[string]*tensor.Tensor{}
}

// forward runs a host batch through the model in evaluation mode (no dropout) and returns the
// logits on the host, one row of classes after another.
func forward(m *nn.Model, in *staging, x *tensor.Tensor) ([]float32, error) {
	dx, err := in.upload(x)
	if err != nil {
		return nil, err
	}
	m.SetTraining(false)
	logits, err := m.Forward(dx)
	if err != nil {
		return nil, err
	}
	host := tensor.Zeros(logits.Shape()...)
	if err := in.b.Download(host, logits); err != nil {
		return nil, err
	}
	return host.Float32s(), nil
}
