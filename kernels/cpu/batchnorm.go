package cpu

// Batch normalisation over NCHW tensors with per-channel statistics (PyTorch's BatchNorm2d).
//
// A channel c owns the N planes x[n, c, :, :] (n = N·H·W values in all); its statistics, its
// normalisation and its gradient touch nothing else, so the channels are split over the
// workers and each worker runs its channels start to finish. Sums are accumulated in float64
// in a fixed order (image by image, each plane in vec's eight lanes), so results do not
// depend on scheduling or on the SIMD level (kernels/cpu/vec's loops),
// and the variance is the two-pass Σ(x − mean)²: it does not lose the variance of a channel
// whose mean is large, as E[x²] − E[x]² in float32 would.
//
// Cost, per element: training forward reads x three times (mean, variance, normalise) and
// writes y once; evaluation reads x and writes y once; backward reads dy and x twice (sums,
// then dx) and writes dx once. All three are memory-bound, a few flops per element.

import (
	"math"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/kernels/cpu/vec"
	"github.com/vgglab/vgg/tensor"
)

// channelPlanes calls visit for each of channel c's N planes of hw elements, in image order.
func channelPlanes(n, c, channels, hw int, visit func(lo, hi int)) {
	for img := 0; img < n; img++ {
		lo := (img*channels + c) * hw
		visit(lo, lo+hw)
	}
}

// BatchNormTrain normalises with the batch's statistics and updates the running ones.
func (be *Backend) BatchNormTrain(y, saveMean, saveInvStd, runMean, runVar, x, gamma, beta *tensor.Tensor, momentum, eps float32) error {
	const op = "BatchNormTrain"
	if _, err := kernels.CheckBatchNormTrain(y, saveMean, saveInvStd, runMean, runVar, x, gamma, beta, momentum, eps); err != nil {
		return err
	}
	d, err := hostAll(op, named{"y", y}, named{"saveMean", saveMean}, named{"saveInvStd", saveInvStd},
		named{"runMean", runMean}, named{"runVar", runVar}, named{"x", x}, named{"gamma", gamma}, named{"beta", beta})
	if err != nil {
		return err
	}
	yd, sm, si, rm, rv, xd, g, bt := d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]
	n, channels, hw := x.Dim(0), x.Dim(1), x.Dim(2)*x.Dim(3)
	count := float64(n * hw)
	mom := float64(momentum)
	parallelFor(channels, be.workersFor(len(xd)), func(_, lo, hi int) {
		for c := lo; c < hi; c++ {
			var sum float64
			channelPlanes(n, c, channels, hw, func(lo, hi int) { sum += vec.Sum(xd[lo:hi]) })
			mean := sum / count
			var sq float64
			channelPlanes(n, c, channels, hw, func(lo, hi int) { sq += vec.SumSqDev(xd[lo:hi], mean) })
			variance := sq / count
			invstd := 1 / math.Sqrt(variance+float64(eps))
			normalise(yd, xd, n, c, channels, hw, mean, invstd, float64(g[c]), float64(bt[c]))
			sm[c], si[c] = float32(mean), float32(invstd)
			rm[c] = float32((1-mom)*float64(rm[c]) + mom*mean)
			rv[c] = float32((1-mom)*float64(rv[c]) + mom*sq/(count-1))
		}
	})
	return nil
}

// BatchNormEval normalises with the running statistics.
func (be *Backend) BatchNormEval(y, x, gamma, beta, runMean, runVar *tensor.Tensor, eps float32) error {
	const op = "BatchNormEval"
	if _, err := kernels.CheckBatchNormEval(y, x, gamma, beta, runMean, runVar, eps); err != nil {
		return err
	}
	d, err := hostAll(op, named{"y", y}, named{"x", x}, named{"gamma", gamma}, named{"beta", beta},
		named{"runMean", runMean}, named{"runVar", runVar})
	if err != nil {
		return err
	}
	yd, xd, g, bt, rm, rv := d[0], d[1], d[2], d[3], d[4], d[5]
	n, channels, hw := x.Dim(0), x.Dim(1), x.Dim(2)*x.Dim(3)
	parallelFor(channels, be.workersFor(len(xd)), func(_, lo, hi int) {
		for c := lo; c < hi; c++ {
			invstd := 1 / math.Sqrt(float64(rv[c])+float64(eps))
			normalise(yd, xd, n, c, channels, hw, float64(rm[c]), invstd, float64(g[c]), float64(bt[c]))
		}
	})
	return nil
}

// normalise writes channel c of y = gamma·(x − mean)·invstd + beta. Each element is computed
// in float64 from its own x, so y may alias x, and a large mean costs no precision.
func normalise(yd, xd []float32, n, c, channels, hw int, mean, invstd, gamma, beta float64) {
	scale := gamma * invstd
	channelPlanes(n, c, channels, hw, func(lo, hi int) { vec.Normalise(yd[lo:hi], xd[lo:hi], mean, scale, beta) })
}

// BatchNormBackward: dgamma, dbeta and dx of the training-mode normalisation.
func (be *Backend) BatchNormBackward(dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd *tensor.Tensor) error {
	const op = "BatchNormBackward"
	if _, err := kernels.CheckBatchNormBackward(dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd); err != nil {
		return err
	}
	d, err := hostAll(op, named{"dx", dx}, named{"dgamma", dgamma}, named{"dbeta", dbeta}, named{"dy", dy},
		named{"x", x}, named{"gamma", gamma}, named{"saveMean", saveMean}, named{"saveInvStd", saveInvStd})
	if err != nil {
		return err
	}
	dxd, dg, db, dyd, xd, g, sm, si := d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]
	n, channels, hw := x.Dim(0), x.Dim(1), x.Dim(2)*x.Dim(3)
	count := float64(n * hw)
	parallelFor(channels, be.workersFor(len(xd)), func(_, lo, hi int) {
		for c := lo; c < hi; c++ {
			mean, invstd := float64(sm[c]), float64(si[c])
			var sumDy, sumDyDev float64
			channelPlanes(n, c, channels, hw, func(lo, hi int) {
				dy, dyDev := vec.SumDyDev(dyd[lo:hi], xd[lo:hi], mean)
				sumDy, sumDyDev = sumDy+dy, sumDyDev+dyDev
			})
			sumDyXhat := sumDyDev * invstd
			dg[c], db[c] = float32(sumDyXhat), float32(sumDy)
			// dx = gamma·invstd·(dy − mean(dy) − xhat·mean(dy·xhat)); each element reads only
			// its own dy, so dx may alias dy.
			scale := float64(g[c]) * invstd
			meanDy, meanDyXhat := sumDy/count, sumDyXhat/count
			channelPlanes(n, c, channels, hw, func(lo, hi int) {
				vec.NormaliseGrad(dxd[lo:hi], dyd[lo:hi], xd[lo:hi], mean, invstd, scale, meanDy, meanDyXhat)
			})
		}
	})
	return nil
}

// named is an op's float32 argument with its name, for hostAll.
type named struct {
	name string
	t    *tensor.Tensor
}

// hostAll is hostF32 for each argument in turn, stopping at the first error.
func hostAll(op string, args ...named) ([][]float32, error) {
	out := make([][]float32, len(args))
	for i, a := range args {
		var err error
		if out[i], err = hostF32(op, a.name, a.t); err != nil {
			return nil, err
		}
	}
	return out, nil
}
