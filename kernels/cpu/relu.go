package cpu

import "github.com/vgglab/vgg/tensor"

// elementwiseChunk is how many elements one goroutine handles at least; below it, starting
// goroutines costs more than the loop.
const elementwiseChunk = 1 << 16

// workersFor returns how many workers an elementwise pass over n elements deserves.
func (be *Backend) workersFor(n int) int {
	return max(1, min(be.workers, n/elementwiseChunk))
}

// ReLU: y = max(x, 0). y may alias x.
func (be *Backend) ReLU(y, x *tensor.Tensor) error {
	const op = "ReLU"
	if x == nil {
		return tensor.Check(op, "x", x)
	}
	if err := tensor.Check(op, "y", y, x.Shape()...); err != nil {
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
		for i, v := range xd[lo:hi] {
			yd[lo+i] = max(v, 0)
		}
	})
	return nil
}

// ReLUBackward: dx = dy where y > 0, else 0. dx may alias dy.
func (be *Backend) ReLUBackward(dx, dy, y *tensor.Tensor) error {
	const op = "ReLUBackward"
	if y == nil {
		return tensor.Check(op, "y", y)
	}
	if err := tensor.Check(op, "dx", dx, y.Shape()...); err != nil {
		return err
	}
	if err := tensor.Check(op, "dy", dy, y.Shape()...); err != nil {
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
		for i := lo; i < hi; i++ {
			if yd[i] > 0 {
				dxd[i] = dyd[i]
			} else {
				dxd[i] = 0
			}
		}
	})
	return nil
}
