package dataset

import (
	"github.com/vgglab/vgg/tensor"
)

// Mix is how a batch's pictures were mixed: picture k is Lambda times itself plus 1-Lambda
// times another picture of the batch, and is learnt as Lambda of its own label and 1-Lambda of
// PartnerLabels[k], the other picture's.
type Mix struct {
	Lambda        float32
	PartnerLabels *tensor.Tensor // int32 [B] on the host
}

// MixBatch mixes the pictures x [B, 3, S, S] in place in pairs (Zhang et al., "mixup: beyond
// empirical risk minimization", 2018): picture k becomes lambda*x[k] + (1-lambda)*x[partner[k]],
// all read before any is written. Mixing the normalised pictures is mixing the pixels, since
// the normalisation is affine and the weights add up to 1. lambda is drawn from [0.5, 1] by the
// loader (mixup's Beta(1, 1), folded so that a picture's own label keeps the larger weight and
// its training accuracy still means something); partner is a permutation of the batch.
func MixBatch(x, labels *tensor.Tensor, lambda float64, partner []int) *Mix {
	n := x.Dim(0)
	xs, ys := x.Float32s(), labels.Int32s()
	per := len(xs) / n
	original := append([]float32(nil), xs...)
	partnerLabels := tensor.New(tensor.Int32, n)
	pl := partnerLabels.Int32s()
	own, other := float32(lambda), float32(1-lambda)
	for k, p := range partner {
		dst, a, b := xs[k*per:(k+1)*per], original[k*per:(k+1)*per], original[p*per:(p+1)*per]
		for i := range dst {
			dst[i] = own*a[i] + other*b[i]
		}
		pl[k] = ys[p]
	}
	return &Mix{Lambda: own, PartnerLabels: partnerLabels}
}
