//go:build cuda

package cuda

import (
	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

var (
	softmaxXentForward  = kernel{"softmax_xent", "softmax_xent_forward"}
	softmaxXentBackward = kernel{"softmax_xent", "softmax_xent_backward"}
	accumulateStats     = kernel{"softmax_xent", "accumulate_stats"}
)

// checkLabelValues applies the contract's label rule (kernels.CheckLabels: every label in
// [0, classes)) before a loss op is queued, so that a bad label is an error here as on the
// CPU, not a NaN loss (the kernels index probs by label and could not return an error).
//
// Labels come from the host: training uploads each batch's labels with Upload, which keeps a
// copy of the int32 values on the Buffer (see Buffer.uploaded), so the check reads that copy
// and costs no device round trip. Labels that a kernel wrote, which no op of the contract
// does today, have no copy; they are downloaded first, which waits for the queued work.
func (b *Backend) checkLabelValues(op string, labels *tensor.Tensor, classes int) error {
	if v := labels.Buffer().(*Buffer).uploaded.Load(); v != nil && len(*v) == labels.Numel() {
		return kernels.CheckLabels(op, *v, classes)
	}
	host := tensor.New(tensor.Int32, labels.Shape()...)
	if err := b.Download(host, labels); err != nil {
		return err
	}
	return kernels.CheckLabels(op, host.Int32s(), classes)
}

func (b *Backend) SoftmaxCrossEntropy(probs, loss, logits, labels *tensor.Tensor) error {
	const op = "SoftmaxCrossEntropy"
	g, err := kernels.CheckSoftmaxCrossEntropy(probs, loss, logits, labels)
	if err != nil {
		return err
	}
	n, c := g.N, g.Classes
	p, err := b.pointers(op, named{"probs", probs}, named{"loss", loss}, named{"logits", logits}, named{"labels", labels})
	if err != nil {
		return err
	}
	if err := b.checkLabelValues(op, labels, c); err != nil || n == 0 {
		return err
	}
	return b.run(op, func() error {
		return b.d.launch(softmaxXentForward, dim3{n, 1, 1}, dim3{256, 1, 1},
			ptrArg(p[0]), ptrArg(p[1]), ptrArg(p[2]), ptrArg(p[3]), intArg(n), intArg(c))
	})
}

func (b *Backend) SoftmaxCrossEntropyBackward(dlogits, probs, labels *tensor.Tensor) error {
	const op = "SoftmaxCrossEntropyBackward"
	g, err := kernels.CheckSoftmaxCrossEntropyBackward(dlogits, probs, labels)
	if err != nil {
		return err
	}
	n, c := g.N, g.Classes
	p, err := b.pointers(op, named{"dlogits", dlogits}, named{"probs", probs}, named{"labels", labels})
	if err != nil {
		return err
	}
	if err := b.checkLabelValues(op, labels, c); err != nil || n == 0 {
		return err
	}
	return b.run(op, func() error {
		return b.d.launch(softmaxXentBackward, b.d.gridFor(n*c), dim3{256, 1, 1},
			ptrArg(p[0]), ptrArg(p[1]), ptrArg(p[2]), intArg(n), intArg(c))
	})
}

func (b *Backend) AccumulateStats(stats, loss, probs, labels *tensor.Tensor) error {
	const op = "AccumulateStats"
	g, err := kernels.CheckAccumulateStats(stats, loss, probs, labels)
	if err != nil {
		return err
	}
	n, c := g.N, g.Classes
	p, err := b.pointers(op, named{"stats", stats}, named{"loss", loss}, named{"probs", probs}, named{"labels", labels})
	if err != nil {
		return err
	}
	if err := b.checkLabelValues(op, labels, c); err != nil {
		return err
	}
	return b.run(op, func() error {
		return b.d.launch(accumulateStats, dim3{1, 1, 1}, dim3{256, 1, 1},
			ptrArg(p[0]), ptrArg(p[1]), ptrArg(p[2]), ptrArg(p[3]), intArg(n), intArg(c))
	})
}
