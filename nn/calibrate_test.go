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

// Four answers between two people, worked by hand: with logits (2 ln(p/(1-p)), 0) at
// temperature 2, the top probability is p. In four bins, [0.75, 1] holds p1 = 0.99 (right) and
// 0.8 (wrong): accuracy 0.5 against a mean p1 of 0.895; [0.5, 0.75) holds 0.7 and 0.55, both
// right: 1 against 0.625. ECE = 2/4 |0.5 - 0.895| + 2/4 |1 - 0.625| = 0.1975 + 0.1875 = 0.385.
func TestMeasureReliability(t *testing.T) {
	logit := func(p float64) []float32 { return []float32{float32(2 * math.Log(p/(1-p))), 0} }
	var probs [][]float64
	for _, p := range []float64{0.99, 0.8, 0.7, 0.55} {
		probs = append(probs, SoftmaxAt(logit(p), 2))
	}
	labels := []int{0, 1, 0, 0}
	r := MeasureReliability(probs, labels, 4, Calibration{Temperature: 2, Photos: 4})
	if r.Photos != 4 || len(r.Bins) != 4 {
		t.Fatalf("%+v", r)
	}
	want := []ReliabilityBin{{0, 0.25, 0, 0, 0}, {0.25, 0.5, 0, 0, 0}, {0.5, 0.75, 2, 2, 0.625}, {0.75, 1, 2, 1, 0.895}}
	for i, b := range r.Bins {
		w := want[i]
		if b.Low != w.Low || b.High != w.High || b.Count != w.Count || b.Correct != w.Correct || math.Abs(b.MeanConfidence-w.MeanConfidence) > 1e-6 {
			t.Errorf("bin %d: %+v, want %+v", i, b, w)
		}
	}
	if math.Abs(r.ECE-0.385) > 1e-6 {
		t.Errorf("ECE %.6f, want 0.385", r.ECE)
	}
	// Between two people, chance is below 60%: 0.55 is at chance; 0.7 (right) and 0.8 (wrong)
	// are fairly sure (the temperature was fitted on few photos); 0.99 is confident, and right.
	wantWords := []WordAccuracy{{Confident, 1, 1}, {FairlySure, 2, 1}, {Unsure, 0, 0}, {AtChance, 1, 1}}
	for i, w := range r.Words {
		if w != wantWords[i] {
			t.Errorf("words: %+v, want %+v", r.Words, wantWords)
			break
		}
	}
	if empty := MeasureReliability(nil, nil, 10, Calibration{}); empty.Photos != 0 || empty.ECE != 0 || len(empty.Bins) != 10 || len(empty.Words) != 4 {
		t.Errorf("no answers: %+v", empty)
	}
}

// The confidence levels follow the rule in confidence.go: at chance, unsure (below 60%), fairly
// sure, confident (from 99%, or from 90% on a temperature fitted on 100 photos or more).
func TestConfidenceLevel(t *testing.T) {
	few, many := Calibration{Temperature: 2, Photos: 18}, Calibration{Temperature: 1.2, Photos: 106}
	for _, c := range []struct {
		probs []float64
		cal   Calibration
		want  string
	}{
		{[]float64{0.168, 0.168, 0.168, 0.166, 0.165, 0.165}, many, AtChance},
		{[]float64{0.45, 0.40, 0.05, 0.05, 0.03, 0.02}, many, Unsure},
		{[]float64{0.55, 0.25, 0.05, 0.05, 0.05, 0.05}, many, Unsure},
		{[]float64{0.05, 0.65, 0.2, 0.05, 0.03, 0.02}, many, FairlySure},
		{[]float64{0.02, 0.02, 0.89, 0.03, 0.02, 0.02}, many, FairlySure},
		{[]float64{0.02, 0.02, 0.9, 0.02, 0.02, 0.02}, many, Confident},
		{[]float64{0.01, 0.01, 0.95, 0.01, 0.01, 0.01}, few, FairlySure},
		{[]float64{0.002, 0.002, 0.99, 0.002, 0.002, 0.002}, few, Confident},
		{[]float64{0.01, 0.01, 0.95, 0.01, 0.01, 0.01}, Calibration{}, FairlySure}, // a model from before calibration
		{nil, many, ""},
	} {
		if got := ConfidenceLevel(c.probs, c.cal); got != c.want {
			t.Errorf("ConfidenceLevel(%v, %+v) = %q, want %q", c.probs, c.cal, got, c.want)
		}
	}
}
