package train

import (
	"math"

	"github.com/vgglab/vgg/nn"
)

// scores tallies a classifier's results over many examples.
type scores struct {
	lossSum    float64
	top1, top5 int
	count      int
	// logits and labels keep every example, for fitting the temperature.
	logits [][]float32
	labels []int
}

// add scores one example: the cross-entropy -log p(label) and whether the label is among the
// best one and the best five guesses.
func (s *scores) add(logits []float32, label int) {
	probs := nn.Softmax(logits)
	// Clamp at the smallest positive float64 so a confidently wrong answer costs a large but
	// finite loss rather than +Inf.
	s.lossSum -= math.Log(math.Max(probs[label], math.SmallestNonzeroFloat64))
	order := nn.Ranked(probs)
	for rank, class := range order[:min(5, len(order))] {
		if class == label {
			if rank == 0 {
				s.top1++
			}
			s.top5++
		}
	}
	s.count++
	s.logits = append(s.logits, append([]float32(nil), logits...))
	s.labels = append(s.labels, label)
}

// probabilities are the softmax of every example's logits divided by temperature.
func (s scores) probabilities(temperature float64) [][]float64 {
	probs := make([][]float64, len(s.logits))
	for i, row := range s.logits {
		probs[i] = nn.SoftmaxAt(row, temperature)
	}
	return probs
}

func (s scores) loss() float64 { return s.lossSum / float64(max(s.count, 1)) }
func (s scores) top1Rate() float64 {
	return float64(s.top1) / float64(max(s.count, 1))
}
func (s scores) top5Rate() float64 {
	return float64(s.top5) / float64(max(s.count, 1))
}
