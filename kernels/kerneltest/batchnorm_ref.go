package kerneltest

import "math"

// BatchNormShape is the geometry of a batch normalisation: x is [N,C,H,W], statistics per
// channel over N·H·W values.
type BatchNormShape struct{ N, C, H, W int }

// XShape is the shape of x, y, dy and dx.
func (s BatchNormShape) XShape() []int { return []int{s.N, s.C, s.H, s.W} }

// count is the number of values each channel's statistics are taken over.
func (s BatchNormShape) count() int { return s.N * s.H * s.W }

// channelIndices lists the flat indices of channel c's values, image by image.
func (s BatchNormShape) channelIndices(c int) []int {
	idx := make([]int, 0, s.count())
	for n := 0; n < s.N; n++ {
		for i := 0; i < s.H*s.W; i++ {
			idx = append(idx, (n*s.C+c)*s.H*s.W+i)
		}
	}
	return idx
}

// BatchNormTrainResult is what RefBatchNormTrain computes: the output, the saved statistics and
// the updated running statistics.
type BatchNormTrainResult struct {
	Y, Mean, InvStd, RunMean, RunVar []float64
}

// RefBatchNormTrain is BatchNorm2d in training mode, from the definition: per channel the
// mean and the biased variance of its N·H·W values, y = gamma·(x − mean)/sqrt(var + eps) +
// beta, and running statistics moved towards the batch's by momentum, the variance's with
// Bessel's n/(n−1) correction.
func RefBatchNormTrain(x, gamma, beta, runMean, runVar []float64, s BatchNormShape, momentum, eps float64) BatchNormTrainResult {
	r := BatchNormTrainResult{
		Y: make([]float64, len(x)), Mean: make([]float64, s.C), InvStd: make([]float64, s.C),
		RunMean: make([]float64, s.C), RunVar: make([]float64, s.C),
	}
	n := float64(s.count())
	for c := 0; c < s.C; c++ {
		idx := s.channelIndices(c)
		var sum, sq float64
		for _, i := range idx {
			sum += x[i]
		}
		mean := sum / n
		for _, i := range idx {
			sq += (x[i] - mean) * (x[i] - mean)
		}
		variance := sq / n
		invstd := 1 / math.Sqrt(variance+eps)
		for _, i := range idx {
			r.Y[i] = gamma[c]*(x[i]-mean)*invstd + beta[c]
		}
		r.Mean[c], r.InvStd[c] = mean, invstd
		r.RunMean[c] = (1-momentum)*runMean[c] + momentum*mean
		r.RunVar[c] = (1-momentum)*runVar[c] + momentum*sq/(n-1)
	}
	return r
}

// RefBatchNormEval is BatchNorm2d in evaluation mode: the running statistics stand in for the
// batch's.
func RefBatchNormEval(x, gamma, beta, runMean, runVar []float64, s BatchNormShape, eps float64) []float64 {
	y := make([]float64, len(x))
	for c := 0; c < s.C; c++ {
		for _, i := range s.channelIndices(c) {
			y[i] = gamma[c]*(x[i]-runMean[c])/math.Sqrt(runVar[c]+eps) + beta[c]
		}
	}
	return y
}

// RefBatchNormBackward is the gradient of Σ dy·y through the training-mode normalisation, with
// the batch statistics' own dependence on x: xhat = (x − mean)·invstd, dgamma = Σ dy·xhat,
// dbeta = Σ dy, dx = gamma·invstd/n·(n·dy − Σ dy − xhat·Σ dy·xhat).
func RefBatchNormBackward(dy, x, gamma, mean, invstd []float64, s BatchNormShape) (dx, dgamma, dbeta []float64) {
	dx, dgamma, dbeta = make([]float64, len(x)), make([]float64, s.C), make([]float64, s.C)
	n := float64(s.count())
	for c := 0; c < s.C; c++ {
		idx := s.channelIndices(c)
		for _, i := range idx {
			dbeta[c] += dy[i]
			dgamma[c] += dy[i] * (x[i] - mean[c]) * invstd[c]
		}
		for _, i := range idx {
			xhat := (x[i] - mean[c]) * invstd[c]
			dx[i] = gamma[c] * invstd[c] / n * (n*dy[i] - dbeta[c] - xhat*dgamma[c])
		}
	}
	return dx, dgamma, dbeta
}
