package explain

import (
	"fmt"

	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/tensor"
)

// uploadFace checks that x is one face of the model's input size, puts the model in eval mode
// and copies the face onto the model's backend; the caller releases the copy.
func uploadFace(op string, m *nn.Model, x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := tensor.Check(op, "face", x, 1, nn.InputChannels, m.Config.InputSize, m.Config.InputSize); err != nil {
		return nil, err
	}
	b := m.Ctx.Backend
	if b == nil {
		return nil, fmt.Errorf("%s: the model has no weights yet", op)
	}
	m.SetTraining(false)
	input, err := b.Alloc(tensor.Float32, x.Shape()...)
	if err != nil {
		return nil, err
	}
	if err := b.Upload(input, x); err != nil {
		input.Release()
		return nil, err
	}
	return input, nil
}
