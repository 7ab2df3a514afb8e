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

// Reliability is how far a classifier's calibrated probabilities mean what they say on a set
// of labelled photos: the answers grouped by their top probability p1 (a reliability diagram),
// the expected calibration error, and how often each confidence word was right.
type Reliability struct {
	// Photos is how many answers were measured.
	Photos int `json:"photos"`
	// Calibration is how their probabilities were calibrated; the words depend on it.
	Calibration Calibration `json:"calibrated_with"`
	// Bins split [0, 1] into equal widths by p1; each holds its answers.
	Bins []ReliabilityBin `json:"bins"`
	// ECE, the expected calibration error, is the mean over the bins, weighted by their
	// counts, of |accuracy - mean p1|: 0 when every bin is right as often as it claims.
	ECE float64 `json:"ece"`
	// Words are the answers by confidence level (ConfidenceLevels' order, every level listed).
	Words []WordAccuracy `json:"words"`
}

// ReliabilityBin is the answers whose top probability lies in [Low, High) ([Low, 1] for the last).
type ReliabilityBin struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
	// Count answers, Correct of them right; MeanConfidence is their mean p1 (0 when empty).
	Count          int     `json:"count"`
	Correct        int     `json:"correct"`
	MeanConfidence float64 `json:"mean_confidence"`
}

// WordAccuracy is how often one confidence level was right.
type WordAccuracy struct {
	Level   string `json:"level"`
	Count   int    `json:"count"`
	Correct int    `json:"correct"`
}

// Accuracy is Correct/Count, 0 for no answers.
func (b ReliabilityBin) Accuracy() float64 { return rate(b.Correct, b.Count) }

// Accuracy is Correct/Count, 0 for no answers.
func (w WordAccuracy) Accuracy() float64 { return rate(w.Correct, w.Count) }

func rate(correct, count int) float64 {
	if count == 0 {
		return 0
	}
	return float64(correct) / float64(count)
}

// MeasureReliability scores answers against labels in bins equal bins of the top probability:
// probs holds each answer's calibrated probabilities, one per identity (softmax of the logits
// divided by the temperature, as SoftmaxAt gives them). An answer is right when its top
// identity is the label (ties go to the lower index, as Ranked and the backend's argmax do).
// Each answer's confidence word is ConfidenceLevel's under c.
func MeasureReliability(probs [][]float64, labels []int, bins int, c Calibration) Reliability {
	r := Reliability{Bins: make([]ReliabilityBin, max(bins, 1)), Calibration: c}
	for i := range r.Bins {
		r.Bins[i].Low, r.Bins[i].High = float64(i)/float64(len(r.Bins)), float64(i+1)/float64(len(r.Bins))
	}
	words := map[string]*WordAccuracy{}
	for _, level := range ConfidenceLevels {
		r.Words = append(r.Words, WordAccuracy{Level: level})
	}
	for i := range r.Words {
		words[r.Words[i].Level] = &r.Words[i]
	}
	if len(probs) != len(labels) {
		return r
	}
	sums := make([]float64, len(r.Bins))
	for i, p := range probs {
		if len(p) == 0 {
			continue
		}
		top := Ranked(p)[0]
		right := 0
		if top == labels[i] {
			right = 1
		}
		b := min(int(p[top]*float64(len(r.Bins))), len(r.Bins)-1)
		r.Bins[b].Count++
		r.Bins[b].Correct += right
		sums[b] += p[top]
		w := words[ConfidenceLevel(p, c)]
		w.Count++
		w.Correct += right
		r.Photos++
	}
	for i := range r.Bins {
		b := &r.Bins[i]
		if b.Count == 0 {
			continue
		}
		b.MeanConfidence = sums[i] / float64(b.Count)
		r.ECE += float64(b.Count) / float64(r.Photos) * math.Abs(b.Accuracy()-b.MeanConfidence)
	}
	return r
}
