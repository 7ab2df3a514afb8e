package lookalike

import (
	"fmt"

	"github.com/vgglab/vgg/nn"
)

// Confidence turns the probabilities of one answer into words, so that a guess is not read as an
// answer; the levels and their rule are nn.ConfidenceLevel's, measured in notes/recipe.md.

// closeLead is how near the runner-up must come for an unsure answer's note to say the two are
// too close to tell apart (rather than that the top is low).
const closeLead = 0.10

// Confidence levels.
const (
	Confident  = nn.Confident
	FairlySure = nn.FairlySure
	Unsure     = nn.Unsure
	AtChance   = nn.AtChance
)

// Confidence is how far to trust one answer of the classifier.
type Confidence struct {
	// Level is Confident, FairlySure, Unsure or AtChance.
	Level string
	// Words say the level as a person reads it ("unsure — a guess"); Note adds the numbers.
	Words, Note string
}

// Doubtful is true for an answer that is a guess (Unsure or AtChance).
func (c Confidence) Doubtful() bool { return c.Level == Unsure || c.Level == AtChance }

// JudgeAnswer rates the answer given by probs, the classifier's probabilities of the identities
// names (in the same order), calibrated as c says (the model's nn.ModelInfo.Calibration). No
// probabilities, no judgement: the zero Confidence.
func JudgeAnswer[F float32 | float64](probs []F, names []string, c nn.Calibration) Confidence {
	if len(probs) == 0 || len(probs) != len(names) {
		return Confidence{}
	}
	p := make([]float64, len(probs))
	for i, v := range probs {
		p[i] = float64(v)
	}
	order := nn.Ranked(p)
	top, name := p[order[0]], names[order[0]]
	second, secondName := 0.0, ""
	if len(order) > 1 {
		second, secondName = p[order[1]], names[order[1]]
	}
	chance := 1 / float64(len(p))
	switch nn.ConfidenceLevel(p, c) {
	case AtChance:
		words := "not a real answer: the model is at chance"
		return Confidence{AtChance, words, fmt.Sprintf("%s (%.1f%% for %s, where a blind guess among %d people scores %.1f%%)",
			words, 100*top, name, len(p), 100*chance)}
	case Unsure:
		words := "unsure — a guess"
		if top-second < closeLead {
			return Confidence{Unsure, words, fmt.Sprintf("%s: %.1f%% for %s against %.1f%% for %s, too close to tell apart",
				words, 100*top, name, 100*second, secondName)}
		}
		return Confidence{Unsure, words, fmt.Sprintf("%s: only %.1f%% for %s", words, 100*top, name)}
	case FairlySure:
		return Confidence{FairlySure, FairlySure, fmt.Sprintf("fairly sure: %.1f%% for %s, %.1f%% for the next", 100*top, name, 100*second)}
	}
	return Confidence{Confident, Confident, fmt.Sprintf("confident: %.1f%% for %s", 100*top, name)}
}
