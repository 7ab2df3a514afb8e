package train

import (
	"math"
	"sort"
)

// Scoring happens on the host in float64: the logits of a batch are a few kilobytes, and
// top-5 needs the whole row, which the backend's AccumulateStats (top-1 only) does not keep.

// softmax returns the probabilities of one row of logits, computed as exp(x - max) / Σ so
// that large logits cannot overflow.
func softmax(logits []float32) []float64 {
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

// ranked returns the class indices ordered by decreasing probability; ties keep the lower
// index first, as argmax does on the backend.
func ranked(probs []float64) []int {
	order := make([]int, len(probs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return probs[order[a]] > probs[order[b]] })
	return order
}

// scores tallies a classifier's results over many examples.
type scores struct {
	lossSum    float64
	top1, top5 int
	count      int
}

// add scores one example: the cross-entropy -log p(label) and whether the label is among the
// best one and the best five guesses.
func (s *scores) add(logits []float32, label int) {
	probs := softmax(logits)
	// Clamp at the smallest positive float64 so a confidently wrong answer costs a large but
	// finite loss rather than +Inf.
	s.lossSum -= math.Log(math.Max(probs[label], math.SmallestNonzeroFloat64))
	order := ranked(probs)
	for rank, class := range order[:min(5, len(order))] {
		if class == label {
			if rank == 0 {
				s.top1++
			}
			s.top5++
		}
	}
	s.count++
}

func (s scores) loss() float64 { return s.lossSum / float64(max(s.count, 1)) }
func (s scores) top1Rate() float64 {
	return float64(s.top1) / float64(max(s.count, 1))
}
func (s scores) top5Rate() float64 {
	return float64(s.top5) / float64(max(s.count, 1))
}
