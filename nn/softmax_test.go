package nn

import (
	"math"
	"testing"
)

func TestSoftmaxAndRanked(t *testing.T) {
	if r := Ranked(Softmax([]float32{1, 3, 3, 2})); r[0] != 1 || r[1] != 2 || r[2] != 3 || r[3] != 0 {
		t.Errorf("ranking %v, want ties to the lower index: [1 2 3 0]", r)
	}
	// Large logits do not overflow: the largest takes nearly all, and the row sums to 1.
	p := Softmax([]float32{1e4, 0, 1e4 - 1})
	sum := p[0] + p[1] + p[2]
	if math.IsNaN(sum) || math.Abs(sum-1) > 1e-12 || p[0] < p[2] || p[1] != 0 && p[1] > 1e-300 {
		t.Errorf("softmax of large logits %v, want finite probabilities summing to 1", p)
	}
}
