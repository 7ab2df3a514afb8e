package nn

import (
	"math"
	"sort"
)

// Scoring an answer happens on the host in float64: the logits of a batch are a few kilobytes,
// and ranking needs the whole row, which the backend's AccumulateStats (top-1 only) does not
// keep. Training's scores, the gallery's embedder and the look-alike answer all use these two.

// Softmax returns the probabilities of one row of logits, computed as exp(x - max) / Σ so
// that large logits cannot overflow.
func Softmax(logits []float32) []float64 {
	maxv := math.Inf(-1)
	for _, v := range logits {
		maxv = math.Max(maxv, float64(v))
	}
	probs := make([]float64, len(logits))
	var sum float64
	for i, v := range logits {
		probs[i] = math.Exp(float64(v) - maxv)
		sum += probs[i]
	}
	for i := range probs {
		probs[i] /= sum
	}
	return probs
}

// Ranked returns the class indices ordered by decreasing probability; ties keep the lower
// index first, as argmax does on the backend.
func Ranked(probs []float64) []int {
	order := make([]int, len(probs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return probs[order[a]] > probs[order[b]] })
	return order
}
