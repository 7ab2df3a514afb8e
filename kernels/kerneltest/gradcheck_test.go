package kerneltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// Every reference backward pass is checked here against central finite differences of its
// forward pass, all in float64. For an upstream gradient g, the scalar L = Σ g·forward(...)
// has ∂L/∂input equal to what the backward reference returns for dy = g.

// fdStep is the finite-difference step: the ops are linear or smooth, so the truncation error
// (~step²) and the cancellation error (~1e-16/step) both stay below 1e-9.
const fdStep = 1e-5

// gradTol bounds max|analytic − numeric| relative to the largest gradient.
const gradTol = 1e-7

func randoms(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// numericGrad returns (f(v+h·e_i) − f(v−h·e_i)) / 2h for every i, perturbing v in place.
func numericGrad(f func() float64, v []float64) []float64 {
	g := make([]float64, len(v))
	for i := range v {
		orig := v[i]
		v[i] = orig + fdStep
		plus := f()
		v[i] = orig - fdStep
		minus := f()
		v[i] = orig
		g[i] = (plus - minus) / (2 * fdStep)
	}
	return g
}

func checkGrad(t *testing.T, what string, analytic, numeric []float64) {
	t.Helper()
	scale, worst, at := 1e-3, 0.0, 0
	for i := range numeric {
		scale = math.Max(scale, math.Abs(numeric[i]))
		if d := math.Abs(analytic[i] - numeric[i]); d > worst {
			worst, at = d, i
		}
	}
	if worst/scale > gradTol {
		t.Errorf("%s: element %d: analytic %v, finite difference %v (error %.3g relative to %.3g)", what, at, analytic[at], numeric[at], worst/scale, scale)
	}
}

// gradConvShapes cover padding, stride, non-square windows, batch 1 and windows that leave
// input border pixels unseen (stride 2 without padding on an even width).
var gradConvShapes = []ConvShape{
	{N: 2, C: 3, H: 7, W: 5, K: 4, Params: kernels.Conv3x3},
	{N: 1, C: 2, H: 8, W: 7, K: 3, Params: kernels.ConvParams{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, PadH: 0, PadW: 0}},
	{N: 1, C: 3, H: 5, W: 6, K: 2, Params: kernels.ConvParams{KernelH: 1, KernelW: 1, StrideH: 1, StrideW: 1}},
	{N: 2, C: 1, H: 6, W: 5, K: 3, Params: kernels.ConvParams{KernelH: 5, KernelW: 5, StrideH: 1, StrideW: 1, PadH: 2, PadW: 2}},
	{N: 1, C: 2, H: 7, W: 9, K: 3, Params: kernels.ConvParams{KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 1, PadH: 1, PadW: 0}},
}

func TestConvReferenceGradients(t *testing.T) {
	for _, s := range gradConvShapes {
		t.Run(fmt.Sprintf("%v_%+v", s.XShape(), s.Params), func(t *testing.T) {
			rng := tensor.NewRand(1)
			x := randoms(rng, tensor.Shape(s.XShape()).Numel())
			w := randoms(rng, tensor.Shape(s.WShape()).Numel())
			b := randoms(rng, s.K)
			g := randoms(rng, tensor.Shape(s.YShape()).Numel())
			loss := func() float64 { return dot(g, RefConv2D(x, w, b, s)) }
			dx := RefConv2DBackwardData(g, w, s)
			dw, db := RefConv2DBackwardFilter(x, g, s)
			checkGrad(t, "dx", dx, numericGrad(loss, x))
			checkGrad(t, "dw", dw, numericGrad(loss, w))
			checkGrad(t, "db", db, numericGrad(loss, b))
		})
	}
}

func TestReLUReferenceGradient(t *testing.T) {
	rng := tensor.NewRand(2)
	x := randoms(rng, 3*5*7)
	for i := range x {
		// Keep every input at least 0.05 from the kink, where ReLU has no derivative.
		x[i] = math.Copysign(0.05+math.Abs(x[i]), x[i])
	}
	g := randoms(rng, len(x))
	loss := func() float64 { return dot(g, RefReLU(x)) }
	checkGrad(t, "dx", RefReLUBackward(g, RefReLU(x)), numericGrad(loss, x))
}

func TestMaxPoolReferenceGradient(t *testing.T) {
	const n, c, h, w = 2, 3, 6, 10
	rng := tensor.NewRand(3)
	// Distinct values 0.01 apart (a shuffled ramp), so no window has a tie and the max does
	// not change under a 1e-5 nudge.
	x := make([]float64, n*c*h*w)
	for i, j := range rng.Perm(len(x)) {
		x[i] = 0.01 * float64(j)
	}
	g := randoms(rng, n*c*(h/2)*(w/2))
	loss := func() float64 {
		y, _ := RefMaxPool2x2(x, n, c, h, w)
		return dot(g, y)
	}
	_, argmax := RefMaxPool2x2(x, n, c, h, w)
	checkGrad(t, "dx", RefMaxPool2x2Backward(g, argmax, n, c, h, w), numericGrad(loss, x))
}

func TestDropoutReferenceGradient(t *testing.T) {
	const p, seed = 0.3, 99
	rng := tensor.NewRand(4)
	x := randoms(rng, 101)
	g := randoms(rng, len(x))
	loss := func() float64 { return dot(g, RefDropout(x, p, seed)) }
	checkGrad(t, "dx", RefDropout(g, p, seed), numericGrad(loss, x))
}

func TestLinearReferenceGradients(t *testing.T) {
	for _, dims := range [][3]int{{1, 7, 3}, {4, 5, 6}} {
		n, in, out := dims[0], dims[1], dims[2]
		t.Run(fmt.Sprintf("n%d_in%d_out%d", n, in, out), func(t *testing.T) {
			rng := tensor.NewRand(5)
			x, w, b := randoms(rng, n*in), randoms(rng, out*in), randoms(rng, out)
			g := randoms(rng, n*out)
			loss := func() float64 { return dot(g, RefLinear(x, w, b, n, in, out)) }
			dx, dw, db := RefLinearBackward(g, x, w, n, in, out)
			checkGrad(t, "dx", dx, numericGrad(loss, x))
			checkGrad(t, "dw", dw, numericGrad(loss, w))
			checkGrad(t, "db", db, numericGrad(loss, b))
		})
	}
}

func TestSoftmaxCrossEntropyReferenceGradient(t *testing.T) {
	const n, classes = 3, 7
	rng := tensor.NewRand(6)
	logits := randoms(rng, n*classes)
	labels := []int32{0, classes - 1, 3}
	meanLoss := func() float64 {
		_, loss := RefSoftmaxCrossEntropy(logits, labels, n, classes)
		sum := 0.0
		for _, l := range loss {
			sum += l
		}
		return sum / n
	}
	probs, _ := RefSoftmaxCrossEntropy(logits, labels, n, classes)
	checkGrad(t, "dlogits", RefSoftmaxCrossEntropyBackward(probs, labels, n, classes), numericGrad(meanLoss, logits))
}

func TestSoftmaxCrossEntropyReferenceLargeLogits(t *testing.T) {
	probs, loss := RefSoftmaxCrossEntropy([]float64{1e4, 0, -1e4}, []int32{1}, 1, 3)
	if probs[0] != 1 || probs[1] != 0 || loss[0] != 1e4 {
		t.Errorf("probs %v loss %v, want [1 0 0] and 1e4", probs, loss)
	}
}

// The optimizers have no backward pass; their references are checked against steps worked
// out by hand from the PyTorch update rules.
func TestSGDReference(t *testing.T) {
	cfg := kernels.SGDConfig{LR: 0.1, Momentum: 0.9, WeightDecay: 0.01}
	param, velocity := []float64{1}, []float64{0}
	RefSGD(param, []float64{0.5}, velocity, cfg)
	// g = 0.5 + 0.01 = 0.51; v = 0.51; param = 1 - 0.051.
	expectNear(t, "step 1 param", param[0], 0.949)
	RefSGD(param, []float64{0.5}, velocity, cfg)
	// g = 0.5 + 0.00949; v = 0.9*0.51 + g = 0.96849; param = 0.949 - 0.096849.
	expectNear(t, "step 2 param", param[0], 0.852151)
	expectNear(t, "step 2 velocity", velocity[0], 0.96849)

	cfg.Nesterov = true
	param, velocity = []float64{1}, []float64{0}
	RefSGD(param, []float64{0.5}, velocity, cfg)
	// param = 1 - 0.1*(0.51 + 0.9*0.51).
	expectNear(t, "nesterov param", param[0], 0.9031)
}

func TestAdamReference(t *testing.T) {
	cfg := kernels.AdamConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	param, m, v := []float64{1, 1}, []float64{0, 0}, []float64{0, 0}
	RefAdam(param, []float64{0.5, -2}, m, v, cfg, 1)
	// After bias correction the first step is lr·g/(|g|+eps): lr·sign(g) whatever |g|.
	expectNear(t, "step 1 param[0]", param[0], 0.9)
	expectNear(t, "step 1 param[1]", param[1], 1.1)

	cfg.WeightDecay, cfg.Decoupled = 0.1, true
	param, m, v = []float64{1}, []float64{0}, []float64{0}
	RefAdam(param, []float64{0.5}, m, v, cfg, 1)
	// AdamW first shrinks param by lr·wd (1 → 0.99), then takes the same 0.1 step.
	expectNear(t, "adamw param", param[0], 0.89)

	cfg.WeightDecay, cfg.Decoupled = 0.5, false
	param, m, v = []float64{1}, []float64{0}, []float64{0}
	RefAdam(param, []float64{-0.5}, m, v, cfg, 1)
	// Coupled decay adds 0.5·param to the gradient: g = -0.5 + 0.5 = 0, so param stays.
	expectNear(t, "adam coupled decay param", param[0], 1)
}

func expectNear(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-6 {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestBatchNormReferenceGradients(t *testing.T) {
	for _, s := range []BatchNormShape{{N: 3, C: 2, H: 3, W: 2}, {N: 2, C: 3, H: 1, W: 1}, {N: 1, C: 2, H: 2, W: 3}} {
		t.Run(fmt.Sprint(s.XShape()), func(t *testing.T) {
			rng := tensor.NewRand(7)
			x := randoms(rng, tensor.Shape(s.XShape()).Numel())
			gamma, beta := randoms(rng, s.C), randoms(rng, s.C)
			run := make([]float64, s.C) // the running statistics do not enter y
			g := randoms(rng, len(x))
			loss := func() float64 { return dot(g, RefBatchNormTrain(x, gamma, beta, run, run, s, 0.1, 1e-5).Y) }
			r := RefBatchNormTrain(x, gamma, beta, run, run, s, 0.1, 1e-5)
			dx, dgamma, dbeta := RefBatchNormBackward(g, x, gamma, r.Mean, r.InvStd, s)
			checkGrad(t, "dx", dx, numericGrad(loss, x))
			checkGrad(t, "dgamma", dgamma, numericGrad(loss, gamma))
			checkGrad(t, "dbeta", dbeta, numericGrad(loss, beta))
		})
	}
}

// TestBatchNormReferenceByHand checks the forward reference on one channel of 1, 2, 3: mean 2,
// biased variance 2/3, unbiased 1.
func TestBatchNormReferenceByHand(t *testing.T) {
	s := BatchNormShape{N: 3, C: 1, H: 1, W: 1}
	r := RefBatchNormTrain([]float64{1, 2, 3}, []float64{2}, []float64{0.5}, []float64{1}, []float64{4}, s, 0.1, 0)
	invstd := 1 / math.Sqrt(2.0/3)
	expectNear(t, "mean", r.Mean[0], 2)
	expectNear(t, "invstd", r.InvStd[0], invstd)
	expectNear(t, "y[0]", r.Y[0], 2*(-1)*invstd+0.5)
	expectNear(t, "running mean", r.RunMean[0], 0.9*1+0.1*2)
	expectNear(t, "running var", r.RunVar[0], 0.9*4+0.1*1)
	y := RefBatchNormEval([]float64{3}, []float64{2}, []float64{0.5}, []float64{1}, []float64{4}, BatchNormShape{N: 1, C: 1, H: 1, W: 1}, 0)
	expectNear(t, "eval y", y[0], 2*(3-1)/2.0+0.5)
}
