package cpu

import (
	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/kernels/cpu/vec"
	"github.com/vgglab/vgg/tensor"
)

// elementwiseChunk is how many elements one worker handles at least; below it, handing work
// to the team costs more than the loop. Memory-bound passes split by image keep each worker
// on the images it computed in the ops before (see batchnorm.go), so they are split down to
// 32 KiB a worker: at 2^16 the small network's 8x8 and 4x4 layers ran on one worker.
const elementwiseChunk = 1 << 13

// workersFor returns how many workers an elementwise pass over n elements deserves.
func (be *Backend) workersFor(n int) int {
	return max(1, min(be.workers, n/elementwiseChunk))
}

// ReLU: y = max(x, 0). y may alias x.
func (be *Backend) ReLU(y, x *tensor.Tensor) error {
	const op = "ReLU"
	if err := kernels.CheckReLU(y, x); err != nil {
		return err
	}
	yd, err := hostF32(op, "y", y)
	if err != nil {
		return err
	}
	xd, err := hostF32(op, "x", x)
	if err != nil {
		return err
	}
	parallelFor(len(xd), be.workersFor(len(xd)), func(_, lo, hi int) {
		vec.ReLU(yd[lo:hi], xd[lo:hi])
	})
	return nil
}

// ReLUBackward: dx = dy where y > 0, else 0. dx may alias dy.
func (be *Backend) ReLUBackward(dx, dy, y *tensor.Tensor) error {
	const op = "ReLUBackward"
	if err := kernels.CheckReLUBackward(dx, dy, y); err != nil {
		return err
	}
	dxd, err := hostF32(op, "dx", dx)
	if err != nil {
		return err
	}
	dyd, err := hostF32(op, "dy", dy)
	if err != nil {
		return err
	}
	yd, err := hostF32(op, "y", y)
	if err != nil {
		return err
	}
	parallelFor(len(yd), be.workersFor(len(yd)), func(_, lo, hi int) {
		vec.ReLUMask(dxd[lo:hi], dyd[lo:hi], yd[lo:hi])
	})
	return nil
}
