package cpu

import (
	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// Dropout: y_i = x_i/(1-p) when kernels.DropoutKeep(seed, i, p), else 0. y may alias x.
func (be *Backend) Dropout(y, x *tensor.Tensor, p float32, seed uint64) error {
	if err := kernels.CheckDropout(y, x, p); err != nil {
		return err
	}
	return be.dropout("Dropout", "y", "x", y, x, p, seed)
}

// DropoutBackward applies the same mask and scale to the gradient. dx may alias dy.
func (be *Backend) DropoutBackward(dx, dy *tensor.Tensor, p float32, seed uint64) error {
	if err := kernels.CheckDropoutBackward(dx, dy, p); err != nil {
		return err
	}
	return be.dropout("DropoutBackward", "dx", "dy", dx, dy, p, seed)
}

// dropout is shared by both directions, once the op's rule has passed: the backward pass is the forward mask applied to dy,
// recomputed from (seed, i) rather than stored.
func (be *Backend) dropout(op, outName, inName string, out, in *tensor.Tensor, p float32, seed uint64) error {
	od, err := hostF32(op, outName, out)
	if err != nil {
		return err
	}
	id, err := hostF32(op, inName, in)
	if err != nil {
		return err
	}
	scale := 1 / (1 - p)
	key := [2]uint32{uint32(seed), uint32(seed >> 32)}
	// Philox costs ten rounds of two 64-bit multiplies per block of four elements (it makes
	// four numbers at once, kernels.UniformBits' block), so even modest tensors are worth
	// splitting.
	parallelFor(len(id), max(1, min(be.workers, len(id)/4096)), func(_, lo, hi int) {
		var bits [4]uint32
		for i := lo; i < hi; i++ {
			if i == lo || i&3 == 0 {
				block := uint64(i) >> 2
				bits = kernels.Philox4x32([4]uint32{uint32(block), uint32(block >> 32), 0, 0}, key)
			}
			if kernels.UniformFromBits(bits[i&3]) >= p {
				od[i] = id[i] * scale
			} else {
				od[i] = 0
			}
		}
	})
	return nil
}
