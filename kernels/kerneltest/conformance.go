package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// Tolerance bounds the relative error ‖out − ref‖/‖ref‖ that Conformance accepts.
type Tolerance struct {
	// Product is for ops that sum many float32 products (convolution, linear). A float32 sum
	// of K terms carries a rounding error of about √K·2⁻²⁴ relative to the sum for random data
	// (K·2⁻²⁴ in the worst case), and the longest sums here have K ≈ 1,700 (the filter
	// gradient of the batch-3 23x25 case sums N·P·Q = 1,725 products; the 67-channel case's
	// forward pass sums C·R·S = 603), so honest kernels land near 1e-6 (the CPU backend:
	// at most 7e-7). 1e-4 leaves room for other summation orders and fused multiply-adds,
	// while a wrong index or a missed term gives errors of order 1e-2 or more.
	Product float64
	// Pointwise is for ops whose every output is a short formula of a few inputs (dropout's
	// scale, softmax, the optimizers): a handful of float32 roundings, about 1e-7.
	Pointwise float64
}

// DefaultTolerance suits any correct float32 backend.
func DefaultTolerance() Tolerance {
	return Tolerance{Product: 1e-4, Pointwise: 1e-5}
}

// Conformance runs every kernels.Backend op on b against the float64 references, with a
// sub-test per op and per case. Inputs are random with odd sizes; every output is poisoned
// (NaN, or PoisonInt32 for int32) before the op runs, so unwritten elements fail. Ops that
// only copy, compare or mask values must match exactly; the rest within tol.
func Conformance(t *testing.T, b kernels.Backend, tol Tolerance) {
	t.Run("Memory", func(t *testing.T) { testMemory(t, b) })
	t.Run("Conv2D", func(t *testing.T) {
		for i, s := range ConformanceConvShapes {
			t.Run(convName(s), func(t *testing.T) { testConv(t, b, tol, s, uint64(100+i)) })
		}
	})
	t.Run("ReLU", func(t *testing.T) { testReLU(t, b) })
	t.Run("MaxPool2x2", func(t *testing.T) { testMaxPool(t, b) })
	t.Run("Dropout", func(t *testing.T) { testDropout(t, b, tol) })
	t.Run("Linear", func(t *testing.T) { testLinear(t, b, tol) })
	t.Run("BatchNorm", func(t *testing.T) { testBatchNorm(t, b, tol) })
	t.Run("SoftmaxCrossEntropy", func(t *testing.T) { testSoftmaxCrossEntropy(t, b, tol) })
	t.Run("AccumulateStats", func(t *testing.T) { testAccumulateStats(t, b, tol) })
	t.Run("SGD", func(t *testing.T) { testSGD(t, b, tol) })
	t.Run("Adam", func(t *testing.T) { testAdam(t, b, tol) })
	t.Run("ShapeErrors", func(t *testing.T) { testShapeErrors(t, b) })
	if err := b.Sync(); err != nil {
		t.Errorf("Sync after the suite: %v", err)
	}
}

// ConformanceConvShapes are the convolutions Conformance runs: the network's 3x3/pad 1 at
// batch 1 and 2, stride 2, 1x1, 5x5/pad 2, no padding, a non-square window with unequal
// strides and pads, batch 3 on a larger plane (a backend that groups images per product
// ends with a partial group), and one with 67 channels and filters on 19x23, big and ragged
// enough to cross the tile edges of a GPU kernel.
var ConformanceConvShapes = []ConvShape{
	{N: 1, C: 3, H: 9, W: 11, K: 5, Params: kernels.Conv3x3},
	{N: 2, C: 5, H: 13, W: 13, K: 7, Params: kernels.Conv3x3},
	{N: 2, C: 4, H: 13, W: 10, K: 6, Params: kernels.ConvParams{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}},
	{N: 2, C: 7, H: 9, W: 9, K: 5, Params: kernels.ConvParams{KernelH: 1, KernelW: 1, StrideH: 1, StrideW: 1}},
	{N: 1, C: 3, H: 11, W: 7, K: 4, Params: kernels.ConvParams{KernelH: 5, KernelW: 5, StrideH: 1, StrideW: 1, PadH: 2, PadW: 2}},
	{N: 2, C: 5, H: 8, W: 9, K: 3, Params: kernels.ConvParams{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1}},
	{N: 2, C: 3, H: 9, W: 12, K: 5, Params: kernels.ConvParams{KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 1, PadH: 1, PadW: 0}},
	{N: 3, C: 2, H: 23, W: 25, K: 3, Params: kernels.Conv3x3},
	{N: 2, C: 67, H: 19, W: 23, K: 67, Params: kernels.Conv3x3},
}

func convName(s ConvShape) string {
	p := s.Params
	return fmt.Sprintf("k%dx%d_s%dx%d_p%dx%d_n%d_c%d_k%d_%dx%d", p.KernelH, p.KernelW, p.StrideH, p.StrideW, p.PadH, p.PadW, s.N, s.C, s.K, s.H, s.W)
}

// must fails the test on an op's error.
func must(t testing.TB, op string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
}

func testMemory(t *testing.T, b kernels.Backend) {
	rng := tensor.NewRand(1)
	host := RandomTensor(rng, 3, 5, 7)
	dev := Upload(t, b, host)
	CheckExact(t, "Upload then Download", Download(t, b, dev), Float64s(host))

	labels := Int32Tensor([]int32{0, 5, -3, math.MaxInt32}, 4)
	CheckExact(t, "int32 round trip", Download(t, b, Upload(t, b, labels)), Float64s(labels))

	flat := Poisoned(t, b, tensor.Float32, 105)
	must(t, "Copy", b.Copy(flat, dev))
	CheckExact(t, "Copy to another shape", Download(t, b, flat), Float64s(host))

	must(t, "Fill", b.Fill(flat, -2.5))
	want := make([]float64, 105)
	for i := range want {
		want[i] = -2.5
	}
	CheckExact(t, "Fill", Download(t, b, flat), want)
}

func testConv(t *testing.T, b kernels.Backend, tol Tolerance, s ConvShape, seed uint64) {
	rng := tensor.NewRand(seed)
	x, w := RandomTensor(rng, s.XShape()...), RandomTensor(rng, s.WShape()...)
	bias, dy := RandomTensor(rng, s.K), RandomTensor(rng, s.YShape()...)
	xr, wr, br, dyr := Float64s(x), Float64s(w), Float64s(bias), Float64s(dy)
	dx, dw, db := Upload(t, b, x), Upload(t, b, w), Upload(t, b, bias)
	ddy := Upload(t, b, dy)

	t.Run("Forward", func(t *testing.T) {
		y := Poisoned(t, b, tensor.Float32, s.YShape()...)
		must(t, "Conv2D", b.Conv2D(y, dx, dw, db, s.Params))
		CheckClose(t, "y", Download(t, b, y), RefConv2D(xr, wr, br, s), tol.Product)
	})
	t.Run("BackwardData", func(t *testing.T) {
		gx := Poisoned(t, b, tensor.Float32, s.XShape()...)
		must(t, "Conv2DBackwardData", b.Conv2DBackwardData(gx, ddy, dw, s.Params))
		CheckClose(t, "dx", Download(t, b, gx), RefConv2DBackwardData(dyr, wr, s), tol.Product)
	})
	refDW, refDB := RefConv2DBackwardFilter(xr, dyr, s)
	t.Run("BackwardFilter", func(t *testing.T) {
		gw := Poisoned(t, b, tensor.Float32, s.WShape()...)
		gb := Poisoned(t, b, tensor.Float32, s.K)
		must(t, "Conv2DBackwardFilter", b.Conv2DBackwardFilter(gw, gb, dx, ddy, s.Params))
		CheckClose(t, "dw", Download(t, b, gw), refDW, tol.Product)
		CheckClose(t, "db", Download(t, b, gb), refDB, tol.Product)
	})
	t.Run("BackwardFilterNoBias", func(t *testing.T) {
		gw := Poisoned(t, b, tensor.Float32, s.WShape()...)
		must(t, "Conv2DBackwardFilter", b.Conv2DBackwardFilter(gw, nil, dx, ddy, s.Params))
		CheckClose(t, "dw", Download(t, b, gw), refDW, tol.Product)
	})
}

func testReLU(t *testing.T, b kernels.Backend) {
	for _, shape := range elementwiseShapes {
		t.Run(tensor.Shape(shape).String(), func(t *testing.T) { testReLUShape(t, b, shape) })
	}
}

// elementwiseShapes are a small odd tensor and one large enough (234,232 elements) that a
// backend splits it over threads or thread blocks.
var elementwiseShapes = [][]int{{3, 5, 7, 9}, {2, 67, 38, 46}}

func testReLUShape(t *testing.T, b kernels.Backend, shape []int) {
	rng := tensor.NewRand(2)
	x, dy := RandomTensor(rng, shape...), RandomTensor(rng, shape...)
	refY := RefReLU(Float64s(x))
	refDX := RefReLUBackward(Float64s(dy), refY)
	yHost := tensor.Zeros(shape...)
	for i, v := range refY {
		yHost.Float32s()[i] = float32(v)
	}

	t.Run("Forward", func(t *testing.T) {
		y := Poisoned(t, b, tensor.Float32, shape...)
		must(t, "ReLU", b.ReLU(y, Upload(t, b, x)))
		CheckExact(t, "y", Download(t, b, y), refY)
	})
	t.Run("ForwardInPlace", func(t *testing.T) {
		xy := Upload(t, b, x)
		must(t, "ReLU", b.ReLU(xy, xy))
		CheckExact(t, "y", Download(t, b, xy), refY)
	})
	t.Run("Backward", func(t *testing.T) {
		dx := Poisoned(t, b, tensor.Float32, shape...)
		must(t, "ReLUBackward", b.ReLUBackward(dx, Upload(t, b, dy), Upload(t, b, yHost)))
		CheckExact(t, "dx", Download(t, b, dx), refDX)
	})
	t.Run("BackwardInPlace", func(t *testing.T) {
		g := Upload(t, b, dy)
		must(t, "ReLUBackward", b.ReLUBackward(g, g, Upload(t, b, yHost)))
		CheckExact(t, "dx", Download(t, b, g), refDX)
	})
}

func testMaxPool(t *testing.T, b kernels.Backend) {
	cases := []struct {
		name       string
		n, c, h, w int
		ties       bool
	}{
		{"random_n1_c3_6x10", 1, 3, 6, 10, false},
		{"random_n2_c67_38x46", 2, 67, 38, 46, false},
		// Values drawn from {0, 1, 2} make most windows tie; the first in row-major order wins.
		{"ties_n3_c5_10x14", 3, 5, 10, 14, true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := tensor.NewRand(uint64(30 + i))
			x := RandomTensor(rng, tc.n, tc.c, tc.h, tc.w)
			if tc.ties {
				for j := range x.Float32s() {
					x.Float32s()[j] = float32(rng.IntN(3))
				}
			}
			outShape := []int{tc.n, tc.c, tc.h / 2, tc.w / 2}
			refY, refArg := RefMaxPool2x2(Float64s(x), tc.n, tc.c, tc.h, tc.w)
			y := Poisoned(t, b, tensor.Float32, outShape...)
			arg := Poisoned(t, b, tensor.Int32, outShape...)
			must(t, "MaxPool2x2", b.MaxPool2x2(y, arg, Upload(t, b, x)))
			CheckExact(t, "y", Download(t, b, y), refY)
			refArgF := make([]float64, len(refArg))
			for j, a := range refArg {
				refArgF[j] = float64(a)
			}
			CheckExact(t, "argmax", Download(t, b, arg), refArgF)

			dy := RandomTensor(rng, outShape...)
			dx := Poisoned(t, b, tensor.Float32, tc.n, tc.c, tc.h, tc.w)
			must(t, "MaxPool2x2Backward", b.MaxPool2x2Backward(dx, Upload(t, b, dy), Upload(t, b, Int32Tensor(refArg, outShape...))))
			CheckExact(t, "dx", Download(t, b, dx), RefMaxPool2x2Backward(Float64s(dy), refArg, tc.n, tc.c, tc.h, tc.w))
		})
	}
}

// checkMask fails unless got is zero exactly where ref is: the dropout mask must be the
// very same on every backend, not merely close.
func checkMask(t *testing.T, got *tensor.Tensor, ref []float64) {
	t.Helper()
	for i, v := range got.Float32s() {
		if (v == 0) != (ref[i] == 0) {
			t.Errorf("element %d: got %v, reference %v: the dropout mask differs", i, v, ref[i])
			return
		}
	}
}

func testDropout(t *testing.T, b kernels.Backend, tol Tolerance) {
	const seed = 0x0123456789abcdef // both halves of the key matter
	for _, p := range []float32{0, 0.1, 0.5} {
		for _, shape := range append([][]int{{1001}}, elementwiseShapes...) {
			t.Run(fmt.Sprintf("p%v_%v", p, tensor.Shape(shape)), func(t *testing.T) {
				rng := tensor.NewRand(4)
				x := RandomTensor(rng, shape...)
				ref := RefDropout(Float64s(x), p, seed)
				check := func(what string, out *tensor.Tensor) {
					got := Download(t, b, out)
					CheckClose(t, what, got, ref, tol.Pointwise)
					checkMask(t, got, ref)
				}
				y := Poisoned(t, b, tensor.Float32, shape...)
				must(t, "Dropout", b.Dropout(y, Upload(t, b, x), p, seed))
				check("y", y)

				inPlace := Upload(t, b, x)
				must(t, "Dropout", b.Dropout(inPlace, inPlace, p, seed))
				check("y in place", inPlace)

				// The backward pass is the same masked scaling applied to dy.
				dx := Poisoned(t, b, tensor.Float32, shape...)
				must(t, "DropoutBackward", b.DropoutBackward(dx, Upload(t, b, x), p, seed))
				check("dx", dx)

				inPlace = Upload(t, b, x)
				must(t, "DropoutBackward", b.DropoutBackward(inPlace, inPlace, p, seed))
				check("dx in place", inPlace)
			})
		}
	}
}

func testLinear(t *testing.T, b kernels.Backend, tol Tolerance) {
	for i, dims := range [][3]int{{1, 7, 3}, {5, 33, 17}, {300, 517, 129}} {
		n, in, out := dims[0], dims[1], dims[2]
		t.Run(fmt.Sprintf("n%d_in%d_out%d", n, in, out), func(t *testing.T) {
			rng := tensor.NewRand(uint64(50 + i))
			x, w, bias := RandomTensor(rng, n, in), RandomTensor(rng, out, in), RandomTensor(rng, out)
			dy := RandomTensor(rng, n, out)
			xr, wr := Float64s(x), Float64s(w)
			dX, dW, dB, dDY := Upload(t, b, x), Upload(t, b, w), Upload(t, b, bias), Upload(t, b, dy)

			y := Poisoned(t, b, tensor.Float32, n, out)
			must(t, "Linear", b.Linear(y, dX, dW, dB))
			CheckClose(t, "y", Download(t, b, y), RefLinear(xr, wr, Float64s(bias), n, in, out), tol.Product)

			refDX, refDW, refDB := RefLinearBackward(Float64s(dy), xr, wr, n, in, out)
			gx := Poisoned(t, b, tensor.Float32, n, in)
			gw := Poisoned(t, b, tensor.Float32, out, in)
			gb := Poisoned(t, b, tensor.Float32, out)
			must(t, "LinearBackward", b.LinearBackward(gx, gw, gb, dDY, dX, dW))
			CheckClose(t, "dx", Download(t, b, gx), refDX, tol.Product)
			CheckClose(t, "dw", Download(t, b, gw), refDW, tol.Product)
			CheckClose(t, "db", Download(t, b, gb), refDB, tol.Product)

			// The first layer needs no dx and a bias-free layer no db.
			gw = Poisoned(t, b, tensor.Float32, out, in)
			must(t, "LinearBackward without dx and db", b.LinearBackward(nil, gw, nil, dDY, dX, dW))
			CheckClose(t, "dw without dx and db", Download(t, b, gw), refDW, tol.Product)
		})
	}
}

// softmaxCase is a batch of logits with labels that include both the first and last class.
func softmaxCase(seed uint64, n, classes int, scale float64) (*tensor.Tensor, []int32) {
	rng := tensor.NewRand(seed)
	logits := tensor.Zeros(n, classes)
	logits.FillNormal(rng, 0, scale)
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(rng.IntN(classes))
	}
	labels[0], labels[n-1] = 0, int32(classes-1)
	return logits, labels
}

func testSoftmaxCrossEntropy(t *testing.T, b kernels.Backend, tol Tolerance) {
	const n, classes = 6, 11
	for _, scale := range []float64{3, 1e4} {
		// At scale 1e4 exp(logit) overflows float32 (and float64) unless computed via
		// log-sum-exp.
		t.Run(fmt.Sprintf("logit_scale_%g", scale), func(t *testing.T) {
			logits, labels := softmaxCase(7, n, classes, scale)
			refProbs, refLoss := RefSoftmaxCrossEntropy(Float64s(logits), labels, n, classes)
			probs := Poisoned(t, b, tensor.Float32, n, classes)
			loss := Poisoned(t, b, tensor.Float32, n)
			dLabels := Upload(t, b, Int32Tensor(labels, n))
			must(t, "SoftmaxCrossEntropy", b.SoftmaxCrossEntropy(probs, loss, Upload(t, b, logits), dLabels))
			hostProbs := Download(t, b, probs)
			CheckClose(t, "probs", hostProbs, refProbs, tol.Pointwise)
			CheckClose(t, "loss", Download(t, b, loss), refLoss, tol.Pointwise)

			// Backward from the backend's own probs, so only this op's error is measured.
			dlogits := Poisoned(t, b, tensor.Float32, n, classes)
			must(t, "SoftmaxCrossEntropyBackward", b.SoftmaxCrossEntropyBackward(dlogits, probs, dLabels))
			CheckClose(t, "dlogits", Download(t, b, dlogits), RefSoftmaxCrossEntropyBackward(Float64s(hostProbs), labels, n, classes), tol.Pointwise)
		})
	}
}

func testAccumulateStats(t *testing.T, b kernels.Backend, tol Tolerance) {
	const n, classes = 9, 5
	logits, labels := softmaxCase(8, n, classes, 2)
	lr := Float64s(logits)
	// Make every third prediction right (label = the row's argmax), so the count of correct
	// samples is neither 0 nor n.
	for i := 0; i < n; i += 3 {
		best := 0
		for c := 1; c < classes; c++ {
			if lr[i*classes+c] > lr[i*classes+best] {
				best = c
			}
		}
		labels[i] = int32(best)
	}
	probs, loss := RefSoftmaxCrossEntropy(lr, labels, n, classes)
	// A row of equal probabilities: ties go to the first class, which is this sample's label.
	labels[0] = 0
	for c := 0; c < classes; c++ {
		probs[c] = 1 / float64(classes)
	}
	toTensor := func(v []float64, shape ...int) *tensor.Tensor {
		h := tensor.Zeros(shape...)
		for i, x := range v {
			h.Float32s()[i] = float32(x)
		}
		return h
	}
	probsHost, lossHost := toTensor(probs, n, classes), toTensor(loss, n)
	start := []float64{1.5, 2, 3} // stats carried over from earlier batches
	stats := Upload(t, b, toTensor(start, 3))
	dLoss, dProbs, dLabels := Upload(t, b, lossHost), Upload(t, b, probsHost), Upload(t, b, Int32Tensor(labels, n))
	must(t, "AccumulateStats", b.AccumulateStats(stats, dLoss, dProbs, dLabels))
	must(t, "AccumulateStats", b.AccumulateStats(stats, dLoss, dProbs, dLabels))
	want := start
	for range 2 {
		want = RefAccumulateStats(want, Float64s(lossHost), Float64s(probsHost), labels, classes)
	}
	got := Download(t, b, stats)
	CheckClose(t, "stats[0] (loss sum)", sliceTensor(got, 0, 1), want[:1], tol.Pointwise)
	CheckExact(t, "stats[1:] (correct, count)", sliceTensor(got, 1, 3), want[1:])
}

// sliceTensor returns elements [lo, hi) of a float32 host tensor as a new host tensor.
func sliceTensor(t *tensor.Tensor, lo, hi int) *tensor.Tensor {
	s, _ := tensor.FromFloat32(append([]float32(nil), t.Float32s()[lo:hi]...), hi-lo)
	return s
}
