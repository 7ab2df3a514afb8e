package kernels

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vgglab/vgg/tensor"
)

// f and i make host tensors for the rules: only their shape and type matter.
func f(shape ...int) *tensor.Tensor { return tensor.New(tensor.Float32, shape...) }
func i(shape ...int) *tensor.Tensor { return tensor.New(tensor.Int32, shape...) }

// refusedArg returns the op and argument an error from a rule names, from the two error types
// the rules return.
func refusedArg(err error) (op, arg string, ok bool) {
	var shapeErr *tensor.ShapeError
	if errors.As(err, &shapeErr) {
		return shapeErr.Op, shapeErr.Name, true
	}
	var argErr *ArgError
	if errors.As(err, &argErr) {
		return argErr.Op, argErr.Arg, true
	}
	return "", "", false
}

// TestShapeRules calls each op's rule with correct arguments (it must pass) and with one
// argument wrong at a time (it must refuse, naming the op and that argument).
func TestShapeRules(t *testing.T) {
	conv := Conv3x3
	strided := ConvParams{KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 1, PadH: 1}
	sgd := SGDConfig{LR: 0.1}
	adam := AdamConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	ignore := func(_ any, err error) error { return err }
	// Correct shapes: conv x [2,3,5,5], w [4,3,3,3], b [4], y [2,4,5,5]; the strided window
	// on x [2,3,5,5] gives y [2,4,3,4]. Linear x [2,5], w [3,5], b [3], y [2,3]. Losses: 2
	// samples of 5 classes. Batch norm x [2,3,4,5], per channel [3].
	cases := []struct {
		op, arg string // arg is "" for a correct call
		call    func() error
	}{
		{"Conv2D", "", func() error { return ignore(CheckConv2D(f(2, 4, 5, 5), f(2, 3, 5, 5), f(4, 3, 3, 3), f(4), conv)) }},
		{"Conv2D", "", func() error { return ignore(CheckConv2D(f(2, 4, 3, 4), f(2, 3, 5, 5), f(4, 3, 3, 2), f(4), strided)) }},
		{"Conv2D", "y", func() error { return ignore(CheckConv2D(f(2, 4, 5, 4), f(2, 3, 5, 5), f(4, 3, 3, 3), f(4), conv)) }},
		{"Conv2D", "w", func() error { return ignore(CheckConv2D(f(2, 4, 5, 5), f(2, 3, 5, 5), f(4, 2, 3, 3), f(4), conv)) }},
		{"Conv2D", "w", func() error { return ignore(CheckConv2D(f(2, 4, 5, 5), f(2, 3, 5, 5), f(4, 3, 5, 5), f(4), conv)) }},
		{"Conv2D", "b", func() error { return ignore(CheckConv2D(f(2, 4, 5, 5), f(2, 3, 5, 5), f(4, 3, 3, 3), f(5), conv)) }},
		{"Conv2D", "b", func() error { return ignore(CheckConv2D(f(2, 4, 5, 5), f(2, 3, 5, 5), f(4, 3, 3, 3), nil, conv)) }},
		{"Conv2D", "x", func() error { return ignore(CheckConv2D(f(2, 4, 5, 5), f(3, 5, 5), f(4, 3, 3, 3), f(4), conv)) }},
		{"Conv2D", "x", func() error { return ignore(CheckConv2D(f(2, 4, 5, 5), i(2, 3, 5, 5), f(4, 3, 3, 3), f(4), conv)) }},
		{"Conv2D", "x", func() error { return ignore(CheckConv2D(f(2, 4, 5, 5), nil, f(4, 3, 3, 3), f(4), conv)) }},
		{"Conv2D", "x", func() error {
			return ignore(CheckConv2D(f(1, 4, 1, 1), f(1, 3, 1, 1), f(4, 3, 5, 5), f(4), ConvParams{KernelH: 5, KernelW: 5, StrideH: 1, StrideW: 1}))
		}},
		{"Conv2D", "params", func() error {
			return ignore(CheckConv2D(f(2, 4, 5, 5), f(2, 3, 5, 5), f(4, 3, 3, 3), f(4), ConvParams{KernelH: 3, KernelW: 3}))
		}},
		{"Conv2DBackwardData", "", func() error {
			return ignore(CheckConv2DBackwardData(f(2, 3, 5, 5), f(2, 4, 5, 5), f(4, 3, 3, 3), conv))
		}},
		{"Conv2DBackwardData", "dy", func() error {
			return ignore(CheckConv2DBackwardData(f(2, 3, 5, 5), f(2, 5, 5, 5), f(4, 3, 3, 3), conv))
		}},
		{"Conv2DBackwardData", "dx", func() error { return ignore(CheckConv2DBackwardData(f(2, 3, 5), f(2, 4, 5, 5), f(4, 3, 3, 3), conv)) }},
		{"Conv2DBackwardData", "w", func() error { return ignore(CheckConv2DBackwardData(f(2, 3, 5, 5), f(2, 4, 5, 5), f(4, 3, 3), conv)) }},
		{"Conv2DBackwardFilter", "", func() error {
			return ignore(CheckConv2DBackwardFilter(f(4, 3, 3, 3), f(4), f(2, 3, 5, 5), f(2, 4, 5, 5), conv))
		}},
		{"Conv2DBackwardFilter", "", func() error { // db is optional
			return ignore(CheckConv2DBackwardFilter(f(4, 3, 3, 3), nil, f(2, 3, 5, 5), f(2, 4, 5, 5), conv))
		}},
		{"Conv2DBackwardFilter", "dw", func() error {
			return ignore(CheckConv2DBackwardFilter(f(4, 2, 3, 3), f(4), f(2, 3, 5, 5), f(2, 4, 5, 5), conv))
		}},
		{"Conv2DBackwardFilter", "db", func() error {
			return ignore(CheckConv2DBackwardFilter(f(4, 3, 3, 3), f(3), f(2, 3, 5, 5), f(2, 4, 5, 5), conv))
		}},
		{"Conv2DBackwardFilter", "db", func() error {
			return ignore(CheckConv2DBackwardFilter(f(4, 3, 3, 3), i(4), f(2, 3, 5, 5), f(2, 4, 5, 5), conv))
		}},
		{"Conv2DBackwardFilter", "dy", func() error {
			return ignore(CheckConv2DBackwardFilter(f(4, 3, 3, 3), f(4), f(2, 3, 5, 5), f(2, 4, 3, 3), conv))
		}},
		{"ReLU", "", func() error { return CheckReLU(f(3, 4), f(3, 4)) }},
		{"ReLU", "y", func() error { return CheckReLU(f(4, 3), f(3, 4)) }},
		{"ReLU", "x", func() error { return CheckReLU(f(3, 4), nil) }},
		{"ReLU", "x", func() error { return CheckReLU(f(3, 4), i(3, 4)) }},
		{"ReLUBackward", "", func() error { return CheckReLUBackward(f(3, 4), f(3, 4), f(3, 4)) }},
		{"ReLUBackward", "dy", func() error { return CheckReLUBackward(f(3, 4), f(3, 5), f(3, 4)) }},
		{"ReLUBackward", "dx", func() error { return CheckReLUBackward(f(12), f(3, 4), f(3, 4)) }},
		{"ReLUBackward", "y", func() error { return CheckReLUBackward(f(3, 4), f(3, 4), nil) }},
		{"MaxPool2x2", "", func() error { return ignore(CheckMaxPool2x2(f(1, 2, 2, 3), i(1, 2, 2, 3), f(1, 2, 4, 6))) }},
		{"MaxPool2x2", "y", func() error { return ignore(CheckMaxPool2x2(f(1, 2, 3, 4), i(1, 2, 2, 2), f(1, 2, 4, 4))) }},
		{"MaxPool2x2", "argmax", func() error { return ignore(CheckMaxPool2x2(f(1, 2, 2, 2), i(1, 2, 2, 3), f(1, 2, 4, 4))) }},
		{"MaxPool2x2", "argmax", func() error { return ignore(CheckMaxPool2x2(f(1, 2, 2, 2), f(1, 2, 2, 2), f(1, 2, 4, 4))) }},
		{"MaxPool2x2", "x", func() error { return ignore(CheckMaxPool2x2(f(1, 2, 2, 2), i(1, 2, 2, 2), f(1, 2, 5, 4))) }},
		{"MaxPool2x2Backward", "", func() error { return ignore(CheckMaxPool2x2Backward(f(1, 2, 4, 4), f(1, 2, 2, 2), i(1, 2, 2, 2))) }},
		{"MaxPool2x2Backward", "dy", func() error { return ignore(CheckMaxPool2x2Backward(f(1, 2, 4, 4), f(1, 2, 2, 3), i(1, 2, 2, 2))) }},
		{"MaxPool2x2Backward", "argmax", func() error { return ignore(CheckMaxPool2x2Backward(f(1, 2, 4, 4), f(1, 2, 2, 2), i(1, 1, 2, 2))) }},
		{"MaxPool2x2Backward", "dx", func() error { return ignore(CheckMaxPool2x2Backward(f(1, 2, 4, 3), f(1, 2, 2, 1), i(1, 2, 2, 1))) }},
		{"Dropout", "", func() error { return CheckDropout(f(5), f(5), 0.5) }},
		{"Dropout", "y", func() error { return CheckDropout(f(5), f(6), 0.5) }},
		{"Dropout", "p", func() error { return CheckDropout(f(5), f(5), 1) }},
		{"Dropout", "p", func() error { return CheckDropout(f(5), f(5), -0.1) }},
		{"DropoutBackward", "", func() error { return CheckDropoutBackward(f(2, 3), f(2, 3), 0) }},
		{"DropoutBackward", "dx", func() error { return CheckDropoutBackward(f(2, 3), f(3, 2), 0.5) }},
		{"DropoutBackward", "dy", func() error { return CheckDropoutBackward(f(2, 3), nil, 0.5) }},
		{"Linear", "", func() error { return ignore(CheckLinear(f(2, 3), f(2, 5), f(3, 5), f(3))) }},
		{"Linear", "w", func() error { return ignore(CheckLinear(f(2, 3), f(2, 5), f(3, 4), f(3))) }},
		{"Linear", "y", func() error { return ignore(CheckLinear(f(2, 4), f(2, 5), f(3, 5), f(3))) }},
		{"Linear", "b", func() error { return ignore(CheckLinear(f(2, 3), f(2, 5), f(3, 5), f(2))) }},
		{"Linear", "b", func() error { return ignore(CheckLinear(f(2, 3), f(2, 5), f(3, 5), nil)) }},
		{"Linear", "x", func() error { return ignore(CheckLinear(f(2, 3), f(10), f(3, 5), f(3))) }},
		{"LinearBackward", "", func() error { return ignore(CheckLinearBackward(f(2, 5), f(3, 5), f(3), f(2, 3), f(2, 5), f(3, 5))) }},
		{"LinearBackward", "", func() error { return ignore(CheckLinearBackward(nil, f(3, 5), nil, f(2, 3), f(2, 5), f(3, 5))) }},
		{"LinearBackward", "dw", func() error { return ignore(CheckLinearBackward(f(2, 5), f(5, 3), f(3), f(2, 3), f(2, 5), f(3, 5))) }},
		{"LinearBackward", "dx", func() error { return ignore(CheckLinearBackward(f(2, 4), f(3, 5), f(3), f(2, 3), f(2, 5), f(3, 5))) }},
		{"LinearBackward", "dy", func() error { return ignore(CheckLinearBackward(nil, f(3, 5), nil, f(3, 3), f(2, 5), f(3, 5))) }},
		{"LinearBackward", "db", func() error { return ignore(CheckLinearBackward(nil, f(3, 5), f(2), f(2, 3), f(2, 5), f(3, 5))) }},
		{"SoftmaxCrossEntropy", "", func() error { return ignore(CheckSoftmaxCrossEntropy(f(2, 5), f(2), f(2, 5), i(2))) }},
		{"SoftmaxCrossEntropy", "probs", func() error { return ignore(CheckSoftmaxCrossEntropy(f(2, 4), f(2), f(2, 5), i(2))) }},
		{"SoftmaxCrossEntropy", "loss", func() error { return ignore(CheckSoftmaxCrossEntropy(f(2, 5), f(3), f(2, 5), i(2))) }},
		{"SoftmaxCrossEntropy", "labels", func() error { return ignore(CheckSoftmaxCrossEntropy(f(2, 5), f(2), f(2, 5), i(3))) }},
		{"SoftmaxCrossEntropy", "labels", func() error { return ignore(CheckSoftmaxCrossEntropy(f(2, 5), f(2), f(2, 5), f(2))) }},
		{"SoftmaxCrossEntropy", "logits", func() error { return ignore(CheckSoftmaxCrossEntropy(f(2, 5), f(2), f(10), i(2))) }},
		{"SoftmaxCrossEntropyBackward", "", func() error { return ignore(CheckSoftmaxCrossEntropyBackward(f(2, 5), f(2, 5), i(2))) }},
		{"SoftmaxCrossEntropyBackward", "dlogits", func() error { return ignore(CheckSoftmaxCrossEntropyBackward(f(2, 4), f(2, 5), i(2))) }},
		{"SoftmaxCrossEntropyBackward", "labels", func() error { return ignore(CheckSoftmaxCrossEntropyBackward(f(2, 5), f(2, 5), nil)) }},
		{"AccumulateStats", "", func() error { return ignore(CheckAccumulateStats(f(3), f(2), f(2, 5), i(2))) }},
		{"AccumulateStats", "stats", func() error { return ignore(CheckAccumulateStats(f(4), f(2), f(2, 5), i(2))) }},
		{"AccumulateStats", "loss", func() error { return ignore(CheckAccumulateStats(f(3), f(3), f(2, 5), i(2))) }},
		{"AccumulateStats", "probs", func() error { return ignore(CheckAccumulateStats(f(3), f(2), i(2, 5), i(2))) }},
		{"BatchNormTrain", "", func() error {
			return ignore(CheckBatchNormTrain(f(2, 3, 4, 5), f(3), f(3), f(3), f(3), f(2, 3, 4, 5), f(3), f(3), 0.1, 1e-5))
		}},
		{"BatchNormTrain", "y", func() error {
			return ignore(CheckBatchNormTrain(f(2, 3, 5, 4), f(3), f(3), f(3), f(3), f(2, 3, 4, 5), f(3), f(3), 0.1, 1e-5))
		}},
		{"BatchNormTrain", "runVar", func() error {
			return ignore(CheckBatchNormTrain(f(2, 3, 4, 5), f(3), f(3), f(3), f(4), f(2, 3, 4, 5), f(3), f(3), 0.1, 1e-5))
		}},
		{"BatchNormTrain", "x", func() error {
			return ignore(CheckBatchNormTrain(f(2, 3, 20), f(3), f(3), f(3), f(3), f(2, 3, 20), f(3), f(3), 0.1, 1e-5))
		}},
		{"BatchNormTrain", "x", func() error { // one value per channel has no variance
			return ignore(CheckBatchNormTrain(f(1, 3, 1, 1), f(3), f(3), f(3), f(3), f(1, 3, 1, 1), f(3), f(3), 0.1, 1e-5))
		}},
		{"BatchNormTrain", "momentum", func() error {
			return ignore(CheckBatchNormTrain(f(2, 3, 4, 5), f(3), f(3), f(3), f(3), f(2, 3, 4, 5), f(3), f(3), 1.5, 1e-5))
		}},
		{"BatchNormTrain", "eps", func() error {
			return ignore(CheckBatchNormTrain(f(2, 3, 4, 5), f(3), f(3), f(3), f(3), f(2, 3, 4, 5), f(3), f(3), 0.1, 0))
		}},
		{"BatchNormEval", "", func() error {
			return ignore(CheckBatchNormEval(f(1, 3, 1, 1), f(1, 3, 1, 1), f(3), f(3), f(3), f(3), 1e-5))
		}},
		{"BatchNormEval", "gamma", func() error {
			return ignore(CheckBatchNormEval(f(2, 3, 4, 5), f(2, 3, 4, 5), f(2), f(3), f(3), f(3), 1e-5))
		}},
		{"BatchNormEval", "y", func() error {
			return ignore(CheckBatchNormEval(f(2, 3, 4, 4), f(2, 3, 4, 5), f(3), f(3), f(3), f(3), 1e-5))
		}},
		{"BatchNormEval", "runMean", func() error {
			return ignore(CheckBatchNormEval(f(2, 3, 4, 5), f(2, 3, 4, 5), f(3), f(3), nil, f(3), 1e-5))
		}},
		{"BatchNormBackward", "", func() error {
			return ignore(CheckBatchNormBackward(f(2, 3, 4, 5), f(3), f(3), f(2, 3, 4, 5), f(2, 3, 4, 5), f(3), f(3), f(3)))
		}},
		{"BatchNormBackward", "dy", func() error {
			return ignore(CheckBatchNormBackward(f(2, 3, 4, 5), f(3), f(3), f(1, 3, 4, 5), f(2, 3, 4, 5), f(3), f(3), f(3)))
		}},
		{"BatchNormBackward", "dbeta", func() error {
			return ignore(CheckBatchNormBackward(f(2, 3, 4, 5), f(3), f(5), f(2, 3, 4, 5), f(2, 3, 4, 5), f(3), f(3), f(3)))
		}},
		{"SGD", "", func() error { return CheckSGD(f(3, 4), f(3, 4), f(3, 4), sgd) }},
		{"SGD", "velocity", func() error { return CheckSGD(f(3, 4), f(3, 4), f(4, 3), sgd) }},
		{"SGD", "grad", func() error { return CheckSGD(f(3, 4), f(12), f(3, 4), sgd) }},
		{"SGD", "param", func() error { return CheckSGD(nil, f(12), f(3, 4), sgd) }},
		{"Adam", "", func() error { return CheckAdam(f(3, 4), f(3, 4), f(3, 4), f(3, 4), adam, 1) }},
		{"Adam", "m", func() error { return CheckAdam(f(3, 4), f(3, 4), f(3, 5), f(3, 4), adam, 1) }},
		{"Adam", "v", func() error { return CheckAdam(f(3, 4), f(3, 4), f(3, 4), f(2, 4), adam, 1) }},
		{"Adam", "step", func() error { return CheckAdam(f(3, 4), f(3, 4), f(3, 4), f(3, 4), adam, 0) }},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		want := tc.arg
		if want == "" {
			want = "ok"
		}
		t.Run(tc.op+"/"+want, func(t *testing.T) {
			err := tc.call()
			if tc.arg == "" {
				if err != nil {
					t.Errorf("refused a correct call: %v", err)
				}
				return
			}
			op, arg, ok := refusedArg(err)
			switch {
			case err == nil:
				t.Errorf("accepted a wrong %s", tc.arg)
			case !ok:
				t.Errorf("error %q (%T) is neither a *tensor.ShapeError nor an *ArgError", err, err)
			case op != tc.op || arg != tc.arg:
				t.Errorf("error %q names op %q and argument %q, want %q and %q", err, op, arg, tc.op, tc.arg)
			case !strings.HasPrefix(err.Error(), tc.op+": "+tc.arg+" "):
				t.Errorf("error %q does not start with the op and the argument", err)
			}
		})
		if tc.arg != "" {
			covered[tc.op] = true
		}
	}
	for _, op := range Ops {
		if !covered[op] {
			t.Errorf("no case refuses a wrong argument of %s", op)
		}
	}
}

func TestCheckLabels(t *testing.T) {
	if err := CheckLabels("SoftmaxCrossEntropy", []int32{0, 4, 2}, 5); err != nil {
		t.Errorf("labels in range: %v", err)
	}
	for _, labels := range [][]int32{{0, 5, 1}, {-1}} {
		err := CheckLabels("SoftmaxCrossEntropy", labels, 5)
		if op, arg, _ := refusedArg(err); op != "SoftmaxCrossEntropy" || arg != "labels" {
			t.Errorf("labels %v: error %v, want one naming SoftmaxCrossEntropy and labels", labels, err)
		}
	}
}

// TestOpsAreTheContract keeps Ops in step with the Backend interface: the same set of names
// as its methods less the memory and housekeeping ones.
func TestOpsAreTheContract(t *testing.T) {
	housekeeping := []string{"Name", "Describe", "Alloc", "Upload", "Download", "Copy", "Fill", "Sync", "Close"}
	var want []string
	backend := reflect.TypeFor[Backend]()
	for m := range backend.Methods() {
		if !slices.Contains(housekeeping, m.Name) {
			want = append(want, m.Name)
		}
	}
	got := slices.Sorted(slices.Values(Ops))
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Ops is %v; the Backend interface's compute ops are %v", got, want)
	}
}
