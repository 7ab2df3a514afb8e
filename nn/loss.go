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

// BackwardMixed returns the gradient of the batch mean of lambda*CE(labels) + (1-lambda)*CE(partner),
// the loss of mixup (pictures mixed in pairs, each learnt as lambda of its own identity and
// 1-lambda of its partner's): (probs - lambda*onehot(labels) - (1-lambda)*onehot(partner)) / N,
// that is Backward's (probs - onehot(labels)) / N plus (1-lambda)/N at each label and minus as
// much at each partner's. partner is an int32 [N] host tensor. The contract has no op for soft
// targets, so the correction is made on the host: the [N, C] gradient goes down and back up
// once a step, a few hundred values next to a step's millions.
func (s *SoftmaxCrossEntropy) BackwardMixed(partner *tensor.Tensor, lambda float32) (*tensor.Tensor, error) {
	d, err := s.Backward()
	if err != nil {
		return nil, err
	}
	n, c := d.Dim(0), d.Dim(1)
	if err := tensor.Check("cross-entropy", "partner labels", partner, n); err != nil {
		return nil, err
	}
	if err := tensor.CheckDType("cross-entropy", "partner labels", partner, tensor.Int32); err != nil {
		return nil, err
	}
	if !(lambda >= 0 && lambda <= 1) {
		return nil, fmt.Errorf("cross-entropy: mixing weight %v is not in [0, 1]", lambda)
	}
	b := s.ctx.Backend
	host, labels := tensor.Zeros(n, c), tensor.New(tensor.Int32, n)
	if err := b.Download(host, d); err != nil {
		return nil, err
	}
	if err := b.Download(labels, s.labels); err != nil {
		return nil, err
	}
	hd, own, other := host.Float32s(), labels.Int32s(), partner.Int32s()
	shift := (1 - lambda) / float32(n)
	for i := range n {
		if other[i] < 0 || int(other[i]) >= c {
			return nil, fmt.Errorf("cross-entropy: partner label %d of example %d is outside [0, %d)", other[i], i, c)
		}
		hd[i*c+int(own[i])] += shift
		hd[i*c+int(other[i])] -= shift
	}
	return d, b.Upload(d, host)
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
