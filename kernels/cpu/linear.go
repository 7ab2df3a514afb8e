package cpu

import (
	"gonum.org/v1/gonum/blas"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// Linear: y[N,Out] = x[N,In] · w[Out,In]ᵀ + b, one Sgemm with w transposed on the fly.
func (be *Backend) Linear(y, x, w, b *tensor.Tensor) error {
	const op = "Linear"
	g, err := kernels.CheckLinear(y, x, w, b)
	if err != nil {
		return err
	}
	n, in, out := g.N, g.In, g.Out
	yd, err := hostF32(op, "y", y)
	if err != nil {
		return err
	}
	xd, err := hostF32(op, "x", x)
	if err != nil {
		return err
	}
	wd, err := hostF32(op, "w", w)
	if err != nil {
		return err
	}
	bd, err := hostF32(op, "b", b)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		copy(yd[i*out:(i+1)*out], bd)
	}
	be.gemm(be.workers, blas.NoTrans, blas.Trans, n, out, in, 1, xd, in, wd, in, 1, yd, out)
	return nil
}

// LinearBackward: dx = dy·w (when dx is not nil), dw = dyᵀ·x, db = Σ_n dy (when db is not nil).
func (be *Backend) LinearBackward(dx, dw, db, dy, x, w *tensor.Tensor) error {
	const op = "LinearBackward"
	g, err := kernels.CheckLinearBackward(dx, dw, db, dy, x, w)
	if err != nil {
		return err
	}
	n, in, out := g.N, g.In, g.Out
	dyd, err := hostF32(op, "dy", dy)
	if err != nil {
		return err
	}
	xd, err := hostF32(op, "x", x)
	if err != nil {
		return err
	}
	wd, err := hostF32(op, "w", w)
	if err != nil {
		return err
	}
	dwd, err := hostF32(op, "dw", dw)
	if err != nil {
		return err
	}
	var dxd, dbd []float32
	if dx != nil {
		if dxd, err = hostF32(op, "dx", dx); err != nil {
			return err
		}
	}
	if db != nil {
		if dbd, err = hostF32(op, "db", db); err != nil {
			return err
		}
	}
	if dxd != nil {
		be.gemm(be.workers, blas.NoTrans, blas.NoTrans, n, in, out, 1, dyd, out, wd, in, 0, dxd, in)
	}
	be.gemm(be.workers, blas.Trans, blas.NoTrans, out, in, n, 1, dyd, out, xd, in, 0, dwd, in)
	if dbd != nil {
		for o := 0; o < out; o++ {
			var sum float64
			for i := 0; i < n; i++ {
				sum += float64(dyd[i*out+o])
			}
			dbd[o] = float32(sum)
		}
	}
	return nil
}
