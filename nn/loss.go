package nn

import (
	"fmt"

	"github.com/vgglab/vgg/tensor"
)

// SoftmaxCrossEntropy is PyTorch's nn.CrossEntropyLoss (mean over the batch): softmax of the
// logits, the negative log-probability of each label, and the gradient of their mean.
type SoftmaxCrossEntropy struct {
	ctx                  *Context
	Probs, Loss, DLogits *tensor.Tensor // [N, C], [N] per-example losses, [N, C]
	labels               *tensor.Tensor
}

func NewSoftmaxCrossEntropy(ctx *Context) *SoftmaxCrossEntropy {
	return &SoftmaxCrossEntropy{ctx: ctx}
}

// Forward computes the probabilities and the per-example losses of logits [N, C] against int32
// labels [N], all on the backend.
func (s *SoftmaxCrossEntropy) Forward(logits, labels *tensor.Tensor) error {
	if err := tensor.Check("cross-entropy", "logits", logits, -1, -1); err != nil {
		return err
	}
	n, c := logits.Dim(0), logits.Dim(1)
	if err := tensor.Check("cross-entropy", "labels", labels, n); err != nil {
		return err
	}
	if err := tensor.CheckDType("cross-entropy", "labels", labels, tensor.Int32); err != nil {
		return err
	}
	b := s.ctx.Backend
	if err := ensure(b, &s.Probs, tensor.Float32, n, c); err != nil {
		return fmt.Errorf("cross-entropy: %w", err)
	}
	if err := ensure(b, &s.Loss, tensor.Float32, n); err != nil {
		return fmt.Errorf("cross-entropy: %w", err)
	}
	s.labels = labels
	return b.SoftmaxCrossEntropy(s.Probs, s.Loss, logits, labels)
}

// Backward returns the gradient of the batch-mean loss with respect to the logits.
func (s *SoftmaxCrossEntropy) Backward() (*tensor.Tensor, error) {
	if s.labels == nil {
		return nil, fmt.Errorf("cross-entropy: backward before forward")
	}
	if err := ensure(s.ctx.Backend, &s.DLogits, tensor.Float32, s.Probs.Shape()...); err != nil {
		return nil, fmt.Errorf("cross-entropy: %w", err)
	}
	return s.DLogits, s.ctx.Backend.SoftmaxCrossEntropyBackward(s.DLogits, s.Probs, s.labels)
}

// Accumulate adds this batch's loss sum, correct count and size to a [3] stats tensor on the
// backend (see kernels.Backend.AccumulateStats); nothing is copied to the host.
func (s *SoftmaxCrossEntropy) Accumulate(stats *tensor.Tensor) error {
	return s.ctx.Backend.AccumulateStats(stats, s.Loss, s.Probs, s.labels)
}

func (s *SoftmaxCrossEntropy) Release() {
	release(&s.Probs)
	release(&s.Loss)
	release(&s.DLogits)
	s.labels = nil
}
