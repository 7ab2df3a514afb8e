package lookalike

import (
	"strings"
	"testing"
)

func TestJudgeAnswer(t *testing.T) {
	six := []string{"A", "B", "C", "D", "E", "F"}
	for _, c := range []struct {
		name  string
		probs []float64
		names []string
		level string
		note  string
	}{
		{"uniform (the issue)", []float64{0.168, 0.168, 0.168, 0.166, 0.165, 0.165}, six, AtChance, "blind guess among 6 people scores 16.7%"},
		{"just above chance", []float64{0.25, 0.15, 0.15, 0.15, 0.15, 0.15}, six, AtChance, "at chance"},
		{"two close", []float64{0.45, 0.40, 0.05, 0.05, 0.03, 0.02}, six, Unsure, "too close"},
		{"low top", []float64{0.40, 0.12, 0.12, 0.12, 0.12, 0.12}, six, Unsure, "only 40.0% for A"},
		{"fairly sure", []float64{0.05, 0.65, 0.2, 0.05, 0.03, 0.02}, six, FairlySure, "65.0% for B, 20.0% for the next"},
		{"confident", []float64{0.01, 0.01, 0.95, 0.01, 0.01, 0.01}, six, Confident, "confident: 95.0% for C"},
		{"two people, a coin toss", []float64{0.55, 0.45}, []string{"A", "B"}, AtChance, "at chance"},
		{"two people, sure", []float64{0.9, 0.1}, []string{"A", "B"}, Confident, "90.0%"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := JudgeAnswer(c.probs, c.names)
			if got.Level != c.level || !strings.Contains(got.Note, c.note) || !strings.HasPrefix(got.Note, got.Words) {
				t.Errorf("%+v, want level %q and a note saying %q", got, c.level, c.note)
			}
			if got.Doubtful() != (c.level == Unsure || c.level == AtChance) {
				t.Errorf("Doubtful() = %v for %s", got.Doubtful(), got.Level)
			}
		})
	}
	if got := JudgeAnswer([]float32{}, nil); got != (Confidence{}) {
		t.Errorf("no probabilities: %+v", got)
	}
}
