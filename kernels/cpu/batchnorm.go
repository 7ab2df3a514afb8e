package cpu

// Batch normalisation over NCHW tensors with per-channel statistics (PyTorch's BatchNorm2d).
//
// A channel c owns the N planes x[n, c, :, :] (n = N·H·W values in all). Sums are accumulated
// in float64 in a fixed order (each plane in vec's eight lanes, then the planes image by
// image), so results do not depend on scheduling or on the SIMD level (kernels/cpu/vec's
// loops),
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

// The work is split over the workers by planes in image order (plane i = n·C + c), the
// order in which they lie, so that each worker touches the images that the convolutions
// before and after it gave the same worker: a split by channel handed half of every
// activation to the other core, and on a machine whose cores share no cache, memory-bound
// passes lose more to that than they gain. Each pass writes one partial sum per plane
// (planeSums); the sums of a channel are then added in image order, as a single worker would.

// planeSums is the backend's float64 memory for partial sums, kept across calls (under
// Backend.mu): one value per plane (parts, parts2) and per channel (mean, invstd).
type planeSums struct{ parts, parts2, mean, invstd []float64 }

// sums returns the scratch sized for planes planes of channels channels.
func (be *Backend) sums(planes, channels int) *planeSums {
	s := &be.planeSums
	s.parts, s.parts2 = grow(s.parts, planes), grow(s.parts2, planes)
	s.mean, s.invstd = grow(s.mean, channels), grow(s.invstd, channels)
	return s
}

// channelTotal adds channel c's partial sums, one per plane, in image order.
func channelTotal(parts []float64, n, c, channels int) float64 {
	var sum float64
	for img := 0; img < n; img++ {
		sum += parts[img*channels+c]
	}
	return sum
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
	be.mu.Lock()
	defer be.mu.Unlock()
	planes, workers := n*channels, be.workersFor(len(xd))
	s := be.sums(planes, channels)
	count := float64(n * hw)
	mom := float64(momentum)
	parallelFor(planes, workers, func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			s.parts[p] = vec.Sum(xd[p*hw : (p+1)*hw])
		}
	})
	for c := range channels {
		s.mean[c] = channelTotal(s.parts, n, c, channels) / count
	}
	parallelFor(planes, workers, func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			s.parts[p] = vec.SumSqDev(xd[p*hw:(p+1)*hw], s.mean[p%channels])
		}
	})
	for c := range channels {
		mean, sq := s.mean[c], channelTotal(s.parts, n, c, channels)
		s.invstd[c] = 1 / math.Sqrt(sq/count+float64(eps))
		sm[c], si[c] = float32(mean), float32(s.invstd[c])
		rm[c] = float32((1-mom)*float64(rm[c]) + mom*mean)
		rv[c] = float32((1-mom)*float64(rv[c]) + mom*sq/(count-1))
	}
	be.normalise(yd, xd, n, channels, hw, s.mean, s.invstd, g, bt)
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
	be.mu.Lock()
	defer be.mu.Unlock()
	s := be.sums(n*channels, channels)
	for c := range channels {
		s.mean[c] = float64(rm[c])
		s.invstd[c] = 1 / math.Sqrt(float64(rv[c])+float64(eps))
	}
	be.normalise(yd, xd, n, channels, hw, s.mean, s.invstd, g, bt)
	return nil
}

// normalise writes y = gamma·(x − mean)·invstd + beta, channel by channel. Each element is
// computed in float64 from its own x, so y may alias x, and a large mean costs no precision.
func (be *Backend) normalise(yd, xd []float32, n, channels, hw int, mean, invstd []float64, gamma, beta []float32) {
	parallelFor(n*channels, be.workersFor(len(xd)), func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			c := p % channels
			vec.Normalise(yd[p*hw:(p+1)*hw], xd[p*hw:(p+1)*hw], mean[c], float64(gamma[c])*invstd[c], float64(beta[c]))
		}
	})
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
	be.mu.Lock()
	defer be.mu.Unlock()
	planes, workers := n*channels, be.workersFor(len(xd))
	s := be.sums(planes, channels)
	count := float64(n * hw)
	parallelFor(planes, workers, func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			s.parts[p], s.parts2[p] = vec.SumDyDev(dyd[p*hw:(p+1)*hw], xd[p*hw:(p+1)*hw], float64(sm[p%channels]))
		}
	})
	// Per channel, mean holds mean(dy) and invstd mean(dy·xhat) for the second pass.
	for c := range channels {
		sumDy := channelTotal(s.parts, n, c, channels)
		sumDyXhat := channelTotal(s.parts2, n, c, channels) * float64(si[c])
		dg[c], db[c] = float32(sumDyXhat), float32(sumDy)
		s.mean[c], s.invstd[c] = sumDy/count, sumDyXhat/count
	}
	// dx = gamma·invstd·(dy − mean(dy) − xhat·mean(dy·xhat)); each element reads only its own
	// dy, so dx may alias dy.
	parallelFor(planes, workers, func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			c := p % channels
			mean, invstd := float64(sm[c]), float64(si[c])
			vec.NormaliseGrad(dxd[p*hw:(p+1)*hw], dyd[p*hw:(p+1)*hw], xd[p*hw:(p+1)*hw], mean, invstd,
				float64(g[c])*invstd, s.mean[c], s.invstd[c])
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
