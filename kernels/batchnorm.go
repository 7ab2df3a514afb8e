package kernels

import (
	"fmt"

	"github.com/vgglab/vgg/tensor"
)

// The shape and argument checks of the batch-normalisation ops, in one place so that every
// backend refuses the same calls with the same errors (*tensor.ShapeError for a shape).

// CheckBatchNormTrain checks BatchNormTrain's arguments: x [N,C,H,W] with N·H·W > 1, y like x,
// everything else [C], 0 <= momentum <= 1 and eps > 0.
func CheckBatchNormTrain(y, saveMean, saveInvStd, runMean, runVar, x, gamma, beta *tensor.Tensor, momentum, eps float32) error {
	const op = "BatchNormTrain"
	if err := checkBatchNorm(op, x, []named{{"y", y}},
		[]named{{"saveMean", saveMean}, {"saveInvStd", saveInvStd}, {"runMean", runMean}, {"runVar", runVar}, {"gamma", gamma}, {"beta", beta}}); err != nil {
		return err
	}
	if n := x.Dim(0) * x.Dim(2) * x.Dim(3); n < 2 {
		return fmt.Errorf("%s: x %v has %d value per channel (N·H·W); batch statistics need at least 2 (use evaluation mode for a single 1x1 image)", op, x.Shape(), n)
	}
	if !(momentum >= 0 && momentum <= 1) {
		return fmt.Errorf("%s: momentum %v is outside [0, 1]", op, momentum)
	}
	return checkEps(op, eps)
}

// CheckBatchNormEval checks BatchNormEval's arguments: x [N,C,H,W], y like x, the rest [C],
// eps > 0.
func CheckBatchNormEval(y, x, gamma, beta, runMean, runVar *tensor.Tensor, eps float32) error {
	const op = "BatchNormEval"
	if err := checkBatchNorm(op, x, []named{{"y", y}},
		[]named{{"gamma", gamma}, {"beta", beta}, {"runMean", runMean}, {"runVar", runVar}}); err != nil {
		return err
	}
	return checkEps(op, eps)
}

// CheckBatchNormBackward checks BatchNormBackward's arguments: x [N,C,H,W], dx and dy like x,
// the rest [C].
func CheckBatchNormBackward(dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd *tensor.Tensor) error {
	return checkBatchNorm("BatchNormBackward", x, []named{{"dy", dy}, {"dx", dx}},
		[]named{{"gamma", gamma}, {"saveMean", saveMean}, {"saveInvStd", saveInvStd}, {"dgamma", dgamma}, {"dbeta", dbeta}})
}

// named is an op's argument with its name, for the error messages.
type named struct {
	name string
	t    *tensor.Tensor
}

// checkBatchNorm checks that x is rank 4, that every image-shaped tensor has x's shape and
// that every per-channel tensor is [C].
func checkBatchNorm(op string, x *tensor.Tensor, images, channels []named) error {
	if err := tensor.Check(op, "x", x, -1, -1, -1, -1); err != nil {
		return err
	}
	for _, a := range images {
		if err := tensor.Check(op, a.name, a.t, x.Shape()...); err != nil {
			return err
		}
	}
	for _, a := range channels {
		if err := tensor.Check(op, a.name, a.t, x.Dim(1)); err != nil {
			return err
		}
	}
	return nil
}

func checkEps(op string, eps float32) error {
	if !(eps > 0) {
		return fmt.Errorf("%s: eps %v must be positive (it keeps 1/sqrt(var + eps) finite for a constant channel)", op, eps)
	}
	return nil
}
