//go:build cuda

package cuda

import (
	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

var (
	maxPoolForward  = kernel{"maxpool", "maxpool2x2_forward"}
	maxPoolBackward = kernel{"maxpool", "maxpool2x2_backward"}
)

func (b *Backend) MaxPool2x2(y, argmax, x *tensor.Tensor) error {
	const op = "MaxPool2x2"
	g, err := kernels.CheckMaxPool2x2(y, argmax, x)
	if err != nil {
		return err
	}
	n, c, h, w := g.N, g.C, g.H, g.W
	p, err := b.pointers(op, named{"y", y}, named{"argmax", argmax}, named{"x", x})
	if err != nil {
		return err
	}
	argmax.Buffer().(*Buffer).uploaded.Store(nil) // the kernel writes it
	return b.run(op, func() error {
		return b.d.launch(maxPoolForward, b.d.gridFor(y.Numel()), dim3{256, 1, 1},
			ptrArg(p[0]), ptrArg(p[1]), ptrArg(p[2]), intArg(n*c), intArg(h), intArg(w))
	})
}

func (b *Backend) MaxPool2x2Backward(dx, dy, argmax *tensor.Tensor) error {
	const op = "MaxPool2x2Backward"
	g, err := kernels.CheckMaxPool2x2Backward(dx, dy, argmax)
	if err != nil {
		return err
	}
	n, c, h, w := g.N, g.C, g.H, g.W
	p, err := b.pointers(op, named{"dx", dx}, named{"dy", dy}, named{"argmax", argmax})
	if err != nil {
		return err
	}
	return b.run(op, func() error {
		return b.d.launch(maxPoolBackward, b.d.gridFor(dy.Numel()), dim3{256, 1, 1},
			ptrArg(p[0]), ptrArg(p[1]), ptrArg(p[2]), intArg(n*c), intArg(h), intArg(w))
	})
}
