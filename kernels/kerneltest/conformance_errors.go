package kerneltest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// testShapeErrors calls every op with one tensor of the wrong shape and expects a
// *tensor.ShapeError back: not a panic, not a silent write out of bounds.
func testShapeErrors(t *testing.T, b kernels.Backend) {
	f := func(shape ...int) *tensor.Tensor {
		dev, err := b.Alloc(tensor.Float32, shape...)
		if err != nil {
			t.Fatalf("Alloc %v: %v", shape, err)
		}
		return dev
	}
	i := func(shape ...int) *tensor.Tensor {
		dev, err := b.Alloc(tensor.Int32, shape...)
		if err != nil {
			t.Fatalf("Alloc int32 %v: %v", shape, err)
		}
		return dev
	}
	conv := kernels.Conv3x3
	sgd := kernels.SGDConfig{LR: 0.1}
	adam := kernels.AdamConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	// Correct shapes for reference: x [2,3,5,5], w [4,3,3,3], b [4], y [2,4,5,5].
	cases := []struct {
		name string
		call func() error
	}{
		{"Conv2D y", func() error { return b.Conv2D(f(2, 4, 5, 4), f(2, 3, 5, 5), f(4, 3, 3, 3), f(4), conv) }},
		{"Conv2D w channels", func() error { return b.Conv2D(f(2, 4, 5, 5), f(2, 3, 5, 5), f(4, 2, 3, 3), f(4), conv) }},
		{"Conv2D w window", func() error { return b.Conv2D(f(2, 4, 5, 5), f(2, 3, 5, 5), f(4, 3, 5, 5), f(4), conv) }},
		{"Conv2D b", func() error { return b.Conv2D(f(2, 4, 5, 5), f(2, 3, 5, 5), f(4, 3, 3, 3), f(5), conv) }},
		{"Conv2D x rank", func() error { return b.Conv2D(f(2, 4, 5, 5), f(3, 5, 5), f(4, 3, 3, 3), f(4), conv) }},
		{"Conv2DBackwardData dy", func() error { return b.Conv2DBackwardData(f(2, 3, 5, 5), f(2, 5, 5, 5), f(4, 3, 3, 3), conv) }},
		{"Conv2DBackwardData dx", func() error { return b.Conv2DBackwardData(f(1, 3, 5, 5), f(2, 4, 5, 5), f(4, 3, 3, 3), conv) }},
		{"Conv2DBackwardFilter dw", func() error {
			return b.Conv2DBackwardFilter(f(4, 2, 3, 3), f(4), f(2, 3, 5, 5), f(2, 4, 5, 5), conv)
		}},
		{"Conv2DBackwardFilter db", func() error {
			return b.Conv2DBackwardFilter(f(4, 3, 3, 3), f(3), f(2, 3, 5, 5), f(2, 4, 5, 5), conv)
		}},
		{"Conv2DBackwardFilter dy", func() error {
			return b.Conv2DBackwardFilter(f(4, 3, 3, 3), f(4), f(2, 3, 5, 5), f(2, 4, 3, 3), conv)
		}},
		{"ReLU", func() error { return b.ReLU(f(3, 4), f(4, 3)) }},
		{"ReLUBackward dy", func() error { return b.ReLUBackward(f(3, 4), f(3, 5), f(3, 4)) }},
		{"ReLUBackward dx", func() error { return b.ReLUBackward(f(12), f(3, 4), f(3, 4)) }},
		{"MaxPool2x2 y", func() error { return b.MaxPool2x2(f(1, 2, 3, 4), i(1, 2, 2, 2), f(1, 2, 4, 4)) }},
		{"MaxPool2x2 argmax", func() error { return b.MaxPool2x2(f(1, 2, 2, 2), i(1, 2, 2, 3), f(1, 2, 4, 4)) }},
		{"MaxPool2x2Backward dy", func() error { return b.MaxPool2x2Backward(f(1, 2, 4, 4), f(1, 2, 2, 3), i(1, 2, 2, 2)) }},
		{"MaxPool2x2Backward argmax", func() error { return b.MaxPool2x2Backward(f(1, 2, 4, 4), f(1, 2, 2, 2), i(1, 1, 2, 2)) }},
		{"Dropout", func() error { return b.Dropout(f(5), f(6), 0.5, 1) }},
		{"DropoutBackward", func() error { return b.DropoutBackward(f(2, 3), f(3, 2), 0.5, 1) }},
		{"Linear w", func() error { return b.Linear(f(2, 3), f(2, 5), f(3, 4), f(3)) }},
		{"Linear y", func() error { return b.Linear(f(2, 4), f(2, 5), f(3, 5), f(3)) }},
		{"Linear b", func() error { return b.Linear(f(2, 3), f(2, 5), f(3, 5), f(2)) }},
		{"LinearBackward dw", func() error { return b.LinearBackward(f(2, 5), f(5, 3), f(3), f(2, 3), f(2, 5), f(3, 5)) }},
		{"LinearBackward dx", func() error { return b.LinearBackward(f(2, 4), f(3, 5), f(3), f(2, 3), f(2, 5), f(3, 5)) }},
		{"LinearBackward dy", func() error { return b.LinearBackward(nil, f(3, 5), nil, f(3, 3), f(2, 5), f(3, 5)) }},
		// Batch norm, correct shapes: x, y [2,3,4,5]; everything per channel [3].
		{"BatchNormTrain y", func() error {
			return b.BatchNormTrain(f(2, 3, 5, 4), f(3), f(3), f(3), f(3), f(2, 3, 4, 5), f(3), f(3), 0.1, 1e-5)
		}},
		{"BatchNormTrain runVar", func() error {
			return b.BatchNormTrain(f(2, 3, 4, 5), f(3), f(3), f(3), f(4), f(2, 3, 4, 5), f(3), f(3), 0.1, 1e-5)
		}},
		{"BatchNormTrain x rank", func() error {
			return b.BatchNormTrain(f(2, 3, 20), f(3), f(3), f(3), f(3), f(2, 3, 20), f(3), f(3), 0.1, 1e-5)
		}},
		{"BatchNormEval gamma", func() error { return b.BatchNormEval(f(2, 3, 4, 5), f(2, 3, 4, 5), f(2), f(3), f(3), f(3), 1e-5) }},
		{"BatchNormEval y", func() error { return b.BatchNormEval(f(2, 3, 4, 4), f(2, 3, 4, 5), f(3), f(3), f(3), f(3), 1e-5) }},
		{"BatchNormBackward dy", func() error {
			return b.BatchNormBackward(f(2, 3, 4, 5), f(3), f(3), f(1, 3, 4, 5), f(2, 3, 4, 5), f(3), f(3), f(3))
		}},
		{"BatchNormBackward dbeta", func() error {
			return b.BatchNormBackward(f(2, 3, 4, 5), f(3), f(5), f(2, 3, 4, 5), f(2, 3, 4, 5), f(3), f(3), f(3))
		}},
		{"SoftmaxCrossEntropy probs", func() error { return b.SoftmaxCrossEntropy(f(2, 4), f(2), f(2, 5), i(2)) }},
		{"SoftmaxCrossEntropy loss", func() error { return b.SoftmaxCrossEntropy(f(2, 5), f(3), f(2, 5), i(2)) }},
		{"SoftmaxCrossEntropy labels", func() error { return b.SoftmaxCrossEntropy(f(2, 5), f(2), f(2, 5), i(3)) }},
		{"SoftmaxCrossEntropyBackward", func() error { return b.SoftmaxCrossEntropyBackward(f(2, 4), f(2, 5), i(2)) }},
		{"AccumulateStats stats", func() error { return b.AccumulateStats(f(4), f(2), f(2, 5), i(2)) }},
		{"AccumulateStats loss", func() error { return b.AccumulateStats(f(3), f(3), f(2, 5), i(2)) }},
		{"SGD velocity", func() error { return b.SGD(f(3, 4), f(3, 4), f(4, 3), sgd) }},
		{"SGD grad", func() error { return b.SGD(f(3, 4), f(12), f(3, 4), sgd) }},
		{"Adam m", func() error { return b.Adam(f(3, 4), f(3, 4), f(3, 5), f(3, 4), adam, 1) }},
		{"Adam v", func() error { return b.Adam(f(3, 4), f(3, 4), f(3, 4), f(2, 4), adam, 1) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := callRecovering(tc.call)
			var shapeErr *tensor.ShapeError
			if !errors.As(err, &shapeErr) {
				t.Errorf("got error %v (%T), want a *tensor.ShapeError", err, err)
			}
		})
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
