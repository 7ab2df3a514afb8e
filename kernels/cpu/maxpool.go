package cpu

import (
	"fmt"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/kernels/cpu/vec"
	"github.com/vgglab/vgg/tensor"
)

// MaxPool2x2: the max of each 2x2 window, and where it came from (offset h*W+w in the
// input plane). Windows are scanned in row-major order with a strict >, so ties go to the
// first (vec.MaxPoolRows, a row of windows at a time). Planes (n, c) are split over workers.
func (be *Backend) MaxPool2x2(y, argmax, x *tensor.Tensor) error {
	const op = "MaxPool2x2"
	g, err := kernels.CheckMaxPool2x2(y, argmax, x)
	if err != nil {
		return err
	}
	n, c, h, w := g.N, g.C, g.H, g.W
	ph, pw := h/2, w/2
	yd, err := hostF32(op, "y", y)
	if err != nil {
		return err
	}
	ad, err := hostI32(op, "argmax", argmax)
	if err != nil {
		return err
	}
	xd, err := hostF32(op, "x", x)
	if err != nil {
		return err
	}
	planes := n * c
	parallelFor(planes, be.workersFor(len(xd)), func(_, lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			in := xd[pl*h*w : (pl+1)*h*w]
			out := yd[pl*ph*pw : (pl+1)*ph*pw]
			arg := ad[pl*ph*pw : (pl+1)*ph*pw]
			for i := 0; i < ph; i++ {
				vec.MaxPoolRows(out[i*pw:(i+1)*pw], arg[i*pw:(i+1)*pw], in[2*i*w:], in[(2*i+1)*w:], 2*i*w, w)
			}
		}
	})
	return nil
}

// MaxPool2x2Backward: dx is dy routed to each window's argmax, zero elsewhere. An argmax
// outside its window (a corrupt tensor) is an error, not a stray write.
func (be *Backend) MaxPool2x2Backward(dx, dy, argmax *tensor.Tensor) error {
	const op = "MaxPool2x2Backward"
	g, err := kernels.CheckMaxPool2x2Backward(dx, dy, argmax)
	if err != nil {
		return err
	}
	n, c, h, w := g.N, g.C, g.H, g.W
	ph, pw := h/2, w/2
	dxd, err := hostF32(op, "dx", dx)
	if err != nil {
		return err
	}
	dyd, err := hostF32(op, "dy", dy)
	if err != nil {
		return err
	}
	ad, err := hostI32(op, "argmax", argmax)
	if err != nil {
		return err
	}
	planes := n * c
	bad := make([]bool, be.workers)
	parallelFor(planes, be.workersFor(len(dxd)), func(worker, lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			in := dxd[pl*h*w : (pl+1)*h*w]
			grad := dyd[pl*ph*pw : (pl+1)*ph*pw]
			arg := ad[pl*ph*pw : (pl+1)*ph*pw]
			clear(in)
			for i := 0; i < ph; i++ {
				for j := 0; j < pw; j++ {
					at := int(arg[i*pw+j])
					if at < 0 || at/w>>1 != i || at%w>>1 != j {
						bad[worker] = true
						continue
					}
					in[at] = grad[i*pw+j]
				}
			}
		}
	})
	for _, b := range bad {
		if b {
			return fmt.Errorf("%s: argmax holds an offset outside its 2x2 window (not made by MaxPool2x2 on this shape?)", op)
		}
	}
	return nil
}
