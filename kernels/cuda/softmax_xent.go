//go:build cuda

package cuda

import "github.com/vgglab/vgg/tensor"

var (
	softmaxXentForward  = kernel{"softmax_xent", "softmax_xent_forward"}
	softmaxXentBackward = kernel{"softmax_xent", "softmax_xent_backward"}
	accumulateStats     = kernel{"softmax_xent", "accumulate_stats"}
)

// checkLabels checks labels is int32 [n].
func checkLabels(op string, labels *tensor.Tensor, n int) error {
	if err := tensor.Check(op, "labels", labels, n); err != nil {
		return err
	}
	return tensor.CheckDType(op, "labels", labels, tensor.Int32)
}

// SoftmaxCrossEntropy also gives a NaN loss for a label outside [0, classes): the check runs
// on the GPU, where no error can be returned without waiting for the device.
func (b *Backend) SoftmaxCrossEntropy(probs, loss, logits, labels *tensor.Tensor) error {
	const op = "SoftmaxCrossEntropy"
	if err := tensor.Check(op, "logits", logits, -1, -1); err != nil {
		return err
	}
	n, c := logits.Dim(0), logits.Dim(1)
	if err := sameShape(op, named{"logits", logits}, named{"probs", probs}); err != nil {
		return err
	}
	if err := tensor.Check(op, "loss", loss, n); err != nil {
		return err
	}
	if err := checkLabels(op, labels, n); err != nil {
		return err
	}
	p, err := b.pointers(op, named{"probs", probs}, named{"loss", loss}, named{"logits", logits}, named{"labels", labels})
	if err != nil || n == 0 {
		return err
	}
	return b.run(op, func() error {
		return b.d.launch(softmaxXentForward, dim3{n, 1, 1}, dim3{256, 1, 1},
			ptrArg(p[0]), ptrArg(p[1]), ptrArg(p[2]), ptrArg(p[3]), intArg(n), intArg(c))
	})
}

func (b *Backend) SoftmaxCrossEntropyBackward(dlogits, probs, labels *tensor.Tensor) error {
	const op = "SoftmaxCrossEntropyBackward"
	if err := tensor.Check(op, "probs", probs, -1, -1); err != nil {
		return err
	}
	n, c := probs.Dim(0), probs.Dim(1)
	if err := sameShape(op, named{"probs", probs}, named{"dlogits", dlogits}); err != nil {
		return err
	}
	if err := checkLabels(op, labels, n); err != nil {
		return err
	}
	p, err := b.pointers(op, named{"dlogits", dlogits}, named{"probs", probs}, named{"labels", labels})
	if err != nil || n == 0 {
		return err
	}
	return b.run(op, func() error {
		return b.d.launch(softmaxXentBackward, b.d.gridFor(n*c), dim3{256, 1, 1},
			ptrArg(p[0]), ptrArg(p[1]), ptrArg(p[2]), intArg(n), intArg(c))
	})
}

func (b *Backend) AccumulateStats(stats, loss, probs, labels *tensor.Tensor) error {
	const op = "AccumulateStats"
	if err := tensor.Check(op, "probs", probs, -1, -1); err != nil {
		return err
	}
	n, c := probs.Dim(0), probs.Dim(1)
	if err := tensor.Check(op, "stats", stats, 3); err != nil {
		return err
	}
	if err := tensor.Check(op, "loss", loss, n); err != nil {
		return err
	}
	if err := checkLabels(op, labels, n); err != nil {
		return err
	}
	p, err := b.pointers(op, named{"stats", stats}, named{"loss", loss}, named{"probs", probs}, named{"labels", labels})
	if err != nil {
		return err
	}
	return b.run(op, func() error {
		return b.d.launch(accumulateStats, dim3{1, 1, 1}, dim3{256, 1, 1},
			ptrArg(p[0]), ptrArg(p[1]), ptrArg(p[2]), ptrArg(p[3]), intArg(n), intArg(c))
	})
}
