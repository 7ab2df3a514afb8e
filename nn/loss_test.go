package nn

import (
	"math"
	"testing"

	"github.com/vgglab/vgg/tensor"
)

// mixedLoss64 is the float64 reference of mixup's loss: the batch mean of
// lambda*CE(z, label) + (1-lambda)*CE(z, partner).
func mixedLoss64(z []float64, n, c int, labels, partner []int32, lambda float64) float64 {
	total := 0.0
	for i := range n {
		row := z[i*c : (i+1)*c]
		m := math.Inf(-1)
		for _, v := range row {
			m = max(m, v)
		}
		sum := 0.0
		for _, v := range row {
			sum += math.Exp(v - m)
		}
		logSum := m + math.Log(sum)
		total += lambda*(logSum-row[labels[i]]) + (1-lambda)*(logSum-row[partner[i]])
	}
	return total / float64(n)
}

// TestBackwardMixedMatchesFiniteDifferences checks mixup's gradient against central
// differences of the float64 loss, on 5 examples of 7 classes with partners that include an
// example mixed with its own identity. The float32 probabilities the gradient starts from
// carry about 1e-7 relative error, so 1e-5 absolute is far above rounding and far below a
// wrong term ((1-lambda)/N is 0.07 here).
func TestBackwardMixedMatchesFiniteDifferences(t *testing.T) {
	const n, c = 5, 7
	b := openCPU(t)
	rng := tensor.NewRand(3)
	logits := tensor.Zeros(n, c)
	logits.FillNormal(rng, 0, 2)
	labels, partner := tensor.New(tensor.Int32, n), tensor.New(tensor.Int32, n)
	copy(labels.Int32s(), []int32{0, 3, 6, 2, 2})
	copy(partner.Int32s(), []int32{4, 3, 1, 5, 0})
	const lambda = 0.65
	xent := NewSoftmaxCrossEntropy(&Context{Backend: b})
	if err := xent.Forward(upload(t, b, logits), upload(t, b, labels)); err != nil {
		t.Fatal(err)
	}
	d, err := xent.BackwardMixed(partner, lambda)
	if err != nil {
		t.Fatal(err)
	}
	got := download(t, b, d)
	z := make([]float64, n*c)
	for i, v := range logits.Float32s() {
		z[i] = float64(v)
	}
	const h = 1e-5
	for i := range z {
		keep := z[i]
		z[i] = keep + h
		up := mixedLoss64(z, n, c, labels.Int32s(), partner.Int32s(), lambda)
		z[i] = keep - h
		down := mixedLoss64(z, n, c, labels.Int32s(), partner.Int32s(), lambda)
		z[i] = keep
		if want := (up - down) / (2 * h); math.Abs(float64(got[i])-want) > 1e-5 {
			t.Errorf("dlogits[%d, %d] = %.7f, finite differences %.7f", i/c, i%c, got[i], want)
		}
	}
	// Bad partners are refused, not read out of bounds.
	copy(partner.Int32s(), []int32{0, 0, 7, 0, 0})
	if _, err := xent.BackwardMixed(partner, lambda); err == nil {
		t.Error("a partner label of 7 for 7 classes was accepted")
	}
	if _, err := xent.BackwardMixed(tensor.New(tensor.Int32, n-1), lambda); err == nil {
		t.Error("partner labels for 4 of 5 examples were accepted")
	}
}
