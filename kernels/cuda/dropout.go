//go:build cuda

package cuda

import (
	"fmt"

	"github.com/vgglab/vgg/tensor"
)

// dropoutApply serves forward and backward: both scale the elements Philox keeps by 1/(1-p).
var dropoutApply = kernel{"dropout", "dropout_apply"}

func (b *Backend) dropout(op string, out, in *tensor.Tensor, p float32, seed uint64) error {
	if !(p >= 0 && p < 1) {
		return fmt.Errorf("%s: drop probability %v is outside [0, 1)", op, p)
	}
	if err := sameShape(op, named{"input", in}, named{"output", out}); err != nil {
		return err
	}
	ptr, err := b.pointers(op, named{"output", out}, named{"input", in})
	if err != nil {
		return err
	}
	n := in.Numel()
	scale := 1 / (1 - p) // in float32, as kernels/cpu rounds it: the outputs match bit for bit
	threshold := uint64(dropoutThreshold(p))
	return b.run(op, func() error {
		return b.d.launch(dropoutApply, b.d.gridFor(ceilDiv(n, 8)), dim3{256, 1, 1},
			ptrArg(ptr[0]), ptrArg(ptr[1]), intArg(n), threshold, floatArg(scale), seed)
	})
}

func (b *Backend) Dropout(y, x *tensor.Tensor, p float32, seed uint64) error {
	return b.dropout("Dropout", y, x, p, seed)
}

func (b *Backend) DropoutBackward(dx, dy *tensor.Tensor, p float32, seed uint64) error {
	return b.dropout("DropoutBackward", dx, dy, p, seed)
}
