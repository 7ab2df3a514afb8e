package lookalike

import (
	"fmt"

	"github.com/vgglab/vgg/nn"
)

// A classifier always names someone: softmax gives every photo a "best match", and a model that
// has learnt nothing gives each of N people about 1/N. Confidence turns the probabilities of
// one answer into words, so that a guess is not read as an answer.

// The levels, by the top probability p1 and its lead over the runner-up p2, for N people:
//
//   - chance: p1 < 1/N + min(1/N, 10 points) (twice chance, but at most 10 points above it:
//     26.7% for 6 people, 60% for 2, 2% for 100): no better than a blind guess;
//   - unsure: p1 < 50%, or p1 - p2 < 10 points: the model leans, but could as well name another;
//   - fairly sure: p1 < 80%;
//   - confident: p1 >= 80% (the runner-up then has at most 20%).
const (
	unsureTop     = 0.5
	unsureLead    = 0.10
	confidentTop  = 0.8
	chanceLeadCap = 0.10
)

// Confidence levels.
const (
	Confident  = "confident"
	FairlySure = "fairly sure"
	Unsure     = "unsure"
	AtChance   = "chance"
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
// names (in the same order). No probabilities, no judgement: the zero Confidence.
func JudgeAnswer[F float32 | float64](probs []F, names []string) Confidence {
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
	switch {
	case top < chance+min(chance, chanceLeadCap):
		words := "not a real answer: the model is at chance"
		return Confidence{AtChance, words, fmt.Sprintf("%s (%.1f%% for %s, where a blind guess among %d people scores %.1f%%)",
			words, 100*top, name, len(p), 100*chance)}
	case top-second < unsureLead:
		words := "unsure — a guess"
		return Confidence{Unsure, words, fmt.Sprintf("%s: %.1f%% for %s against %.1f%% for %s, too close to tell apart",
			words, 100*top, name, 100*second, secondName)}
	case top < unsureTop:
		words := "unsure — a guess"
		return Confidence{Unsure, words, fmt.Sprintf("%s: only %.1f%% for %s", words, 100*top, name)}
	case top < confidentTop:
		return Confidence{FairlySure, FairlySure, fmt.Sprintf("fairly sure: %.1f%% for %s, %.1f%% for the next", 100*top, name, 100*second)}
	}
	return Confidence{Confident, Confident, fmt.Sprintf("confident: %.1f%% for %s", 100*top, name)}
}
