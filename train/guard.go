package train

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/tensor"
)

// The learning guard. A network that learnt nothing still finishes its epochs, saves an
// epoch and answers every photo; on a few people its answers look plausible. The guard compares
// what the run reached with what guessing reaches, says so plainly when they are the same, and
// makes Run fail (unless Options.AllowChance) so that no one builds on a model that guesses.

// ErrNotLearned is returned, wrapped, when a run completed but its kept epoch is no better than
// guessing (see Verdict). The model, its report and its curves are written all the same, for
// inspection.
var ErrNotLearned = errors.New("the model has not learned to tell these people apart")

// The verdict's rule. The kept epoch (run.keeps) has learned when its accuracy is
//
//   - significantly above the baseline: a one-sided exact binomial test of its correct answers
//     against the baseline rate, p < significance after a Bonferroni correction for the epochs
//     it was chosen among (taking the best of 30 noisy epochs is 30 chances to be lucky).
//     The level is the usual 5%: the correction treats the epochs as independent chances,
//     though they are close to one another, so a guess passes far less often than that. At 1%
//     a real small set (6 people, 18 validation photos, 50% right against 16.7% by chance,
//     p = 0.034 corrected) was called luck;
//   - and above it by a useful margin: half the baseline again, at most 10 points, so that a
//     tiny gain that a large validation set makes "significant" does not pass either.
//
// The baseline is the larger of chance (1/N identities) and the majority rate, the share of the
// judged photos that belong to their most common identity: what a network that names the
// largest identity for every photo scores, a common way for a stuck network to end.
const (
	significance = 0.05
	// marginShare and marginCap: the accuracy needed is baseline + min(marginShare*baseline,
	// marginCap): 25% for 6 people (chance 16.7%), 60% for 2, 1.5% for 100.
	marginShare = 0.5
	marginCap   = 0.10
)

// The plateau warning: a fresh network's loss is ln N; one that has not gone below 98% of it
// after plateauEpochs epochs in a row has not started to learn, and the user may rather stop
// and change the recipe than wait for the end. It repeats every plateauRepeat epochs while the
// plateau lasts.
const (
	plateauShare  = 0.98
	plateauEpochs = 3
	plateauRepeat = 10
)

// Verdict is the guard's judgement of a completed run, in its report.
type Verdict struct {
	// Learned is false when the kept epoch is no better than guessing.
	Learned bool `json:"learned"`
	// Basis is "validation" (top-1 on the validation split) or "training" (the run has no
	// validation split: training accuracy, a weaker judgement, see Reason).
	Basis string `json:"basis"`
	// Epoch is the kept epoch, Accuracy its accuracy on the Photos judged.
	Epoch    int     `json:"epoch"`
	Accuracy float64 `json:"accuracy"`
	Photos   int     `json:"photos"`
	// Chance is 1/identities; Majority the share of the judged photos of the most common
	// identity; Required the accuracy the margin asks for.
	Chance   float64 `json:"chance"`
	Majority float64 `json:"majority"`
	Required float64 `json:"required"`
	// PValue is the binomial test's, corrected for the number of epochs.
	PValue float64 `json:"p_value"`
	// Reason says in words why the run passed or not; Advice, when it did not, what to try.
	Reason string   `json:"reason"`
	Advice []string `json:"advice,omitempty"`
}

// baseline is what guessing scores on the photos a run is judged by.
type baseline struct {
	basis    string // "validation" or "training"
	photos   int
	chance   float64
	majority float64
}

// newBaseline is the baseline of judging by photos with these counts per identity.
func newBaseline(basis string, counts []int) baseline {
	total, most := 0, 0
	for _, c := range counts {
		total += c
		most = max(most, c)
	}
	return baseline{basis: basis, photos: total, chance: 1 / float64(len(counts)),
		majority: float64(most) / float64(max(total, 1))}
}

// judge decides whether accuracy, the kept one of epochs epochs, is better than guessing.
func judge(b baseline, epoch int, accuracy float64, epochs int) Verdict {
	v := Verdict{Basis: b.basis, Epoch: epoch, Accuracy: accuracy, Photos: b.photos, Chance: b.chance, Majority: b.majority}
	base := max(b.chance, b.majority)
	v.Required = base + min(marginShare*base, marginCap)
	correct := int(math.Round(accuracy * float64(b.photos)))
	v.PValue = min(1, float64(max(epochs, 1))*binomialTail(correct, b.photos, base))
	what := "validation top-1"
	if b.basis == "training" {
		what = "training accuracy"
	}
	switch {
	case base >= 1:
		// Every judged photo is of one identity: naming it always scores 100%, so no accuracy
		// can show learning (and the margin would ask for more than 100%).
		v.Required = 1
		v.Reason = fmt.Sprintf("%s %.1f%% cannot show learning: all %d photos judged are of one identity, so always naming it scores 100%%; "+
			"give the other identities enough photos that some are held out for validation",
			what, 100*accuracy, b.photos)
	case v.PValue < significance && accuracy >= v.Required:
		v.Learned = true
		v.Reason = fmt.Sprintf("%s %.1f%% of %d photos is above guessing (%.1f%%) by a clear margin (at least %.1f%% needed) and not luck (p = %.2g)",
			what, 100*accuracy, b.photos, 100*base, 100*v.Required, v.PValue)
	case accuracy < v.Required:
		v.Reason = fmt.Sprintf("%s %.1f%% is no better than guessing: chance is %.1f%% and always naming the largest identity scores %.1f%% (at least %.1f%% needed)",
			what, 100*accuracy, 100*b.chance, 100*b.majority, 100*v.Required)
	default:
		v.Reason = fmt.Sprintf("%s %.1f%% is above guessing (%.1f%%), but on %d photos that could be luck (p = %.2g, %g needed): the run cannot show it has learned",
			what, 100*accuracy, 100*base, b.photos, v.PValue, significance)
	}
	if b.basis == "training" {
		v.Reason += ". There are no validation photos, so this is judged on training accuracy, a weaker test: it shows whether the network fits the photos it trained on, not whether it recognises new ones"
	}
	return v
}

// binomialTail is P(X >= k) for X ~ Binomial(n, p), summed in log space so that large n does
// not overflow the binomial coefficients.
func binomialTail(k, n int, p float64) float64 {
	switch {
	case k <= 0 || p >= 1:
		return 1
	case k > n || p <= 0:
		return 0
	}
	lp, lq := math.Log(p), math.Log1p(-p)
	ln, _ := math.Lgamma(float64(n + 1))
	sum := 0.0
	for i := k; i <= n; i++ {
		li, _ := math.Lgamma(float64(i + 1))
		lr, _ := math.Lgamma(float64(n - i + 1))
		sum += math.Exp(ln - li - lr + float64(i)*lp + float64(n-i)*lq)
	}
	return min(1, sum)
}

// plateau is how many of the last epochs in a row kept the mean training loss at or above
// plateauShare of ln classes, the loss of a network that has learnt nothing.
//
// Epochs before the learning rate first reached half of peakLR do not count: a one-cycle run
// spends its first 30% of steps raising the rate from a 25th of its peak, and a long run (a
// time budget's hundreds of epochs) sits near ln N through its first dozen epochs while the
// rate is still too small to move it, then learns.
func plateau(epochs []EpochMetrics, classes int, peakLR float64) int {
	limit := plateauShare * math.Log(float64(classes))
	n := 0
	for i := len(epochs) - 1; i >= 0 && epochs[i].TrainLoss >= limit; i-- {
		n++
	}
	risen := slices.IndexFunc(epochs, func(m EpochMetrics) bool { return m.LR >= peakLR/2 })
	if risen < 0 {
		return 0
	}
	return min(n, len(epochs)-risen)
}

// advice is what to try when a run does not learn, for these settings.
func advice(s Settings, photosPerIdentity float64) []string {
	var tips []string
	if s.Optimizer == "sgd" {
		tips = append(tips, "--optimizer adamw --lr 1e-3: Adam-type optimisers get a network trained from scratch off its plateau far more easily than SGD")
	} else {
		tips = append(tips, fmt.Sprintf("another --lr (now %g): 1e-3 or 3e-4 with --schedule constant", s.LR))
	}
	if s.Arch != nn.ArchVGGDBN {
		tips = append(tips, "--arch vgg-d-bn: batch normalisation lets a deep VGG start learning from scratch")
	}
	if s.WidthDivisor >= 8 {
		tips = append(tips, fmt.Sprintf("a smaller --width divisor (now %d): the narrowest networks have a handful of channels in their first layers and learn poorly", s.WidthDivisor))
	}
	tips = append(tips, fmt.Sprintf("more --epochs (now %d): a deep network can sit at the start for several epochs before it moves", s.Epochs))
	if photosPerIdentity < 50 {
		tips = append(tips, fmt.Sprintf("more photos per person (now about %.0f): a network trained from scratch needs dozens each", photosPerIdentity))
	}
	return append(tips, "check that each folder holds the photos of one person only")
}

// warnPlateau logs, after an epoch, that the loss has not left ln N, once the plateau reaches
// plateauEpochs epochs and then every plateauRepeat more. The streak is read from the report,
// so a resumed run warns as the uninterrupted one would.
func (r *run) warnPlateau() {
	classes := r.model.Config.Classes
	n := plateau(r.report.Epochs, classes, r.s.LR)
	if n < plateauEpochs || (n-plateauEpochs)%plateauRepeat != 0 {
		return
	}
	r.logf("warning: the training loss has stayed at %.3f or above, about ln %d = %.3f, the loss of a network that has learnt nothing, for the last %d epochs. Things to try:",
		plateauShare*math.Log(float64(classes)), classes, math.Log(float64(classes)), n)
	for _, tip := range advice(r.s, r.photosPerIdentity()) {
		r.logf("  %s", tip)
	}
}

func (r *run) photosPerIdentity() float64 {
	return float64(r.report.TrainPhotos+r.report.ValPhotos) / float64(max(len(r.report.Classes), 1))
}

// judgeRun records the verdict on the kept epoch in the report and, when the run has not
// learned, says so plainly in the log and returns ErrNotLearned (nil with Options.AllowChance).
func (r *run) judgeRun() error {
	best := r.report.Epochs[r.report.BestEpoch-1]
	accuracy := best.ValTop1
	if r.base.basis == "training" {
		accuracy = best.TrainAccuracy
	}
	v := judge(r.base, best.Epoch, accuracy, len(r.report.Epochs))
	if !v.Learned {
		v.Advice = advice(r.s, r.photosPerIdentity())
	}
	r.report.Verdict = &v
	if v.Learned {
		return nil
	}
	var b strings.Builder
	if v.Accuracy < v.Required {
		fmt.Fprintf(&b, "%s; its answers would be guesses.\n", ErrNotLearned)
	} else {
		fmt.Fprintf(&b, "the run cannot show that the model has learned to tell these people apart; its answers may be guesses.\n")
	}
	fmt.Fprintf(&b, "  kept epoch %d: %s.\n", v.Epoch, v.Reason)
	fmt.Fprintf(&b, "  The model, its report and its curves are written to inspect, but they are not usable for matching.\n")
	fmt.Fprintf(&b, "  Things to try:")
	for _, tip := range v.Advice {
		fmt.Fprintf(&b, "\n    %s", tip)
	}
	r.logf("%s", b.String())
	if r.o.AllowChance {
		return nil
	}
	return fmt.Errorf("train: %w: %s (report: %s)", ErrNotLearned, v.Reason, r.paths.Report)
}

// readStats adds the steps since the last read to the epoch's tally and stops a diverging run.
func (r *run) readStats() error {
	st, err := r.trainer.ReadTrainStats()
	if err != nil {
		return err
	}
	if err := r.checkLoss(st); err != nil {
		r.report.Status, r.report.Message = "diverged", err.Error()
		r.writeReport()
		return err
	}
	r.epochTally.add(st)
	return nil
}

// checkLoss reports a NaN, infinite or exploding loss. A fresh network's loss is about
// ln(classes); one twenty times that plus ten is far beyond anything a run that is still
// learning produces, and the NaNs follow within steps.
func (r *run) checkLoss(st nn.Stats) error {
	t := r.trainer
	limit := 20*math.Log(float64(r.model.Config.Classes)) + 10
	if err := st.Check(); err != nil || st.Loss > limit {
		what := fmt.Sprintf("mean loss %.4g over the last %d photos", st.Loss, st.Count)
		if st.Loss > limit {
			what += fmt.Sprintf(" (over the limit %.1f)", limit)
		}
		return fmt.Errorf("%w at epoch %d, step %d: %s. %s. Lower the learning rate (now %g)",
			ErrDiverged, t.Epoch+1, t.Steps, what, r.lastGood(), r.s.LR)
	}
	return nil
}

// lastGood says what a diverged run leaves: the last checkpoint when one was saved, or that
// there is none (a run that diverges in its first epoch has saved nothing to go back to).
func (r *run) lastGood() string {
	if _, err := os.Stat(r.paths.LastState); err == nil {
		return fmt.Sprintf("Nothing was saved from this point: %s is the last good checkpoint", r.paths.Last)
	}
	return "No checkpoint was saved before it diverged: there is nothing to go back to, start afresh"
}

// checkWeights refuses to save weights that hold a NaN or an infinity: the update after the
// last finite loss may have produced them.
func (r *run) checkWeights() error {
	for _, p := range r.model.Params() {
		host := tensor.Zeros(p.Shape...)
		if err := r.b.Download(host, p.Value); err != nil {
			return err
		}
		for _, v := range host.Float32s() {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				err := fmt.Errorf("%w at epoch %d, step %d: %s holds %v. %s. Lower the learning rate (now %g)",
					ErrDiverged, r.trainer.Epoch+1, r.trainer.Steps, p.Name, v, r.lastGood(), r.s.LR)
				r.report.Status, r.report.Message = "diverged", err.Error()
				r.writeReport()
				return err
			}
		}
	}
	return nil
}
