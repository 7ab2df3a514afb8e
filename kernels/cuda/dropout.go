//go:build cuda

package cuda

import (
	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// dropoutApply serves forward and backward: both scale the elements Philox keeps by 1/(1-p).
var dropoutApply = kernel{"dropout", "dropout_apply"}

// dropout launches the kernel once the op's rule has passed; outName and inName are the
// op's names for its arguments.
func (b *Backend) dropout(op, outName string, out *tensor.Tensor, inName string, in *tensor.Tensor, p float32, seed uint64) error {
	ptr, err := b.pointers(op, named{outName, out}, named{inName, in})
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
	if err := kernels.CheckDropout(y, x, p); err != nil {
		return err
	}
	return b.dropout("Dropout", "y", y, "x", x, p, seed)
}

func (b *Backend) DropoutBackward(dx, dy *tensor.Tensor, p float32, seed uint64) error {
	if err := kernels.CheckDropoutBackward(dx, dy, p); err != nil {
		return err
	}
	return b.dropout("DropoutBackward", "dx", dx, "dy", dy, p, seed)
}
