//go:build cuda

package cuda

import (
	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

var (
	reluForward  = kernel{"relu", "relu_forward"}
	reluBackward = kernel{"relu", "relu_backward"}
)

func (b *Backend) ReLU(y, x *tensor.Tensor) error {
	const op = "ReLU"
	if err := kernels.CheckReLU(y, x); err != nil {
		return err
	}
	p, err := b.pointers(op, named{"y", y}, named{"x", x})
	if err != nil {
		return err
	}
	n := x.Numel()
	return b.run(op, func() error {
		return b.d.launch(reluForward, b.d.gridFor(ceilDiv(n, 4)), dim3{256, 1, 1}, ptrArg(p[0]), ptrArg(p[1]), intArg(n))
	})
}

func (b *Backend) ReLUBackward(dx, dy, y *tensor.Tensor) error {
	const op = "ReLUBackward"
	if err := kernels.CheckReLUBackward(dx, dy, y); err != nil {
		return err
	}
	p, err := b.pointers(op, named{"dx", dx}, named{"dy", dy}, named{"y", y})
	if err != nil {
		return err
	}
	n := y.Numel()
	return b.run(op, func() error {
		return b.d.launch(reluBackward, b.d.gridFor(ceilDiv(n, 4)), dim3{256, 1, 1},
			ptrArg(p[0]), ptrArg(p[1]), ptrArg(p[2]), intArg(n))
	})
}
