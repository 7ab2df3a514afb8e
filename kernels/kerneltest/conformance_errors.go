package kerneltest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// argumentCases call every op with one argument wrong and expect the contract's rule to
// refuse it (kernels/shapes.go): a *tensor.ShapeError for a shape, a *kernels.ArgError for
// anything else, naming the op and the argument. Not a panic, not a silent write out of
// bounds, and the same on every backend: a nil bias or an out-of-range label included.
func argumentCases() []Case {
	conv := kernels.Conv3x3
	sgd := kernels.SGDConfig{LR: 0.1}
	adam := kernels.AdamConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	// Correct shapes for reference: x [2,3,5,5], w [4,3,3,3], b [4], y [2,4,5,5]; linear x
	// [2,5], w [3,5], b [3], y [2,3]; losses 2 samples of 5 classes; batch norm x, y
	// [2,3,4,5], everything per channel [3].
	rows := []struct {
		op, arg string
		call    func(args) error
	}{
		{"Conv2D", "y", func(a args) error {
			return a.b.Conv2D(a.f(2, 4, 5, 4), a.f(2, 3, 5, 5), a.f(4, 3, 3, 3), a.f(4), conv)
		}},
		{"Conv2D", "w", func(a args) error {
			return a.b.Conv2D(a.f(2, 4, 5, 5), a.f(2, 3, 5, 5), a.f(4, 2, 3, 3), a.f(4), conv)
		}},
		{"Conv2D", "b", func(a args) error {
			return a.b.Conv2D(a.f(2, 4, 5, 5), a.f(2, 3, 5, 5), a.f(4, 3, 3, 3), a.f(5), conv)
		}},
		{"Conv2D", "b", func(a args) error {
			return a.b.Conv2D(a.f(2, 4, 5, 5), a.f(2, 3, 5, 5), a.f(4, 3, 3, 3), nil, conv) // a nil bias
		}},
		{"Conv2D", "x", func(a args) error {
			return a.b.Conv2D(a.f(2, 4, 5, 5), a.f(3, 5, 5), a.f(4, 3, 3, 3), a.f(4), conv)
		}},
		{"Conv2D", "params", func(a args) error {
			return a.b.Conv2D(a.f(2, 4, 5, 5), a.f(2, 3, 5, 5), a.f(4, 3, 3, 3), a.f(4), kernels.ConvParams{KernelH: 3, KernelW: 3})
		}},
		{"Conv2DBackwardData", "dy", func(a args) error {
			return a.b.Conv2DBackwardData(a.f(2, 3, 5, 5), a.f(2, 5, 5, 5), a.f(4, 3, 3, 3), conv)
		}},
		{"Conv2DBackwardData", "dx", func(a args) error {
			return a.b.Conv2DBackwardData(a.f(2, 3, 5), a.f(2, 4, 5, 5), a.f(4, 3, 3, 3), conv)
		}},
		{"Conv2DBackwardFilter", "dw", func(a args) error {
			return a.b.Conv2DBackwardFilter(a.f(4, 2, 3, 3), a.f(4), a.f(2, 3, 5, 5), a.f(2, 4, 5, 5), conv)
		}},
		{"Conv2DBackwardFilter", "db", func(a args) error {
			return a.b.Conv2DBackwardFilter(a.f(4, 3, 3, 3), a.f(3), a.f(2, 3, 5, 5), a.f(2, 4, 5, 5), conv)
		}},
		{"Conv2DBackwardFilter", "dy", func(a args) error {
			return a.b.Conv2DBackwardFilter(a.f(4, 3, 3, 3), a.f(4), a.f(2, 3, 5, 5), a.f(2, 4, 3, 3), conv)
		}},
		{"ReLU", "y", func(a args) error {
			return a.b.ReLU(a.f(3, 4), a.f(4, 3))
		}},
		{"ReLUBackward", "dy", func(a args) error {
			return a.b.ReLUBackward(a.f(3, 4), a.f(3, 5), a.f(3, 4))
		}},
		{"ReLUBackward", "dx", func(a args) error {
			return a.b.ReLUBackward(a.f(12), a.f(3, 4), a.f(3, 4))
		}},
		{"MaxPool2x2", "y", func(a args) error {
			return a.b.MaxPool2x2(a.f(1, 2, 3, 4), a.i(1, 2, 2, 2), a.f(1, 2, 4, 4))
		}},
		{"MaxPool2x2", "argmax", func(a args) error {
			return a.b.MaxPool2x2(a.f(1, 2, 2, 2), a.i(1, 2, 2, 3), a.f(1, 2, 4, 4))
		}},
		{"MaxPool2x2", "x", func(a args) error {
			return a.b.MaxPool2x2(a.f(1, 2, 2, 2), a.i(1, 2, 2, 2), a.f(1, 2, 4, 5)) // odd width
		}},
		{"MaxPool2x2Backward", "dy", func(a args) error {
			return a.b.MaxPool2x2Backward(a.f(1, 2, 4, 4), a.f(1, 2, 2, 3), a.i(1, 2, 2, 2))
		}},
		{"MaxPool2x2Backward", "argmax", func(a args) error {
			return a.b.MaxPool2x2Backward(a.f(1, 2, 4, 4), a.f(1, 2, 2, 2), a.i(1, 1, 2, 2))
		}},
		{"Dropout", "y", func(a args) error {
			return a.b.Dropout(a.f(5), a.f(6), 0.5, 1)
		}},
		{"Dropout", "p", func(a args) error {
			return a.b.Dropout(a.f(5), a.f(5), 1, 1)
		}},
		{"DropoutBackward", "dx", func(a args) error {
			return a.b.DropoutBackward(a.f(2, 3), a.f(3, 2), 0.5, 1)
		}},
		{"DropoutBackward", "p", func(a args) error {
			return a.b.DropoutBackward(a.f(2, 3), a.f(2, 3), -0.1, 1)
		}},
		{"Linear", "w", func(a args) error {
			return a.b.Linear(a.f(2, 3), a.f(2, 5), a.f(3, 4), a.f(3))
		}},
		{"Linear", "y", func(a args) error {
			return a.b.Linear(a.f(2, 4), a.f(2, 5), a.f(3, 5), a.f(3))
		}},
		{"Linear", "b", func(a args) error {
			return a.b.Linear(a.f(2, 3), a.f(2, 5), a.f(3, 5), a.f(2))
		}},
		{"Linear", "b", func(a args) error {
			return a.b.Linear(a.f(2, 3), a.f(2, 5), a.f(3, 5), nil) // a nil bias
		}},
		{"LinearBackward", "dw", func(a args) error {
			return a.b.LinearBackward(a.f(2, 5), a.f(5, 3), a.f(3), a.f(2, 3), a.f(2, 5), a.f(3, 5))
		}},
		{"LinearBackward", "dx", func(a args) error {
			return a.b.LinearBackward(a.f(2, 4), a.f(3, 5), a.f(3), a.f(2, 3), a.f(2, 5), a.f(3, 5))
		}},
		{"LinearBackward", "dy", func(a args) error {
			return a.b.LinearBackward(nil, a.f(3, 5), nil, a.f(3, 3), a.f(2, 5), a.f(3, 5))
		}},
		{"SoftmaxCrossEntropy", "probs", func(a args) error {
			return a.b.SoftmaxCrossEntropy(a.f(2, 4), a.f(2), a.f(2, 5), a.labels(0, 1))
		}},
		{"SoftmaxCrossEntropy", "loss", func(a args) error {
			return a.b.SoftmaxCrossEntropy(a.f(2, 5), a.f(3), a.f(2, 5), a.labels(0, 1))
		}},
		{"SoftmaxCrossEntropy", "labels", func(a args) error {
			return a.b.SoftmaxCrossEntropy(a.f(2, 5), a.f(2), a.f(2, 5), a.labels(0, 1, 2))
		}},
		{"SoftmaxCrossEntropy", "labels", func(a args) error {
			return a.b.SoftmaxCrossEntropy(a.f(2, 5), a.f(2), a.f(2, 5), a.labels(0, 5)) // out of range
		}},
		{"SoftmaxCrossEntropyBackward", "dlogits", func(a args) error {
			return a.b.SoftmaxCrossEntropyBackward(a.f(2, 4), a.f(2, 5), a.labels(0, 1))
		}},
		{"SoftmaxCrossEntropyBackward", "labels", func(a args) error {
			return a.b.SoftmaxCrossEntropyBackward(a.f(2, 5), a.f(2, 5), a.labels(-1, 0)) // out of range
		}},
		{"AccumulateStats", "stats", func(a args) error {
			return a.b.AccumulateStats(a.f(4), a.f(2), a.f(2, 5), a.labels(0, 1))
		}},
		{"AccumulateStats", "loss", func(a args) error {
			return a.b.AccumulateStats(a.f(3), a.f(3), a.f(2, 5), a.labels(0, 1))
		}},
		{"AccumulateStats", "labels", func(a args) error {
			return a.b.AccumulateStats(a.f(3), a.f(2), a.f(2, 5), a.labels(4, 7)) // out of range
		}},
		{"AccumulateStats", "labels", func(a args) error {
			return a.b.AccumulateStats(a.f(3), a.f(2), a.f(2, 5), a.f(2)) // float labels
		}},
		{"BatchNormTrain", "y", func(a args) error {
			return a.b.BatchNormTrain(a.f(2, 3, 5, 4), a.f(3), a.f(3), a.f(3), a.f(3), a.f(2, 3, 4, 5), a.f(3), a.f(3), 0.1, 1e-5)
		}},
		{"BatchNormTrain", "runVar", func(a args) error {
			return a.b.BatchNormTrain(a.f(2, 3, 4, 5), a.f(3), a.f(3), a.f(3), a.f(4), a.f(2, 3, 4, 5), a.f(3), a.f(3), 0.1, 1e-5)
		}},
		{"BatchNormTrain", "x", func(a args) error {
			return a.b.BatchNormTrain(a.f(2, 3, 20), a.f(3), a.f(3), a.f(3), a.f(3), a.f(2, 3, 20), a.f(3), a.f(3), 0.1, 1e-5)
		}},
		{"BatchNormTrain", "x", func(a args) error {
			// PyTorch refuses to train on one value per channel: it has no variance.
			return a.b.BatchNormTrain(a.f(1, 4, 1, 1), a.f(4), a.f(4), a.f(4), a.f(4), a.f(1, 4, 1, 1), a.f(4), a.f(4), 0.1, 1e-5)
		}},
		{"BatchNormTrain", "eps", func(a args) error {
			return a.b.BatchNormTrain(a.f(2, 3, 4, 5), a.f(3), a.f(3), a.f(3), a.f(3), a.f(2, 3, 4, 5), a.f(3), a.f(3), 0.1, 0)
		}},
		{"BatchNormEval", "gamma", func(a args) error {
			return a.b.BatchNormEval(a.f(2, 3, 4, 5), a.f(2, 3, 4, 5), a.f(2), a.f(3), a.f(3), a.f(3), 1e-5)
		}},
		{"BatchNormEval", "y", func(a args) error {
			return a.b.BatchNormEval(a.f(2, 3, 4, 4), a.f(2, 3, 4, 5), a.f(3), a.f(3), a.f(3), a.f(3), 1e-5)
		}},
		{"BatchNormBackward", "dy", func(a args) error {
			return a.b.BatchNormBackward(a.f(2, 3, 4, 5), a.f(3), a.f(3), a.f(1, 3, 4, 5), a.f(2, 3, 4, 5), a.f(3), a.f(3), a.f(3))
		}},
		{"BatchNormBackward", "dbeta", func(a args) error {
			return a.b.BatchNormBackward(a.f(2, 3, 4, 5), a.f(3), a.f(5), a.f(2, 3, 4, 5), a.f(2, 3, 4, 5), a.f(3), a.f(3), a.f(3))
		}},
		{"SGD", "velocity", func(a args) error {
			return a.b.SGD(a.f(3, 4), a.f(3, 4), a.f(4, 3), sgd)
		}},
		{"SGD", "grad", func(a args) error {
			return a.b.SGD(a.f(3, 4), a.f(12), a.f(3, 4), sgd)
		}},
		{"Adam", "m", func(a args) error {
			return a.b.Adam(a.f(3, 4), a.f(3, 4), a.f(3, 5), a.f(3, 4), adam, 1)
		}},
		{"Adam", "v", func(a args) error {
			return a.b.Adam(a.f(3, 4), a.f(3, 4), a.f(3, 4), a.f(2, 4), adam, 1)
		}},
		{"Adam", "step", func(a args) error {
			return a.b.Adam(a.f(3, 4), a.f(3, 4), a.f(3, 4), a.f(3, 4), adam, 0)
		}},
	}
	var cases []Case
	count := map[string]int{}
	for _, row := range rows {
		name := "bad_" + row.arg
		if count[row.op+name]++; count[row.op+name] > 1 {
			name = fmt.Sprintf("%s_%d", name, count[row.op+name])
		}
		cases = append(cases, Case{row.op, name, func(t T, b kernels.Backend, _ Tolerance) {
			err := callRecovering(func() error { return row.call(args{t, b}) })
			if errors.Is(err, kernels.ErrNotImplemented) {
				t.Skipf("%s%v", missingPrefix, err)
			}
			checkRefused(t, err, row.op, row.arg)
		}})
	}
	return cases
}

// args makes an argument case's tensors on the backend under test.
type args struct {
	t T
	b kernels.Backend
}

// f and i are float32 and int32 tensors of the given shape, contents undefined.
func (a args) f(shape ...int) *tensor.Tensor { return a.alloc(tensor.Float32, shape) }
func (a args) i(shape ...int) *tensor.Tensor { return a.alloc(tensor.Int32, shape) }

func (a args) alloc(dtype tensor.DType, shape []int) *tensor.Tensor {
	dev, err := a.b.Alloc(dtype, shape...)
	if err != nil {
		a.t.Fatalf("Alloc %s %v: %v", dtype, shape, err)
	}
	return dev
}

// labels is an int32 [len(v)] tensor holding v.
func (a args) labels(v ...int32) *tensor.Tensor { return Upload(a.t, a.b, Int32Tensor(v, len(v))) }

// checkRefused fails unless err is the contract's refusal of op's argument arg: a
// *tensor.ShapeError or *kernels.ArgError naming both, or at least (for a backend that still
// has a check of its own, such as tensor.Check's "missing") an error that starts with
// "op: arg ", as both of those do.
func checkRefused(t T, err error, op, arg string) {
	t.Helper()
	var shapeErr *tensor.ShapeError
	var argErr *kernels.ArgError
	switch {
	case err == nil:
		t.Errorf("%s accepted a bad %s", op, arg)
	case errors.As(err, &shapeErr):
		if shapeErr.Op != op || shapeErr.Name != arg {
			t.Errorf("error %q names op %q and argument %q, want %q and %q", err, shapeErr.Op, shapeErr.Name, op, arg)
		}
	case errors.As(err, &argErr):
		if argErr.Op != op || argErr.Arg != arg {
			t.Errorf("error %q names op %q and argument %q, want %q and %q", err, argErr.Op, argErr.Arg, op, arg)
		}
	case !strings.HasPrefix(err.Error(), op+": "+arg+" "):
		t.Errorf("got error %q (%T), want one from the op's rule naming %s and %s", err, err, op, arg)
	}
}

// callRecovering turns a panic in call into an error, so one broken op fails its own case.
func callRecovering(call func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return call()
}
