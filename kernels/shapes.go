package kernels

import (
	"fmt"

	"github.com/vgglab/vgg/tensor"
)

// The argument rules of the Backend contract, one Check function per op (after gomlx's
// shapeinference): each checks that every tensor argument is present (or, for an optional
// one, nil), of the right element type and shape, and that the scalar arguments are in
// range, and returns the op's geometry. Every backend calls them before touching memory, so
// that all of them accept and refuse the very same calls with the very same errors: a wrong
// shape is a *tensor.ShapeError, anything else an *ArgError; both name the op and the
// argument. Where a tensor lives (host or device) is the backend's own check.

// Ops lists the compute ops of the Backend contract, in the order the interface declares them:
// what the conformance suite covers and `vgg gpu` reports on. The memory ops (Alloc, Upload,
// Download, Copy, Fill, Sync, Close) are not in it.
var Ops = []string{
	"Conv2D", "Conv2DBackwardData", "Conv2DBackwardFilter",
	"ReLU", "ReLUBackward",
	"MaxPool2x2", "MaxPool2x2Backward",
	"Dropout", "DropoutBackward",
	"Linear", "LinearBackward",
	"SoftmaxCrossEntropy", "SoftmaxCrossEntropyBackward", "AccumulateStats",
	"BatchNormTrain", "BatchNormEval", "BatchNormBackward",
	"SGD", "Adam",
}

// ArgError is a refused argument other than a wrong shape: a missing tensor, a wrong element
// type, a value out of range.
type ArgError struct {
	Op, Arg string
	Problem string // what is wrong, a phrase that follows the argument's name
}

func (e *ArgError) Error() string { return fmt.Sprintf("%s: %s %s", e.Op, e.Arg, e.Problem) }

func argErrorf(op, arg, format string, args ...any) error {
	return &ArgError{Op: op, Arg: arg, Problem: fmt.Sprintf(format, args...)}
}

// ConvGeometry is one convolution call's sizes: input [N,C,H,W], filters [K,C,R,S] with R, S
// from Params, output [N,K,P,Q].
type ConvGeometry struct {
	N, C, H, W int
	K, P, Q    int
	Params     ConvParams
}

// LinearGeometry is a linear layer call's sizes: x [N,In], w [Out,In], y [N,Out].
type LinearGeometry struct{ N, In, Out int }

// PoolGeometry is a 2x2 max-pool call's input size [N,C,H,W]; the output is [N,C,H/2,W/2].
type PoolGeometry struct{ N, C, H, W int }

// ClassGeometry is a loss call's sizes: N samples of Classes scores each.
type ClassGeometry struct{ N, Classes int }

// BatchNormGeometry is a batch-norm call's sizes: x [N,C,H,W], statistics over N·H·W values
// per channel.
type BatchNormGeometry struct{ N, C, H, W int }

// checkArg checks a required tensor argument: present, shaped like want (-1 accepts any size
// on that axis) and of element type dtype.
func checkArg(op, name string, t *tensor.Tensor, dtype tensor.DType, want ...int) error {
	if t == nil {
		return argErrorf(op, name, "is missing")
	}
	if err := tensor.Check(op, name, t, want...); err != nil {
		return err
	}
	if t.DType() != dtype {
		return argErrorf(op, name, "is %s, want %s", t.DType(), dtype)
	}
	return nil
}

// checkOptional is checkArg for an argument that may be nil (the op then skips that output).
func checkOptional(op, name string, t *tensor.Tensor, dtype tensor.DType, want ...int) error {
	if t == nil {
		return nil
	}
	return checkArg(op, name, t, dtype, want...)
}

// f32 is checkArg for a float32 tensor.
func f32(op, name string, t *tensor.Tensor, want ...int) error {
	return checkArg(op, name, t, tensor.Float32, want...)
}

// firstError returns the first non-nil error, so that a rule reads as its list of checks.
func firstError(errs ...func() error) error {
	for _, e := range errs {
		if err := e(); err != nil {
			return err
		}
	}
	return nil
}

// convArgNames are, per convolution op, its names for the image-shaped input, the
// filter-shaped argument and the output-shaped one.
var convArgNames = map[string][3]string{
	"Conv2D":               {"x", "w", "y"},
	"Conv2DBackwardData":   {"dx", "w", "dy"},
	"Conv2DBackwardFilter": {"x", "dw", "dy"},
}

// CheckConvShapes is the part of the rule the three convolution ops share: the window is
// valid, image [N,C,H,W] is at least the window's size once padded, filters is [K,C,R,S] and
// out is [N,K,P,Q], all float32. Which argument is which depends on op (Conv2D: x, w, y;
// Conv2DBackwardData: dx, w, dy; Conv2DBackwardFilter: x, dw, dy), and errors use op's names.
func CheckConvShapes(op string, image, filters, out *tensor.Tensor, p ConvParams) (ConvGeometry, error) {
	names, ok := convArgNames[op]
	if !ok {
		return ConvGeometry{}, fmt.Errorf("CheckConvShapes: %q is not a convolution op", op)
	}
	xName, wName, outName := names[0], names[1], names[2]
	if err := p.Validate(); err != nil {
		return ConvGeometry{}, argErrorf(op, "params", "%+v is invalid: kernel and stride must be at least 1, padding at least 0", p)
	}
	if err := f32(op, xName, image, -1, -1, -1, -1); err != nil {
		return ConvGeometry{}, err
	}
	g := ConvGeometry{N: image.Dim(0), C: image.Dim(1), H: image.Dim(2), W: image.Dim(3), Params: p}
	if err := f32(op, wName, filters, -1, g.C, p.KernelH, p.KernelW); err != nil {
		return ConvGeometry{}, err
	}
	g.K = filters.Dim(0)
	g.P, g.Q = p.OutSize(g.H, g.W)
	if g.P < 1 || g.Q < 1 {
		return ConvGeometry{}, argErrorf(op, xName, "is %dx%d, smaller than the %dx%d window with padding %d,%d",
			g.H, g.W, p.KernelH, p.KernelW, p.PadH, p.PadW)
	}
	return g, f32(op, outName, out, g.N, g.K, g.P, g.Q)
}

// CheckConv2D: x [N,C,H,W], w [K,C,R,S], b [K] (required) and y [N,K,P,Q].
func CheckConv2D(y, x, w, b *tensor.Tensor, p ConvParams) (ConvGeometry, error) {
	const op = "Conv2D"
	g, err := CheckConvShapes(op, x, w, y, p)
	if err != nil {
		return g, err
	}
	return g, f32(op, "b", b, g.K)
}

// CheckConv2DBackwardData: dx [N,C,H,W], w [K,C,R,S], dy [N,K,P,Q].
func CheckConv2DBackwardData(dx, dy, w *tensor.Tensor, p ConvParams) (ConvGeometry, error) {
	return CheckConvShapes("Conv2DBackwardData", dx, w, dy, p)
}

// CheckConv2DBackwardFilter: x [N,C,H,W], dw [K,C,R,S], dy [N,K,P,Q], db [K] or nil.
func CheckConv2DBackwardFilter(dw, db, x, dy *tensor.Tensor, p ConvParams) (ConvGeometry, error) {
	const op = "Conv2DBackwardFilter"
	g, err := CheckConvShapes(op, x, dw, dy, p)
	if err != nil {
		return g, err
	}
	return g, checkOptional(op, "db", db, tensor.Float32, g.K)
}

// checkElementwise checks an op whose output has its input's shape: in present and float32,
// out shaped like in, and every other argument too.
func checkElementwise(op string, outName string, out *tensor.Tensor, inName string, in *tensor.Tensor, more ...namedArg) error {
	if in == nil {
		return argErrorf(op, inName, "is missing")
	}
	if in.DType() != tensor.Float32 {
		return argErrorf(op, inName, "is %s, want %s", in.DType(), tensor.Float32)
	}
	shape := in.Shape()
	for _, a := range append([]namedArg{{outName, out}}, more...) {
		if err := f32(op, a.name, a.t, shape...); err != nil {
			return err
		}
	}
	return nil
}

// namedArg is an op's tensor argument with its name, for the error messages.
type namedArg struct {
	name string
	t    *tensor.Tensor
}

// CheckReLU: x float32 of any shape, y like x (y may be x).
func CheckReLU(y, x *tensor.Tensor) error {
	return checkElementwise("ReLU", "y", y, "x", x)
}

// CheckReLUBackward: y float32 of any shape, dx and dy like y.
func CheckReLUBackward(dx, dy, y *tensor.Tensor) error {
	return checkElementwise("ReLUBackward", "dx", dx, "y", y, namedArg{"dy", dy})
}

// checkPool checks the shared part of the max-pool ops: the full-size tensor (x, or dx) is
// [N,C,H,W] with H and W even, and the pooled ones are [N,C,H/2,W/2] (argmax int32).
func checkPool(op, fullName string, full *tensor.Tensor, pooledName string, pooled, argmax *tensor.Tensor) (PoolGeometry, error) {
	if err := f32(op, fullName, full, -1, -1, -1, -1); err != nil {
		return PoolGeometry{}, err
	}
	g := PoolGeometry{N: full.Dim(0), C: full.Dim(1), H: full.Dim(2), W: full.Dim(3)}
	if g.H%2 != 0 || g.W%2 != 0 {
		return g, argErrorf(op, fullName, "is %dx%d; height and width must be even", g.H, g.W)
	}
	return g, firstError(
		func() error { return f32(op, pooledName, pooled, g.N, g.C, g.H/2, g.W/2) },
		func() error { return checkArg(op, "argmax", argmax, tensor.Int32, g.N, g.C, g.H/2, g.W/2) },
	)
}

// CheckMaxPool2x2: x [N,C,H,W] with H, W even; y [N,C,H/2,W/2]; argmax int32 like y.
func CheckMaxPool2x2(y, argmax, x *tensor.Tensor) (PoolGeometry, error) {
	return checkPool("MaxPool2x2", "x", x, "y", y, argmax)
}

// CheckMaxPool2x2Backward: dx [N,C,H,W] with H, W even; dy [N,C,H/2,W/2]; argmax int32 like dy.
func CheckMaxPool2x2Backward(dx, dy, argmax *tensor.Tensor) (PoolGeometry, error) {
	return checkPool("MaxPool2x2Backward", "dx", dx, "dy", dy, argmax)
}

// checkDropout: 0 <= p < 1 (p = 1 would divide by zero), out shaped like in.
func checkDropout(op, outName string, out *tensor.Tensor, inName string, in *tensor.Tensor, p float32) error {
	if !(p >= 0 && p < 1) {
		return argErrorf(op, "p", "(drop probability) is %v, outside [0, 1)", p)
	}
	return checkElementwise(op, outName, out, inName, in)
}

// CheckDropout: x float32 of any shape, y like x, 0 <= p < 1.
func CheckDropout(y, x *tensor.Tensor, p float32) error {
	return checkDropout("Dropout", "y", y, "x", x, p)
}

// CheckDropoutBackward: dy float32 of any shape, dx like dy, 0 <= p < 1.
func CheckDropoutBackward(dx, dy *tensor.Tensor, p float32) error {
	return checkDropout("DropoutBackward", "dx", dx, "dy", dy, p)
}

// checkLinear reads the sizes from x [N,In] and w [Out,In].
func checkLinear(op string, x, w *tensor.Tensor) (LinearGeometry, error) {
	if err := f32(op, "x", x, -1, -1); err != nil {
		return LinearGeometry{}, err
	}
	g := LinearGeometry{N: x.Dim(0), In: x.Dim(1)}
	if err := f32(op, "w", w, -1, g.In); err != nil {
		return LinearGeometry{}, err
	}
	g.Out = w.Dim(0)
	return g, nil
}

// CheckLinear: x [N,In], w [Out,In], b [Out] (required), y [N,Out].
func CheckLinear(y, x, w, b *tensor.Tensor) (LinearGeometry, error) {
	const op = "Linear"
	g, err := checkLinear(op, x, w)
	if err != nil {
		return g, err
	}
	return g, firstError(
		func() error { return f32(op, "b", b, g.Out) },
		func() error { return f32(op, "y", y, g.N, g.Out) },
	)
}

// CheckLinearBackward: x [N,In], w [Out,In], dy [N,Out], dw [Out,In]; dx [N,In] or nil,
// db [Out] or nil.
func CheckLinearBackward(dx, dw, db, dy, x, w *tensor.Tensor) (LinearGeometry, error) {
	const op = "LinearBackward"
	g, err := checkLinear(op, x, w)
	if err != nil {
		return g, err
	}
	return g, firstError(
		func() error { return f32(op, "dy", dy, g.N, g.Out) },
		func() error { return f32(op, "dw", dw, g.Out, g.In) },
		func() error { return checkOptional(op, "dx", dx, tensor.Float32, g.N, g.In) },
		func() error { return checkOptional(op, "db", db, tensor.Float32, g.Out) },
	)
}

// checkScores reads N and the classes from a [N, classes] float32 tensor (logits or probs)
// and checks labels is int32 [N]. The label values are checked by CheckLabels, where a
// backend can read them.
func checkScores(op, name string, scores, labels *tensor.Tensor) (ClassGeometry, error) {
	if err := f32(op, name, scores, -1, -1); err != nil {
		return ClassGeometry{}, err
	}
	g := ClassGeometry{N: scores.Dim(0), Classes: scores.Dim(1)}
	return g, checkArg(op, "labels", labels, tensor.Int32, g.N)
}

// CheckSoftmaxCrossEntropy: logits [N,C], probs like logits, loss [N], labels int32 [N].
func CheckSoftmaxCrossEntropy(probs, loss, logits, labels *tensor.Tensor) (ClassGeometry, error) {
	const op = "SoftmaxCrossEntropy"
	g, err := checkScores(op, "logits", logits, labels)
	if err != nil {
		return g, err
	}
	return g, firstError(
		func() error { return f32(op, "probs", probs, g.N, g.Classes) },
		func() error { return f32(op, "loss", loss, g.N) },
	)
}

// CheckSoftmaxCrossEntropyBackward: probs [N,C], dlogits like probs, labels int32 [N].
func CheckSoftmaxCrossEntropyBackward(dlogits, probs, labels *tensor.Tensor) (ClassGeometry, error) {
	const op = "SoftmaxCrossEntropyBackward"
	g, err := checkScores(op, "probs", probs, labels)
	if err != nil {
		return g, err
	}
	return g, f32(op, "dlogits", dlogits, g.N, g.Classes)
}

// CheckAccumulateStats: probs [N,C], loss [N], labels int32 [N], stats [3].
func CheckAccumulateStats(stats, loss, probs, labels *tensor.Tensor) (ClassGeometry, error) {
	const op = "AccumulateStats"
	g, err := checkScores(op, "probs", probs, labels)
	if err != nil {
		return g, err
	}
	return g, firstError(
		func() error { return f32(op, "stats", stats, 3) },
		func() error { return f32(op, "loss", loss, g.N) },
	)
}

// CheckLabels is the value half of the loss ops' rule: every label lies in [0, classes). A
// label outside would index past its row of probabilities; the error names the first one.
func CheckLabels(op string, labels []int32, classes int) error {
	for i, l := range labels {
		if l < 0 || int(l) >= classes {
			return argErrorf(op, "labels", "holds %d for sample %d, outside [0, %d)", l, i, classes)
		}
	}
	return nil
}

// checkBatchNorm checks that x is float32 [N,C,H,W], that every image-shaped tensor has x's
// shape and that every per-channel tensor is [C].
func checkBatchNorm(op string, x *tensor.Tensor, images, channels []namedArg) (BatchNormGeometry, error) {
	if err := f32(op, "x", x, -1, -1, -1, -1); err != nil {
		return BatchNormGeometry{}, err
	}
	g := BatchNormGeometry{N: x.Dim(0), C: x.Dim(1), H: x.Dim(2), W: x.Dim(3)}
	for _, a := range images {
		if err := f32(op, a.name, a.t, x.Shape()...); err != nil {
			return g, err
		}
	}
	for _, a := range channels {
		if err := f32(op, a.name, a.t, g.C); err != nil {
			return g, err
		}
	}
	return g, nil
}

func checkEps(op string, eps float32) error {
	if !(eps > 0) {
		return argErrorf(op, "eps", "is %v; it must be positive (it keeps 1/sqrt(var + eps) finite for a constant channel)", eps)
	}
	return nil
}

// CheckBatchNormTrain: x [N,C,H,W] with N·H·W > 1, y like x, everything else [C],
// 0 <= momentum <= 1 and eps > 0.
func CheckBatchNormTrain(y, saveMean, saveInvStd, runMean, runVar, x, gamma, beta *tensor.Tensor, momentum, eps float32) (BatchNormGeometry, error) {
	const op = "BatchNormTrain"
	g, err := checkBatchNorm(op, x, []namedArg{{"y", y}},
		[]namedArg{{"saveMean", saveMean}, {"saveInvStd", saveInvStd}, {"runMean", runMean}, {"runVar", runVar}, {"gamma", gamma}, {"beta", beta}})
	if err != nil {
		return g, err
	}
	if n := g.N * g.H * g.W; n < 2 {
		return g, argErrorf(op, "x", "%v has %d value per channel (N·H·W); batch statistics need at least 2 (use evaluation mode for a single 1x1 image)", x.Shape(), n)
	}
	if !(momentum >= 0 && momentum <= 1) {
		return g, argErrorf(op, "momentum", "is %v, outside [0, 1]", momentum)
	}
	return g, checkEps(op, eps)
}

// CheckBatchNormEval: x [N,C,H,W], y like x, the rest [C], eps > 0.
func CheckBatchNormEval(y, x, gamma, beta, runMean, runVar *tensor.Tensor, eps float32) (BatchNormGeometry, error) {
	const op = "BatchNormEval"
	g, err := checkBatchNorm(op, x, []namedArg{{"y", y}},
		[]namedArg{{"gamma", gamma}, {"beta", beta}, {"runMean", runMean}, {"runVar", runVar}})
	if err != nil {
		return g, err
	}
	return g, checkEps(op, eps)
}

// CheckBatchNormBackward: x [N,C,H,W], dx and dy like x, the rest [C].
func CheckBatchNormBackward(dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd *tensor.Tensor) (BatchNormGeometry, error) {
	return checkBatchNorm("BatchNormBackward", x, []namedArg{{"dy", dy}, {"dx", dx}},
		[]namedArg{{"gamma", gamma}, {"saveMean", saveMean}, {"saveInvStd", saveInvStd}, {"dgamma", dgamma}, {"dbeta", dbeta}})
}

// checkOptim: param float32 of any shape, every state tensor like param.
func checkOptim(op string, param *tensor.Tensor, state ...namedArg) error {
	return checkElementwise(op, state[0].name, state[0].t, "param", param, state[1:]...)
}

// CheckSGD: param float32 of any shape; grad and velocity like param.
func CheckSGD(param, grad, velocity *tensor.Tensor, cfg SGDConfig) error {
	return checkOptim("SGD", param, namedArg{"grad", grad}, namedArg{"velocity", velocity})
}

// CheckAdam: param float32 of any shape; grad, m and v like param; step >= 1.
func CheckAdam(param, grad, m, v *tensor.Tensor, cfg AdamConfig, step int) error {
	const op = "Adam"
	if step < 1 {
		return argErrorf(op, "step", "is %d; steps count from 1", step)
	}
	return checkOptim(op, param, namedArg{"grad", grad}, namedArg{"m", m}, namedArg{"v", v})
}
