//go:build cuda

package cuda

import (
	"fmt"

	"github.com/vgglab/vgg/tensor"
)

var (
	maxPoolForward  = kernel{"maxpool", "maxpool2x2_forward"}
	maxPoolBackward = kernel{"maxpool", "maxpool2x2_backward"}
)

// poolInput checks an NCHW input with even height and width.
func poolInput(op, name string, x *tensor.Tensor) error {
	if err := tensor.Check(op, name, x, -1, -1, -1, -1); err != nil {
		return err
	}
	if x.Dim(2)%2 != 0 || x.Dim(3)%2 != 0 {
		return fmt.Errorf("%s: %s is %v; 2x2 pooling needs even height and width", op, name, x.Shape())
	}
	return nil
}

func (b *Backend) MaxPool2x2(y, argmax, x *tensor.Tensor) error {
	const op = "MaxPool2x2"
	if err := poolInput(op, "x", x); err != nil {
		return err
	}
	n, c, h, w := x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
	if err := tensor.Check(op, "y", y, n, c, h/2, w/2); err != nil {
		return err
	}
	if err := tensor.Check(op, "argmax", argmax, n, c, h/2, w/2); err != nil {
		return err
	}
	if err := tensor.CheckDType(op, "argmax", argmax, tensor.Int32); err != nil {
		return err
	}
	p, err := b.pointers(op, named{"y", y}, named{"argmax", argmax}, named{"x", x})
	if err != nil {
		return err
	}
	return b.run(op, func() error {
		return b.d.launch(maxPoolForward, b.d.gridFor(y.Numel()), dim3{256, 1, 1},
			ptrArg(p[0]), ptrArg(p[1]), ptrArg(p[2]), intArg(n*c), intArg(h), intArg(w))
	})
}

func (b *Backend) MaxPool2x2Backward(dx, dy, argmax *tensor.Tensor) error {
	const op = "MaxPool2x2Backward"
	if err := poolInput(op, "dx", dx); err != nil {
		return err
	}
	n, c, h, w := dx.Dim(0), dx.Dim(1), dx.Dim(2), dx.Dim(3)
	if err := tensor.Check(op, "dy", dy, n, c, h/2, w/2); err != nil {
		return err
	}
	if err := tensor.Check(op, "argmax", argmax, n, c, h/2, w/2); err != nil {
		return err
	}
	if err := tensor.CheckDType(op, "argmax", argmax, tensor.Int32); err != nil {
		return err
	}
	p, err := b.pointers(op, named{"dx", dx}, named{"dy", dy}, named{"argmax", argmax})
	if err != nil {
		return err
	}
	return b.run(op, func() error {
		return b.d.launch(maxPoolBackward, b.d.gridFor(dy.Numel()), dim3{256, 1, 1},
			ptrArg(p[0]), ptrArg(p[1]), ptrArg(p[2]), intArg(n*c), intArg(h), intArg(w))
	})
}
