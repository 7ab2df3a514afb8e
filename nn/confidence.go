package nn

// A classifier always names someone: softmax gives every photo a "best match", and a model that
// has learnt nothing gives each of N people about 1/N. The confidence levels turn the
// probabilities of one answer into words, so that a guess is not read as an answer. The rule
// lives here, beside the temperature that calibrates the probabilities, so that training can
// measure how often each word is right (Reliability) and matching can say it (lookalike).

// Confidence levels, most sure first.
const (
	Confident  = "confident"
	FairlySure = "fairly sure"
	Unsure     = "unsure"
	AtChance   = "chance"
)

// ConfidenceLevels are the levels in the order reports list them.
var ConfidenceLevels = []string{Confident, FairlySure, Unsure, AtChance}

// The levels, by the top probability p1 (after temperature scaling) and its lead over the
// runner-up p2, for N people:
//
//   - chance: p1 < 1/N + min(1/N, 10 points) (twice chance, but at most 10 points above it:
//     26.7% for 6 people, 60% for 2, 2% for 100): no better than a blind guess;
//   - unsure: p1 < 50%, or p1 - p2 < 10 points: the model leans, but could as well name another;
//   - fairly sure: p1 < 80%;
//   - confident: p1 >= 80% (the runner-up then has at most 20%).
//
// UnsureLead is exported so that the words can say why an answer is unsure.
const (
	unsureTop     = 0.5
	UnsureLead    = 0.10
	confidentTop  = 0.8
	chanceLeadCap = 0.10
)

// ConfidenceLevel says how far to trust the answer given by probs (the classifier's calibrated
// probabilities, one per identity): Confident, FairlySure, Unsure or AtChance; "" for none.
func ConfidenceLevel(probs []float64) string {
	if len(probs) == 0 {
		return ""
	}
	top, second := TopTwo(probs)
	chance := 1 / float64(len(probs))
	switch {
	case top < chance+min(chance, chanceLeadCap):
		return AtChance
	case top-second < UnsureLead, top < unsureTop:
		return Unsure
	case top < confidentTop:
		return FairlySure
	}
	return Confident
}

// TopTwo returns the largest and second largest of probs (0 for the second of one).
func TopTwo(probs []float64) (first, second float64) {
	first = probs[0]
	for _, p := range probs[1:] {
		if p > first {
			first, second = p, first
		} else if p > second {
			second = p
		}
	}
	return first, second
}
