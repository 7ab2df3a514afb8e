package lookalike

import (
	"strings"
	"testing"

	"github.com/vgglab/vgg/nn"
)

func TestJudgeAnswer(t *testing.T) {
	six := []string{"A", "B", "C", "D", "E", "F"}
	for _, c := range []struct {
		name  string
		probs []float64
		names []string
		level string
		note  string
		cal   nn.Calibration
	}{
		{"uniform (the issue)", []float64{0.168, 0.168, 0.168, 0.166, 0.165, 0.165}, six, AtChance, "blind guess among 6 people scores 16.7%", nn.Calibration{}},
		{"just above chance", []float64{0.25, 0.15, 0.15, 0.15, 0.15, 0.15}, six, AtChance, "at chance", nn.Calibration{}},
		{"two close", []float64{0.45, 0.40, 0.05, 0.05, 0.03, 0.02}, six, Unsure, "too close", nn.Calibration{}},
		{"low top", []float64{0.40, 0.12, 0.12, 0.12, 0.12, 0.12}, six, Unsure, "only 40.0% for A", nn.Calibration{}},
		{"over half, still a guess", []float64{0.55, 0.25, 0.05, 0.05, 0.05, 0.05}, six, Unsure, "only 55.0% for A", nn.Calibration{}},
		{"fairly sure", []float64{0.05, 0.65, 0.2, 0.05, 0.03, 0.02}, six, FairlySure, "65.0% for B, 20.0% for the next", nn.Calibration{}},
		{"sure, but not confident", []float64{0.01, 0.01, 0.95, 0.01, 0.01, 0.01}, six, FairlySure, "fairly sure: 95.0% for C", nn.Calibration{}},
		{"confident", []float64{0.002, 0.002, 0.99, 0.002, 0.002, 0.002}, six, Confident, "confident: 99.0% for C", nn.Calibration{}},
		{"confident when calibrated on many photos", []float64{0.01, 0.01, 0.95, 0.01, 0.01, 0.01}, six, Confident, "confident: 95.0% for C", nn.Calibration{Temperature: 1.2, Photos: 400}},
		{"two people, a coin toss", []float64{0.55, 0.45}, []string{"A", "B"}, AtChance, "at chance", nn.Calibration{}},
		{"two people, fairly sure", []float64{0.9, 0.1}, []string{"A", "B"}, FairlySure, "90.0% for A", nn.Calibration{}},
		{"two people, sure", []float64{0.99, 0.01}, []string{"A", "B"}, Confident, "99.0%", nn.Calibration{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := JudgeAnswer(c.probs, c.names, c.cal)
			if got.Level != c.level || !strings.Contains(got.Note, c.note) || !strings.HasPrefix(got.Note, got.Words) {
				t.Errorf("%+v, want level %q and a note saying %q", got, c.level, c.note)
			}
			if got.Doubtful() != (c.level == Unsure || c.level == AtChance) {
				t.Errorf("Doubtful() = %v for %s", got.Doubtful(), got.Level)
			}
		})
	}
	if got := JudgeAnswer([]float32{}, nil, nn.Calibration{}); got != (Confidence{}) {
		t.Errorf("no probabilities: %+v", got)
	}
}
