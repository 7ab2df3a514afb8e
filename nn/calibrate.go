package nn

import "math"

// Temperature scaling (Guo et al., 2017): a network trained to memorise its photos is too sure
// of itself on new ones, and dividing its logits by one number T > 1 before the softmax makes
// its probabilities mean what they say without changing which identity comes first.

// The temperatures FitTemperature chooses among: it only ever softens (a validation split of a
// few photos all answered rightly would otherwise ask for a sharper, still more overconfident
// network), and at most by maxTemperature.
const (
	minTemperature = 1
	maxTemperature = 20
)

// FitTemperature returns the temperature in [1, 20] that minimises the mean cross-entropy of
// softmax(logits/T) against labels, by golden-section search on log T (the loss is convex in
// 1/T, so it has one minimum there); 1 when there is nothing to fit.
func FitTemperature(logits [][]float32, labels []int) float64 {
	if len(logits) == 0 || len(logits) != len(labels) {
		return minTemperature
	}
	loss := func(logT float64) float64 {
		t := math.Exp(logT)
		var sum float64
		for i, row := range logits {
			sum += crossEntropyAt(row, labels[i], t)
		}
		return sum / float64(len(logits))
	}
	lo, hi := math.Log(minTemperature), math.Log(maxTemperature)
	const golden = 0.6180339887498949
	a, b := hi-golden*(hi-lo), lo+golden*(hi-lo)
	fa, fb := loss(a), loss(b)
	for range 60 {
		if fa <= fb {
			hi, b, fb = b, a, fa
			a = hi - golden*(hi-lo)
			fa = loss(a)
		} else {
			lo, a, fa = a, b, fb
			b = lo + golden*(hi-lo)
			fb = loss(b)
		}
	}
	t := math.Exp((lo + hi) / 2)
	if t < minTemperature+1e-6 { // the search closes in on the bound, never reaching it
		return minTemperature
	}
	return t
}

// crossEntropyAt is -log softmax(row/t)[label], computed stably.
func crossEntropyAt(row []float32, label int, t float64) float64 {
	maxv := math.Inf(-1)
	for _, v := range row {
		maxv = math.Max(maxv, float64(v)/t)
	}
	var sum float64
	for _, v := range row {
		sum += math.Exp(float64(v)/t - maxv)
	}
	return math.Log(sum) + maxv - float64(row[label])/t
}

// SoftmaxAt is Softmax of logits divided by temperature (0 or 1: none).
func SoftmaxAt(logits []float32, temperature float64) []float64 {
	if temperature <= 0 || temperature == 1 {
		return Softmax(logits)
	}
	scaled := make([]float32, len(logits))
	for i, v := range logits {
		scaled[i] = float32(float64(v) / temperature)
	}
	return Softmax(scaled)
}
