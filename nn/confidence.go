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

// Calibration is how a model's probabilities were calibrated: the temperature dividing its
// logits (FitTemperature; 0 or 1: none) and how many validation photos it was fitted on.
type Calibration struct {
	Temperature float64 `json:"temperature"`
	Photos      int     `json:"photos"`
}

// The levels, by the top probability p1 after temperature scaling, for N people:
//
//   - chance: p1 < 1/N + min(1/N, 10 points) (twice chance, but at most 10 points above it:
//     26.7% for 6 people, 60% for 2, 2% for 100): no better than a blind guess;
//   - unsure: p1 < 60%: a guess, right about a third of the time;
//   - fairly sure: right about two times in three;
//   - confident: p1 >= 99%, or >= 90% when the temperature was fitted on at least 100
//     validation photos: right at least 95 times in 100 on photos the model never saw.
//
// Measured on 2026-12-07 (notes/recipe.md, "Confidence words"), --width 8 --input 64, the
// default recipe, on photos of the trained people never trained or validated on:
//
//   - 6 people x 18 photos (18 validation photos; 3 seeds of face crops and 1 of raw photos
//     through our aligner) and 20 people x 30 crops (60 validation photos, seed 1): 1,360
//     answers. p1 >= 99%: 163 of 173 right (94.2%; crops alone 96 of 100, the raw photos 67 of
//     73); p1 >= 90%: 348 of 401 (86.8%). A temperature fitted on so few photos leaves the top
//     of the scale overconfident.
//   - bench/quality --people 20 --aligned, seeds 1 and 2 (106 validation photos): 480 answers.
//     p1 >= 90%: 82 of 83 right (98.8%); >= 80%: 111 of 119 (93.3%).
//   - fairly sure (60% <= p1 below confident): 347 of 518 right (67.0%) on the first, 70 of
//     99 (70.7%) on the second; p1 below 60% (at chance included): 27.8% and 35.9%; p1 in
//     [50%, 60%) alone, 68 of 141 (48.2%) over both.
//
// 100 validation photos is the round number between the two sizes measured, not a tuned one.
const (
	unsureTop          = 0.6
	confidentTop       = 0.99
	calibratedTop      = 0.90
	wellCalibratedFrom = 100
	chanceLeadCap      = 0.10
)

// ConfidenceLevel says how far to trust the answer given by probs (the classifier's
// probabilities, one per identity, calibrated as c says): Confident, FairlySure, Unsure or
// AtChance; "" for none.
func ConfidenceLevel(probs []float64, c Calibration) string {
	if len(probs) == 0 {
		return ""
	}
	top, _ := TopTwo(probs)
	chance := 1 / float64(len(probs))
	confident := confidentTop
	if c.Photos >= wellCalibratedFrom {
		confident = calibratedTop
	}
	switch {
	case top < chance+min(chance, chanceLeadCap):
		return AtChance
	case top < unsureTop:
		return Unsure
	case top < confident:
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
