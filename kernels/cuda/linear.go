//go:build cuda

package cuda

import (
	"gorgonia.org/cu"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

var (
	linearForward        = kernel{"linear", "linear_forward"}
	linearBackwardData   = kernel{"linear", "linear_backward_data"}
	linearBackwardWeight = kernel{"linear", "linear_backward_weight"}
	linearBiasGrad       = kernel{"linear", "linear_bias_grad"}
)

// gemm launches one of linear.cu's products into dst (an m x n output summing sum terms);
// args are the kernel's parameters but the last, the split length. The summed axis is split
// when the output has few tiles, and a split output is zeroed first because its partial sums
// are added atomically. Owner goroutine only.
func (b *Backend) gemm(k kernel, dst cu.DevicePtr, m, n, sum int, args ...uint64) error {
	tilesN, tilesM := ceilDiv(n, gemmTile), ceilDiv(m, gemmTile)
	splits, chunk := b.splitK(tilesN*tilesM, sum)
	if splits > 1 {
		if err := b.d.memset32(dst, 0, m*n); err != nil {
			return err
		}
	}
	args = append(args, intArg(chunk))
	return b.d.launch(k, dim3{tilesN, tilesM, splits}, dim3{gemmThreads, 1, 1}, args...)
}

func (b *Backend) Linear(y, x, w, bias *tensor.Tensor) error {
	const op = "Linear"
	g, err := kernels.CheckLinear(y, x, w, bias)
	if err != nil {
		return err
	}
	n, in, out := g.N, g.In, g.Out
	p, err := b.pointers(op, named{"y", y}, named{"x", x}, named{"w", w}, named{"b", bias})
	if err != nil {
		return err
	}
	return b.run(op, func() error {
		return b.gemm(linearForward, p[0], n, out, in,
			ptrArg(p[0]), ptrArg(p[1]), ptrArg(p[2]), ptrArg(p[3]), intArg(n), intArg(in), intArg(out))
	})
}

func (b *Backend) LinearBackward(dx, dw, db, dy, x, w *tensor.Tensor) error {
	const op = "LinearBackward"
	g, err := kernels.CheckLinearBackward(dx, dw, db, dy, x, w)
	if err != nil {
		return err
	}
	n, in, out := g.N, g.In, g.Out
	p, err := b.pointers(op, named{"dw", dw}, named{"dy", dy}, named{"x", x}, named{"w", w})
	if err != nil {
		return err
	}
	pdx, err := b.optionalPtr(op, "dx", dx)
	if err != nil {
		return err
	}
	pdb, err := b.optionalPtr(op, "db", db)
	if err != nil {
		return err
	}
	return b.run(op, func() error {
		if dx != nil {
			err := b.gemm(linearBackwardData, pdx, n, in, out,
				ptrArg(pdx), ptrArg(p[1]), ptrArg(p[3]), intArg(n), intArg(in), intArg(out))
			if err != nil {
				return err
			}
		}
		err := b.gemm(linearBackwardWeight, p[0], out, in, n,
			ptrArg(p[0]), ptrArg(p[1]), ptrArg(p[2]), intArg(n), intArg(in), intArg(out))
		if err != nil || db == nil {
			return err
		}
		return b.d.launch(linearBiasGrad, b.d.gridFor(out), dim3{256, 1, 1},
			ptrArg(pdb), ptrArg(p[1]), intArg(n), intArg(out))
	})
}
