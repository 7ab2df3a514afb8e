//go:build cuda

package cuda

import (
	"fmt"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// Batch normalisation has no GPU kernel yet. The ops check their arguments as every backend
// does (so a wrong shape is reported as such), then refuse with an error that wraps
// kernels.ErrNotImplemented and says what to do instead.

func errNoBatchNorm(op string) error {
	return fmt.Errorf("cuda %s: batch normalisation has no GPU kernel yet (%w); train the batch-norm model with --device cpu or use --arch vgg-d", op, kernels.ErrNotImplemented)
}

func (b *Backend) BatchNormTrain(y, saveMean, saveInvStd, runMean, runVar, x, gamma, beta *tensor.Tensor, momentum, eps float32) error {
	if _, err := kernels.CheckBatchNormTrain(y, saveMean, saveInvStd, runMean, runVar, x, gamma, beta, momentum, eps); err != nil {
		return err
	}
	return errNoBatchNorm("BatchNormTrain")
}

func (b *Backend) BatchNormEval(y, x, gamma, beta, runMean, runVar *tensor.Tensor, eps float32) error {
	if _, err := kernels.CheckBatchNormEval(y, x, gamma, beta, runMean, runVar, eps); err != nil {
		return err
	}
	return errNoBatchNorm("BatchNormEval")
}

func (b *Backend) BatchNormBackward(dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd *tensor.Tensor) error {
	if _, err := kernels.CheckBatchNormBackward(dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd); err != nil {
		return err
	}
	return errNoBatchNorm("BatchNormBackward")
}
