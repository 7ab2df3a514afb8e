package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Labels drawn from softmax(z/3) are fitted at T = 3, within what 4,000 draws can tell; logits
// that already match their labels' odds stay at 1; a perfect, overconfident set is not made
// sharper.
func TestFitTemperature(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	draw := func(trueT float64, n int) ([][]float32, []int) {
		var logits [][]float32
		var labels []int
		for range n {
			row := make([]float32, 5)
			for j := range row {
				row[j] = float32(4 * rng.NormFloat64())
			}
			p := SoftmaxAt(row, trueT)
			u, label := rng.Float64(), 0
			for label < len(p)-1 && u > p[label] {
				u -= p[label]
				label++
			}
			logits, labels = append(logits, row), append(labels, label)
		}
		return logits, labels
	}
	logits, labels := draw(3, 4000)
	if got := FitTemperature(logits, labels); math.Abs(got-3) > 0.3 {
		t.Errorf("labels drawn at T=3 fitted at %.3f", got)
	}
	logits, labels = draw(1, 4000)
	if got := FitTemperature(logits, labels); got > 1.15 {
		t.Errorf("calibrated logits fitted at %.3f, want about 1", got)
	}
	// Every answer right and sure: the fit would sharpen, and is held at 1.
	sure := [][]float32{{9, 0, 0}, {0, 9, 0}, {0, 0, 9}}
	if got := FitTemperature(sure, []int{0, 1, 2}); got != 1 {
		t.Errorf("a perfect set fitted at %.3f, want 1 (never sharper)", got)
	}
	if got := FitTemperature(nil, nil); got != 1 {
		t.Errorf("nothing to fit gave %v, want 1", got)
	}
}

func TestSoftmaxAt(t *testing.T) {
	p := SoftmaxAt([]float32{2, 0}, 2)
	if want := 1 / (1 + math.Exp(-1)); math.Abs(p[0]-want) > 1e-12 {
		t.Errorf("softmax([2 0]/2)[0] = %v, want %v", p[0], want)
	}
}
