package cpu

import (
	"math"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// checkLabels returns the labels of an int32 host tensor whose shape the op's rule has
// checked, each checked by kernels.CheckLabels to lie in [0, classes).
func checkLabels(op string, labels *tensor.Tensor, classes int) ([]int32, error) {
	ld, err := hostI32(op, "labels", labels)
	if err != nil {
		return nil, err
	}
	return ld, kernels.CheckLabels(op, ld, classes)
}

// SoftmaxCrossEntropy: probs = softmax(logits) row by row and loss_n = -log probs[n, label_n].
// With m = max_c logits, log Σ exp(logit) = m + log Σ exp(logit - m): every exponent is <= 0,
// so nothing overflows even for logits of 1e4, and the loss is computed as
// (m + log Σ) - logit[label] instead of the log of a probability that may have underflowed.
func (be *Backend) SoftmaxCrossEntropy(probs, loss, logits, labels *tensor.Tensor) error {
	const op = "SoftmaxCrossEntropy"
	g, err := kernels.CheckSoftmaxCrossEntropy(probs, loss, logits, labels)
	if err != nil {
		return err
	}
	n, classes := g.N, g.Classes
	pd, err := hostF32(op, "probs", probs)
	if err != nil {
		return err
	}
	lossd, err := hostF32(op, "loss", loss)
	if err != nil {
		return err
	}
	zd, err := hostF32(op, "logits", logits)
	if err != nil {
		return err
	}
	ld, err := checkLabels(op, labels, classes)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		row := zd[i*classes : (i+1)*classes]
		out := pd[i*classes : (i+1)*classes]
		m := math.Inf(-1)
		for _, v := range row {
			m = max(m, float64(v))
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - m)
		}
		logSum := m + math.Log(sum)
		for c, v := range row {
			out[c] = float32(math.Exp(float64(v) - logSum))
		}
		lossd[i] = float32(logSum - float64(row[ld[i]]))
	}
	return nil
}

// SoftmaxCrossEntropyBackward: dlogits = (probs - onehot(labels)) / N.
func (be *Backend) SoftmaxCrossEntropyBackward(dlogits, probs, labels *tensor.Tensor) error {
	const op = "SoftmaxCrossEntropyBackward"
	g, err := kernels.CheckSoftmaxCrossEntropyBackward(dlogits, probs, labels)
	if err != nil {
		return err
	}
	n, classes := g.N, g.Classes
	dd, err := hostF32(op, "dlogits", dlogits)
	if err != nil {
		return err
	}
	pd, err := hostF32(op, "probs", probs)
	if err != nil {
		return err
	}
	ld, err := checkLabels(op, labels, classes)
	if err != nil {
		return err
	}
	inv := 1 / float32(n)
	for i := 0; i < n; i++ {
		for c := 0; c < classes; c++ {
			g := pd[i*classes+c]
			if c == int(ld[i]) {
				g -= 1
			}
			dd[i*classes+c] = g * inv
		}
	}
	return nil
}

// AccumulateStats: stats += [Σ loss, #correct, N], where a sample is correct when the first
// largest probability is at its label.
func (be *Backend) AccumulateStats(stats, loss, probs, labels *tensor.Tensor) error {
	const op = "AccumulateStats"
	g, err := kernels.CheckAccumulateStats(stats, loss, probs, labels)
	if err != nil {
		return err
	}
	n, classes := g.N, g.Classes
	sd, err := hostF32(op, "stats", stats)
	if err != nil {
		return err
	}
	lossd, err := hostF32(op, "loss", loss)
	if err != nil {
		return err
	}
	pd, err := hostF32(op, "probs", probs)
	if err != nil {
		return err
	}
	ld, err := checkLabels(op, labels, classes)
	if err != nil {
		return err
	}
	var lossSum float64
	correct := 0
	for i := 0; i < n; i++ {
		lossSum += float64(lossd[i])
		row := pd[i*classes : (i+1)*classes]
		best := 0
		for c, v := range row {
			if v > row[best] {
				best = c
			}
		}
		if best == int(ld[i]) {
			correct++
		}
	}
	sd[0] += float32(lossSum)
	sd[1] += float32(correct)
	sd[2] += float32(n)
	return nil
}
