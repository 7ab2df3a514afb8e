package nn

import (
	"math"
	"sort"
	"testing"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// The end-to-end gradient check: Backward of the whole VGG-D (width 1/16, 32x32 input, 3
// classes, a batch of 2, dropout active under a fixed seed) against central differences of the
// loss, for elements of every parameter tensor and of the input.
//
// The backend is float32, and float32 differences cannot check a 16-layer ReLU network: the
// loss's rounding noise (~1e-6) over a step small enough to cross no ReLU or max-pool kink
// (~1e-5) is as large as the gradients. So the differences are taken of a float64 reference of
// the same forward pass (ref64: same weights, same dropout masks), with h = 1e-6, where both
// noise (~1e-10) and truncation error (O(h²)) vanish. The test first checks that the reference
// computes the same loss as the backend, so that it is the backend's function being
// differentiated.
//
// An element passes when |numeric - analytic| <= 1e-3 |analytic| + 1e-4 g, g being the largest
// gradient of its tensor: the analytic gradient comes out of float32 sums over thousands of
// terms, good to ~1e-5 relative to the tensor's scale. A backward that is wrong — a missing term,
// a wrong dropout mask, a transposed product — is off by far more (verified by breaking each
// layer's Backward in turn).
func TestGradientCheckEndToEnd(t *testing.T) { gradientCheck(t, tinyConfig(3)) }

// The same check of the batch-norm network, in training mode: the batch statistics couple
// the batch's images, so the reference's loss is the mean over the whole batch, as the
// backend's. A convolution's bias right before a batch norm has no effect at all (the mean is
// subtracted), so its true gradient is zero: there the test checks that both the analytic and
// the numeric gradient are negligible next to the convolution's weight gradient.
func TestGradientCheckEndToEndBatchNorm(t *testing.T) {
	cfg := tinyConfig(3)
	cfg.Arch = ArchVGGDBN
	gradientCheck(t, cfg)
}

func gradientCheck(t *testing.T, cfg Config) {
	b := openCPU(t)
	m, err := New(b, cfg, 11)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Release()
	const n = 2
	x, labels := randomBatch(t, b, cfg, n, 5)
	scaleForGradcheck(t, b, m, 13)
	m.SetTraining(true)
	m.Ctx.Step = 7

	// The backend's loss and gradients.
	xent := NewSoftmaxCrossEntropy(m.Ctx)
	logits, err := m.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	if err := xent.Forward(logits, labels); err != nil {
		t.Fatal(err)
	}
	var backendLoss float64
	for _, v := range download(t, b, xent.Loss) {
		backendLoss += float64(v) / n
	}
	dlogits, err := xent.Backward()
	if err != nil {
		t.Fatal(err)
	}
	dx, err := m.Backward(dlogits)
	if err != nil {
		t.Fatal(err)
	}

	ref, err := newRef64(b, m)
	if err != nil {
		t.Fatal(err)
	}
	hostLabels := tensor.New(tensor.Int32, n)
	if err := b.Download(hostLabels, labels); err != nil {
		t.Fatal(err)
	}
	x64 := toFloat64(download(t, b, x))
	refLoss := ref.loss(x64, n, hostLabels.Int32s())
	if math.Abs(refLoss-backendLoss) > 1e-5*math.Max(1, refLoss) {
		t.Fatalf("backend loss %.8g, float64 reference %.8g: the reference computes another function", backendLoss, refLoss)
	}
	t.Logf("loss %.6g (backend) %.6g (reference)", backendLoss, refLoss)

	type target struct {
		name     string
		values   []float64 // the reference's copy, perturbed in place
		analytic []float32
		// zeroScale, when not zero, marks a gradient that is zero by construction (a bias
		// before a batch norm): it is the scale both gradients must stay negligible against.
		zeroScale float64
	}
	var targets []target
	beforeBN := map[string]*Param{} // conv bias name -> that conv's weight
	for i, l := range m.CNN.Layers[:len(m.CNN.Layers)-1] {
		if conv, ok := l.(*Conv2D); ok {
			if _, bn := m.CNN.Layers[i+1].(*BatchNorm2D); bn {
				beforeBN[conv.Bias.Name] = conv.Weight
			}
		}
	}
	for _, p := range m.Params() {
		tg := target{name: p.Name, values: ref.params[p.Name], analytic: download(t, b, p.Grad)}
		if w := beforeBN[p.Name]; w != nil {
			for _, g := range download(t, b, w.Grad) {
				tg.zeroScale = math.Max(tg.zeroScale, math.Abs(float64(g)))
			}
		}
		targets = append(targets, tg)
	}
	targets = append(targets, target{name: "input", values: x64, analytic: download(t, b, dx)})

	const h = 1e-6
	failures, checked := 0, 0
	rng := tensor.NewRand(3)
	for _, tg := range targets {
		var scale float64
		for _, g := range tg.analytic {
			scale = math.Max(scale, math.Abs(float64(g)))
		}
		for _, i := range gradcheckSample(tg.analytic, 4, rng.IntN(len(tg.values))) {
			orig := tg.values[i]
			tg.values[i] = orig + h
			plus := ref.loss(x64, n, hostLabels.Int32s())
			tg.values[i] = orig - h
			minus := ref.loss(x64, n, hostLabels.Int32s())
			tg.values[i] = orig
			numeric := (plus - minus) / (2 * h)
			analytic := float64(tg.analytic[i])
			checked++
			if tg.zeroScale > 0 {
				if math.Abs(numeric) > 1e-4*tg.zeroScale || math.Abs(analytic) > 1e-4*tg.zeroScale {
					failures++
					t.Errorf("%s[%d]: gradient should vanish before a batch norm: analytic %.3g, numeric %.3g (weights' gradients reach %.3g)", tg.name, i, analytic, numeric, tg.zeroScale)
				}
				continue
			}
			if math.Abs(numeric-analytic) > 1e-3*math.Abs(analytic)+1e-4*scale {
				failures++
				t.Errorf("%s[%d]: analytic gradient %.7g, numeric %.7g", tg.name, i, analytic, numeric)
			}
		}
	}
	t.Logf("%d gradient elements in %d tensors checked, %d wrong", checked, len(targets), failures)
}

// gradcheckSample picks the k elements with the largest |gradient| and one more, extra (which
// may well have a zero gradient: a dead ReLU, a dropped unit).
func gradcheckSample(grad []float32, k, extra int) []int {
	idx := make([]int, len(grad))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return math.Abs(float64(grad[idx[a]])) > math.Abs(float64(grad[idx[b]])) })
	out := append([]int(nil), idx[:min(k, len(idx))]...)
	for _, i := range out {
		if i == extra {
			return out
		}
	}
	return append(out, extra)
}

// scaleForGradcheck redraws the weights with He's fan-in spread everywhere, std sqrt(2/fan_in),
// and small random biases: every layer's gradients are then of order one (the training init's
// 0.01 linear weights shrink the conv gradients to ~1e-5), and the bias gradients see non-zero
// biases.
//
// Batch norm's weights are drawn around 1, 1 + N(0, 0.1²), so that no channel is switched off.
func scaleForGradcheck(t *testing.T, b kernels.Backend, m *Model, seed uint64) {
	t.Helper()
	rng := tensor.NewRand(seed)
	bnWeight := map[*Param]bool{}
	for _, bn := range m.batchNorms {
		bnWeight[bn.Weight] = true
	}
	for _, p := range m.Params() {
		host := tensor.Zeros(p.Shape...)
		if bnWeight[p] {
			host.FillNormal(rng, 1, 0.1)
		} else if len(p.Shape) == 1 {
			host.FillNormal(rng, 0, 0.1)
		} else {
			host.FillNormal(rng, 0, math.Sqrt(2/float64(p.Shape[1:].Numel())))
		}
		if err := b.Upload(p.Value, host); err != nil {
			t.Fatal(err)
		}
	}
}
