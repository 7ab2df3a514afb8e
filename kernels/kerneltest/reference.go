// Package kerneltest is the shared test suite of every kernels.Backend: naive float64
// reference implementations of each op (plain loops, written to be read), checked against
// finite differences in this package's own tests, and Conformance, which runs a backend's ops
// on random inputs and compares them with the references. Backends' tests call Conformance;
// the helpers it uses (random tensors, upload, poisoning, relative error) are exported so
// that backend-specific tests reuse them instead of writing their own.
package kerneltest

import (
	"math"

	"github.com/vgglab/vgg/kernels"
)

// The references work on float64 slices in the same row-major layouts as the backends
// (NCHW images, [K,C,R,S] filters, [Out,In] linear weights), so their only rounding error is
// float64's, far below the float32 error of the ops under test.

// ConvShape is the geometry of one convolution: input [N,C,H,W], K filters of the window in
// Params.
type ConvShape struct {
	N, C, H, W, K int
	Params        kernels.ConvParams
}

// Out returns the output height and width.
func (s ConvShape) Out() (p, q int) { return s.Params.OutSize(s.H, s.W) }

// XShape, WShape and YShape are the shapes of the input, filters and output.
func (s ConvShape) XShape() []int { return []int{s.N, s.C, s.H, s.W} }
func (s ConvShape) WShape() []int { return []int{s.K, s.C, s.Params.KernelH, s.Params.KernelW} }
func (s ConvShape) YShape() []int {
	p, q := s.Out()
	return []int{s.N, s.K, p, q}
}

// Flops is the multiply-adds of the forward pass counted as two operations each; backward
// data and backward filter cost the same.
func (s ConvShape) Flops() float64 {
	p, q := s.Out()
	return 2 * float64(s.N*s.K*s.C*s.Params.KernelH*s.Params.KernelW*p*q)
}

// convTaps calls visit for every (input index, filter index, output index) triple that the
// convolution multiplies together: the one loop nest that defines the op, shared by the
// forward and both backward references so that they cannot disagree about geometry.
func convTaps(s ConvShape, visit func(xi, wi, yi int)) {
	pp := s.Params
	P, Q := s.Out()
	for n := 0; n < s.N; n++ {
		for k := 0; k < s.K; k++ {
			for p := 0; p < P; p++ {
				for q := 0; q < Q; q++ {
					yi := ((n*s.K+k)*P+p)*Q + q
					for c := 0; c < s.C; c++ {
						for r := 0; r < pp.KernelH; r++ {
							for t := 0; t < pp.KernelW; t++ {
								h := p*pp.StrideH - pp.PadH + r
								w := q*pp.StrideW - pp.PadW + t
								if h < 0 || h >= s.H || w < 0 || w >= s.W {
									continue // zero padding contributes nothing
								}
								xi := ((n*s.C+c)*s.H+h)*s.W + w
								wi := ((k*s.C+c)*pp.KernelH+r)*pp.KernelW + t
								visit(xi, wi, yi)
							}
						}
					}
				}
			}
		}
	}
}

// RefConv2D: y[n,k,p,q] = b[k] + Σ_{c,r,s} x[n,c,p*strideH-padH+r,q*strideW-padW+s] * w[k,c,r,s].
func RefConv2D(x, w, b []float64, s ConvShape) []float64 {
	P, Q := s.Out()
	y := make([]float64, s.N*s.K*P*Q)
	for i := range y {
		k := i / (P * Q) % s.K
		y[i] = b[k]
	}
	convTaps(s, func(xi, wi, yi int) { y[yi] += x[xi] * w[wi] })
	return y
}

// RefConv2DBackwardData: dx = ∂(Σ dy·y)/∂x, each tap's dy*w added back onto the input pixel.
func RefConv2DBackwardData(dy, w []float64, s ConvShape) []float64 {
	dx := make([]float64, s.N*s.C*s.H*s.W)
	convTaps(s, func(xi, wi, yi int) { dx[xi] += dy[yi] * w[wi] })
	return dx
}

// RefConv2DBackwardFilter: dw = ∂(Σ dy·y)/∂w and db[k] = Σ_{n,p,q} dy[n,k,p,q].
func RefConv2DBackwardFilter(x, dy []float64, s ConvShape) (dw, db []float64) {
	dw = make([]float64, s.K*s.C*s.Params.KernelH*s.Params.KernelW)
	db = make([]float64, s.K)
	convTaps(s, func(xi, wi, yi int) { dw[wi] += dy[yi] * x[xi] })
	P, Q := s.Out()
	for i, g := range dy {
		db[i/(P*Q)%s.K] += g
	}
	return dw, db
}

// RefReLU: y = max(x, 0).
func RefReLU(x []float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = math.Max(v, 0)
	}
	return y
}

// RefReLUBackward: dx = dy where y > 0, else 0.
func RefReLUBackward(dy, y []float64) []float64 {
	dx := make([]float64, len(dy))
	for i := range dy {
		if y[i] > 0 {
			dx[i] = dy[i]
		}
	}
	return dx
}

// RefMaxPool2x2: the max of each 2x2 window of x [N,C,H,W] and its offset h*W+w in the input
// plane; windows are scanned in row-major order and only a strictly larger value wins, so
// ties go to the first.
func RefMaxPool2x2(x []float64, n, c, h, w int) (y []float64, argmax []int32) {
	ph, pw := h/2, w/2
	y = make([]float64, n*c*ph*pw)
	argmax = make([]int32, len(y))
	for plane := 0; plane < n*c; plane++ {
		for i := 0; i < ph; i++ {
			for j := 0; j < pw; j++ {
				out := (plane*ph+i)*pw + j
				best, at := math.Inf(-1), -1
				for dh := 0; dh < 2; dh++ {
					for dw := 0; dw < 2; dw++ {
						off := (2*i+dh)*w + 2*j + dw
						if v := x[plane*h*w+off]; v > best {
							best, at = v, off
						}
					}
				}
				y[out], argmax[out] = best, int32(at)
			}
		}
	}
	return y, argmax
}

// RefMaxPool2x2Backward: dx [N,C,H,W] is dy sent to each window's argmax, zero elsewhere.
func RefMaxPool2x2Backward(dy []float64, argmax []int32, n, c, h, w int) []float64 {
	dx := make([]float64, n*c*h*w)
	ph, pw := h/2, w/2
	for i, g := range dy {
		plane := i / (ph * pw)
		dx[plane*h*w+int(argmax[i])] += g
	}
	return dx
}

// RefDropout: y_i = x_i/(1-p) where kernels.DropoutKeep(seed, i, p), else 0. The backward pass
// is the same function applied to dy.
func RefDropout(x []float64, p float32, seed uint64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		if kernels.DropoutKeep(seed, uint64(i), p) {
			y[i] = v / (1 - float64(p))
		}
	}
	return y
}

// RefLinear: y[n,o] = b[o] + Σ_i x[n,i]*w[o,i].
func RefLinear(x, w, b []float64, n, in, out int) []float64 {
	y := make([]float64, n*out)
	for s := 0; s < n; s++ {
		for o := 0; o < out; o++ {
			sum := b[o]
			for i := 0; i < in; i++ {
				sum += x[s*in+i] * w[o*in+i]
			}
			y[s*out+o] = sum
		}
	}
	return y
}

// RefLinearBackward: dx = dy·w, dw = dyᵀ·x, db = Σ_n dy.
func RefLinearBackward(dy, x, w []float64, n, in, out int) (dx, dw, db []float64) {
	dx = make([]float64, n*in)
	dw = make([]float64, out*in)
	db = make([]float64, out)
	for s := 0; s < n; s++ {
		for o := 0; o < out; o++ {
			g := dy[s*out+o]
			db[o] += g
			for i := 0; i < in; i++ {
				dx[s*in+i] += g * w[o*in+i]
				dw[o*in+i] += g * x[s*in+i]
			}
		}
	}
	return dx, dw, db
}

// RefSoftmaxCrossEntropy: probs = softmax of each row of logits [N,C] and
// loss[n] = -log probs[n,label_n], through log-sum-exp: with m the row max,
// log Σ_c exp(z_c) = m + log Σ_c exp(z_c - m), in which no exponent is positive.
func RefSoftmaxCrossEntropy(logits []float64, labels []int32, n, classes int) (probs, loss []float64) {
	probs = make([]float64, n*classes)
	loss = make([]float64, n)
	for s := 0; s < n; s++ {
		row := logits[s*classes : (s+1)*classes]
		m := math.Inf(-1)
		for _, z := range row {
			m = math.Max(m, z)
		}
		sum := 0.0
		for _, z := range row {
			sum += math.Exp(z - m)
		}
		logSum := m + math.Log(sum)
		for c, z := range row {
			probs[s*classes+c] = math.Exp(z - logSum)
		}
		loss[s] = logSum - row[labels[s]]
	}
	return probs, loss
}

// RefSoftmaxCrossEntropyBackward: dlogits = (probs - onehot(labels)) / N, the gradient of the
// mean loss over the batch.
func RefSoftmaxCrossEntropyBackward(probs []float64, labels []int32, n, classes int) []float64 {
	d := make([]float64, n*classes)
	for s := 0; s < n; s++ {
		for c := 0; c < classes; c++ {
			g := probs[s*classes+c]
			if c == int(labels[s]) {
				g--
			}
			d[s*classes+c] = g / float64(n)
		}
	}
	return d
}

// RefAccumulateStats returns stats + [Σ loss, #(first argmax of probs == label), N].
func RefAccumulateStats(stats, loss, probs []float64, labels []int32, classes int) []float64 {
	out := append([]float64(nil), stats...)
	for s := range loss {
		out[0] += loss[s]
		best := 0
		for c := 1; c < classes; c++ {
			if probs[s*classes+c] > probs[s*classes+best] {
				best = c
			}
		}
		if best == int(labels[s]) {
			out[1]++
		}
		out[2]++
	}
	return out
}

// RefSGD is one torch.optim.SGD step, in place on param and velocity:
// g = grad + wd*param; v = momentum*v + g; param -= lr*v (Nesterov: lr*(g + momentum*v)).
func RefSGD(param, grad, velocity []float64, cfg kernels.SGDConfig) {
	lr, mom, wd := float64(cfg.LR), float64(cfg.Momentum), float64(cfg.WeightDecay)
	for i := range param {
		g := grad[i] + wd*param[i]
		velocity[i] = mom*velocity[i] + g
		if cfg.Nesterov {
			param[i] -= lr * (g + mom*velocity[i])
		} else {
			param[i] -= lr * velocity[i]
		}
	}
}

// RefAdam is one torch.optim.Adam (AdamW when cfg.Decoupled) step number step (from 1), in
// place on param, m and v.
func RefAdam(param, grad, m, v []float64, cfg kernels.AdamConfig, step int) {
	lr, b1, b2 := float64(cfg.LR), float64(cfg.Beta1), float64(cfg.Beta2)
	eps, wd := float64(cfg.Eps), float64(cfg.WeightDecay)
	for i := range param {
		g := grad[i]
		if cfg.Decoupled {
			param[i] -= lr * wd * param[i]
		} else {
			g += wd * param[i]
		}
		m[i] = b1*m[i] + (1-b1)*g
		v[i] = b2*v[i] + (1-b2)*g*g
		mHat := m[i] / (1 - math.Pow(b1, float64(step)))
		vHat := v[i] / (1 - math.Pow(b2, float64(step)))
		param[i] -= lr * mHat / (math.Sqrt(vHat) + eps)
	}
}
