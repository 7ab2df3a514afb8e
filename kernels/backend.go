// Package kernels defines the operations the network is made of, as a contract that every
// backend implements: kernels/cpu (gonum, the reference) and kernels/cuda (hand-written CUDA,
// build tag "cuda"). nn/ is written against Backend alone, so it never knows which one runs.
//
// Conventions shared by every op:
//   - Images are NCHW float32; convolution weights are [K, C, R, S] and linear weights are
//     [Out, In], exactly as PyTorch lays them out, so checkpoints move between the two.
//   - Outputs come first in the argument list and are overwritten, never accumulated:
//     gradients included (there is no zero_grad). An output must not alias an input unless
//     the op says it may.
//   - Every tensor passed to a backend was allocated by that backend (Alloc) or filled by its
//     Upload; every op checks its arguments with its rule in shapes.go (CheckConv2D, ...),
//     so all backends refuse the same calls: a wrong shape with a *tensor.ShapeError, any
//     other bad argument with an *ArgError, both naming the op and the argument.
//   - Ops may run asynchronously (CUDA queues them on a stream); Download and Sync wait. An
//     error from an earlier op may surface at a later call; it always names the op.
package kernels

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/vgglab/vgg/tensor"
)

// ConvParams describes a 2-D convolution's window: kernel size, stride and zero padding.
type ConvParams struct {
	KernelH, KernelW int
	StrideH, StrideW int
	PadH, PadW       int
}

// Conv3x3 is the seed's convolution: 3x3, stride 1, pad 1 (output size equals input size).
var Conv3x3 = ConvParams{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}

// OutSize is the output height and width for an input of h x w.
func (p ConvParams) OutSize(h, w int) (int, int) {
	return (h+2*p.PadH-p.KernelH)/p.StrideH + 1, (w+2*p.PadW-p.KernelW)/p.StrideW + 1
}

// Validate rejects windows that make no sense.
func (p ConvParams) Validate() error {
	if p.KernelH < 1 || p.KernelW < 1 || p.StrideH < 1 || p.StrideW < 1 || p.PadH < 0 || p.PadW < 0 {
		return fmt.Errorf("conv: invalid window %+v", p)
	}
	return nil
}

// SGDConfig is PyTorch's torch.optim.SGD: g = grad + WeightDecay*param;
// v = Momentum*v + g; param -= LR*v (with Nesterov: param -= LR*(g + Momentum*v)).
type SGDConfig struct {
	LR, Momentum, WeightDecay float32
	Nesterov                  bool
}

// AdamConfig is PyTorch's torch.optim.Adam (or AdamW when Decoupled): with g = grad
// (+ WeightDecay*param unless Decoupled), m = B1*m + (1-B1)*g, v = B2*v + (1-B2)*g²,
// param -= LR * (m/(1-B1^t)) / (sqrt(v/(1-B2^t)) + Eps), and when Decoupled also
// param -= LR*WeightDecay*param before that. Step t counts from 1.
type AdamConfig struct {
	LR, Beta1, Beta2, Eps, WeightDecay float32
	Decoupled                          bool
}

// Backend is everything nn/ needs from a compute device.
type Backend interface {
	// Name is "cpu" or "cuda"; Describe says more (device name, threads).
	Name() string
	Describe() string

	// Alloc returns a tensor on this backend; its contents are undefined.
	Alloc(dtype tensor.DType, shape ...int) (*tensor.Tensor, error)
	// Upload copies a host tensor into a backend tensor of the same shape and type.
	Upload(dst, src *tensor.Tensor) error
	// Download copies a backend tensor into a host tensor of the same shape and type; it
	// waits for the work that produces src.
	Download(dst, src *tensor.Tensor) error
	// Copy copies between two tensors of this backend with equal element counts.
	Copy(dst, src *tensor.Tensor) error
	// Fill sets every element of a float32 tensor to v.
	Fill(t *tensor.Tensor, v float32) error
	// Sync waits until all queued work is done and returns the first error it met.
	Sync() error
	// Close releases the backend's memory and device; tensors it made are invalid after.
	Close() error

	// Conv2D: y[N,K,P,Q] = Σ_{c,r,s} x[N,C,H,W] (zero-padded) * w[K,C,R,S] + b[K]; b is
	// required (every layer of the network has one).
	Conv2D(y, x, w, b *tensor.Tensor, p ConvParams) error
	// Conv2DBackwardData: dx[N,C,H,W] = gradient of the loss through the convolution.
	Conv2DBackwardData(dx, dy, w *tensor.Tensor, p ConvParams) error
	// Conv2DBackwardFilter: dw[K,C,R,S] and db[K] (db may be nil) from x and dy, summed over
	// the batch.
	Conv2DBackwardFilter(dw, db, x, dy *tensor.Tensor, p ConvParams) error

	// ReLU: y = max(x, 0). y may alias x (in place).
	ReLU(y, x *tensor.Tensor) error
	// ReLUBackward: dx = dy where y > 0, else 0. dx may alias dy.
	ReLUBackward(dx, dy, y *tensor.Tensor) error

	// MaxPool2x2: y[N,C,H/2,W/2] is the max of each 2x2 window (stride 2, H and W even);
	// argmax (int32, y's shape) records which input of the window won, as the offset h*W+w
	// within its input plane. Ties go to the first in row-major order.
	MaxPool2x2(y, argmax, x *tensor.Tensor) error
	// MaxPool2x2Backward: dx[N,C,H,W] is dy routed to each window's argmax, zero elsewhere.
	MaxPool2x2Backward(dx, dy, argmax *tensor.Tensor) error

	// Dropout: inverted dropout, y_i = x_i/(1-p) when DropoutKeep(seed, i, p), else 0, with i
	// the flat element index. y may alias x. Eval mode does not call it (identity).
	Dropout(y, x *tensor.Tensor, p float32, seed uint64) error
	// DropoutBackward: dx_i = dy_i/(1-p) for the same kept elements, else 0. dx may alias dy.
	DropoutBackward(dx, dy *tensor.Tensor, p float32, seed uint64) error

	// Linear: y[N,Out] = x[N,In] · w[Out,In]ᵀ + b[Out]; b is required.
	Linear(y, x, w, b *tensor.Tensor) error
	// LinearBackward: dx = dy·w (skipped when dx is nil), dw = dyᵀ·x, db = Σ_n dy (skipped
	// when db is nil).
	LinearBackward(dx, dw, db, dy, x, w *tensor.Tensor) error

	// SoftmaxCrossEntropy: probs[N,C] = softmax(logits) and loss[N] = -log probs[n, label_n],
	// computed with log-sum-exp so logits of 1e4 stay finite. labels are int32 [N], each in
	// [0, C): a label outside is an error (CheckLabels) on every backend, as in the two ops
	// below.
	SoftmaxCrossEntropy(probs, loss, logits, labels *tensor.Tensor) error
	// SoftmaxCrossEntropyBackward: dlogits = (probs - onehot(labels)) / N, the gradient of the
	// batch-mean loss.
	SoftmaxCrossEntropyBackward(dlogits, probs, labels *tensor.Tensor) error
	// AccumulateStats adds the batch's metrics into a float32 [3] tensor that stays on the
	// backend across steps: stats[0] += Σ loss, stats[1] += #(argmax probs == label),
	// stats[2] += N. Training reads it back once in a while, not at every step.
	AccumulateStats(stats, loss, probs, labels *tensor.Tensor) error

	// BatchNormTrain is PyTorch's BatchNorm2d in training mode on x [N,C,H,W], with
	// statistics per channel c over the n = N·H·W values of that channel: mean, the biased
	// variance var, invstd = 1/sqrt(var + eps) and y = gamma·(x − mean)·invstd + beta. It
	// writes mean and invstd into saveMean and saveInvStd [C] for BatchNormBackward and
	// updates the running statistics [C] in place: runMean = (1−momentum)·runMean +
	// momentum·mean, runVar = (1−momentum)·runVar + momentum·var·n/(n−1) (unbiased). n = 1
	// is an error, as in PyTorch: one value has no variance. y may alias x.
	BatchNormTrain(y, saveMean, saveInvStd, runMean, runVar, x, gamma, beta *tensor.Tensor, momentum, eps float32) error
	// BatchNormEval is BatchNorm2d in evaluation mode: y = gamma·(x − runMean)/sqrt(runVar +
	// eps) + beta, per channel; nothing is updated. y may alias x.
	BatchNormEval(y, x, gamma, beta, runMean, runVar *tensor.Tensor, eps float32) error
	// BatchNormBackward is the training-mode gradient (the batch statistics depend on x):
	// with xhat = (x − saveMean)·saveInvStd and sums over each channel's n values,
	// dgamma = Σ dy·xhat, dbeta = Σ dy and dx = gamma·invstd/n·(n·dy − Σ dy − xhat·Σ dy·xhat).
	// dx may alias dy.
	BatchNormBackward(dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd *tensor.Tensor) error

	// SGD updates param and velocity in place from grad.
	SGD(param, grad, velocity *tensor.Tensor, cfg SGDConfig) error
	// Adam updates param, m and v in place from grad; step counts from 1.
	Adam(param, grad, m, v *tensor.Tensor, cfg AdamConfig, step int) error
}

// ConvBackward is an op a Backend may add: both gradients of a convolution in one call, bit
// for bit what Conv2DBackwardData and Conv2DBackwardFilter give, so that what the two share
// (reading dy) is done once. nn uses it where the backend has it; a backend without it loses
// nothing but that sharing.
type ConvBackward interface {
	// Conv2DBackward: dx as Conv2DBackwardData, dw and db (db may be nil) as
	// Conv2DBackwardFilter.
	Conv2DBackward(dx, dw, db, x, dy, w *tensor.Tensor, p ConvParams) error
}

// ErrNotImplemented is wrapped by the error of an op a backend has no kernel for yet, so that
// callers and the conformance suite can tell "missing" from "wrong".
var ErrNotImplemented = errors.New("not implemented on this backend")

var (
	registryMu sync.Mutex
	registry   = map[string]func() (Backend, error){}
	missing    = map[string]string{}
)

// Register makes a backend available under name; backends call it from init.
func Register(name string, open func() (Backend, error)) {
	registryMu.Lock()
	defer registryMu.Unlock()
	registry[name] = open
}

// RegisterMissing records why a backend is not in this build, for Open to say.
func RegisterMissing(name, why string) {
	registryMu.Lock()
	defer registryMu.Unlock()
	missing[name] = why
}

// Open starts the backend registered under name ("cpu", "cuda").
func Open(name string) (Backend, error) {
	registryMu.Lock()
	open, ok := registry[name]
	why := missing[name]
	registryMu.Unlock()
	if !ok {
		if why != "" {
			return nil, fmt.Errorf("device %q: %s", name, why)
		}
		return nil, fmt.Errorf("device %q is unknown; this build has %v", name, Names())
	}
	return open()
}

// Names lists the backends this build can open.
func Names() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	var names []string
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
