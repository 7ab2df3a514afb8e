package train

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/tensor"
)

// A time budget (vgg train --time 30m): the run chooses the network and the number of epochs
// that fit the time a person gives, from training steps it times on this machine before it
// frames a photo, because what a run can afford differs a hundredfold between a laptop and a
// GPU. Which network to prefer for a given length was measured (notes/recipe.md, "A time
// budget"): on 48 celebrities, held-out top-1 of the 1/8-width network at 64 pixels went from
// 45.3% after 30 epochs to 72.0% after 90 and 75.0% after 180; 90 epochs at 96 pixels (1.8
// times the work of 64) reached 77.6%, and 90 of the 1/4-width network at 64 pixels (3 times
// the work) 77.2%. A budget therefore buys epochs first, up to budgetEnoughEpochs, then a
// larger input, then a wider network.

// budgetCandidate is a network a budget may choose: its width divisor and input size.
type budgetCandidate struct {
	Width, Input int
}

// budgetLadder are the networks a budget chooses among, cheapest first, each preferred over
// the ones before it when it can train enough epochs. The first two rungs were measured
// against each other and against the 1/4-width network at 64 pixels (above); the rest follow
// the same order, input size before width, up to the seed's network.
var budgetLadder = []budgetCandidate{{8, 64}, {8, 96}, {8, 128}, {4, 128}, {2, 128}, {1, 128}}

// budgetEnoughEpochs is the number of epochs past which a longer run of the same network
// gained little in the measurements above (3 points from 90 to 180); a budget that affords
// them for a larger network takes the larger one.
const budgetEnoughEpochs = 90

// budgetMostEpochs caps the epochs a budget trains one network: 180 is the longest run
// measured, and a run longer than that would spend the budget on a guess. A run that could
// train more ends before its budget instead, and says so. (A small set's least number of steps
// may need more epochs: it gets them.)
const budgetMostEpochs = 180

// budgetMargin is the share of the budget planned for: the estimate leaves out the data
// loader's hand-offs, the checkpoints and a machine's other work.
const budgetMargin = 0.9

// BudgetPlan is what a time budget chose, with the timings it chose by; the report keeps it.
type BudgetPlan struct {
	// Budget is the time asked for, the whole `vgg train` run (framing and indexing included).
	Budget time.Duration `json:"budget"`
	// Candidates are the networks timed, cheapest first.
	Candidates []BudgetCandidateTiming `json:"candidates"`
	// Width, Input and Epochs are the chosen network and epochs.
	Width  int `json:"width_divisor"`
	Input  int `json:"input_size"`
	Epochs int `json:"epochs"`
	// Reason says why, in words.
	Reason string `json:"reason"`
}

// BudgetCandidateTiming is one network's measured cost and what the budget affords of it.
type BudgetCandidateTiming struct {
	Width  int `json:"width_divisor"`
	Input  int `json:"input_size"`
	Epochs int `json:"epochs"` // that fit the budget
	// EpochSeconds is one epoch's training and validation; IndexSeconds the gallery's
	// indexing of the collection after training.
	EpochSeconds float64 `json:"epoch_seconds"`
	IndexSeconds float64 `json:"index_seconds"`
}

// budgetSizes are the counts a plan needs: photos to train on, to validate with and to index,
// and identities.
type budgetSizes struct {
	Train, Val, Index, Classes int
}

// budgetCandidates are the networks a budget chooses among for these settings, cheapest
// first: the ladder, or where the settings give a width or an input size, the networks that
// keep it.
func budgetCandidates(s Settings) []budgetCandidate {
	switch {
	case s.WidthDivisor != 0 && s.InputSize != 0:
		return []budgetCandidate{{s.WidthDivisor, s.InputSize}}
	case s.InputSize != 0:
		return []budgetCandidate{{8, s.InputSize}, {4, s.InputSize}, {2, s.InputSize}, {1, s.InputSize}}
	case s.WidthDivisor != 0:
		return []budgetCandidate{{s.WidthDivisor, 64}, {s.WidthDivisor, 96}, {s.WidthDivisor, 128}}
	}
	return budgetLadder
}

// planBudget chooses a network and its epochs for the time left: it times the candidates,
// cheapest first, through timeOne (timeCandidate in a run; a table in the tests), and stops at
// the first that cannot train enough epochs.
func planBudget(s Settings, n budgetSizes, left time.Duration, timeOne func(budgetCandidate, time.Duration) (BudgetCandidateTiming, error)) (BudgetPlan, error) {
	plan := BudgetPlan{Budget: s.TimeBudget}
	usable := time.Duration(float64(left) * budgetMargin)
	batches := max((n.Train+s.BatchSize-1)/s.BatchSize, 1)
	// Enough epochs, and at least the recipe's least number of steps on a small set.
	enough := max(budgetEnoughEpochs, (s.MinSteps+batches-1)/batches)
	chosen := 0
	for _, c := range budgetCandidates(s) {
		t, err := timeOne(c, usable)
		if err != nil {
			return plan, fmt.Errorf("timing the %s: %w", c, err)
		}
		plan.Candidates = append(plan.Candidates, t)
		if t.Epochs < enough {
			break // the larger networks afford fewer still
		}
		chosen = len(plan.Candidates) - 1
	}
	pick := plan.Candidates[chosen]
	most := max(budgetMostEpochs, enough)
	plan.Width, plan.Input, plan.Epochs = pick.Width, pick.Input, min(max(pick.Epochs, 1), most)
	switch {
	case pick.Epochs < 1:
		plan.Reason = fmt.Sprintf("even one epoch (%s) does not fit the %s left; training one", roughDuration(seconds(pick.EpochSeconds)), roughDuration(usable))
	case pick.Epochs < enough:
		plan.Reason = fmt.Sprintf("the cheapest network, with the epochs that fit; %d or more trained best", enough)
	case pick.Epochs > most && most > budgetMostEpochs:
		plan.Reason = fmt.Sprintf("%d epochs fit; the recipe's least %d steps take %d, and no longer run was measured: this one ends early", pick.Epochs, s.MinSteps, most)
	case pick.Epochs > most:
		plan.Reason = fmt.Sprintf("%d epochs fit, but no run longer than %d was measured: this one ends early", pick.Epochs, most)
	case chosen+1 < len(plan.Candidates):
		plan.Reason = fmt.Sprintf("the largest network that fits %d epochs or more", enough)
	default:
		plan.Reason = "the largest network there is to choose, with the epochs that fit"
	}
	return plan, nil
}

func (c budgetCandidate) String() string {
	return fmt.Sprintf("width 1/%d network at %d pixels", c.Width, c.Input)
}

// seconds converts a float number of seconds.
func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// timeCandidate times training steps and a forward pass of network c on random pictures, on
// a scratch model, and works out what one epoch and the indexing after training cost, and how
// many epochs fit in the time usable.
func timeCandidate(ctx context.Context, b kernels.Backend, s Settings, c budgetCandidate, n budgetSizes, usable time.Duration) (BudgetCandidateTiming, error) {
	t := BudgetCandidateTiming{Width: c.Width, Input: c.Input}
	cfg := nn.Config{Arch: s.Arch, Classes: max(n.Classes, 2), InputSize: c.Input, WidthDivisor: c.Width}
	m, err := nn.New(b, cfg, s.Seed)
	if err != nil {
		return t, err
	}
	defer m.Release()
	batches := (n.Train + s.BatchSize - 1) / s.BatchSize
	timed := s
	timed.Epochs = 1 // any schedule: the rate does not change a step's time
	trainer, err := nn.NewTrainer(m, s.optimizer(), timed.schedule(max(batches, 1)))
	if err != nil {
		return t, err
	}
	defer trainer.Release()
	in := newStaging(b)
	defer in.release()
	x, labels := randomBatch(s.BatchSize, c.Input, cfg.Classes, s.Seed)
	step, err := timeTrainingSteps(ctx, trainer, in, x, labels)
	if err != nil {
		return t, err
	}
	if _, err := forward(m, in, x); err != nil { // warm-up: evaluation mode's workspaces
		return t, err
	}
	start := time.Now()
	if _, err := forward(m, in, x); err != nil {
		return t, err
	}
	// A new model validates and indexes each photo and its mirror image (nn.ModelInfo.Mirror).
	perPicture := 2 * time.Since(start) / time.Duration(s.BatchSize)
	valBatches := (n.Val + s.BatchSize - 1) / s.BatchSize
	epoch := time.Duration(batches)*step + time.Duration(valBatches*s.BatchSize)*perPicture
	index := time.Duration(n.Index) * perPicture
	t.EpochSeconds, t.IndexSeconds = epoch.Seconds(), index.Seconds()
	t.Epochs = t.epochsIn(usable)
	return t, nil
}

// epochsIn is how many epochs, and the indexing after them, fit in d.
func (t BudgetCandidateTiming) epochsIn(d time.Duration) int {
	return int(max(d.Seconds()-t.IndexSeconds, 0) / max(t.EpochSeconds, 1e-9))
}

// randomBatch is a batch of normal noise pictures with labels cycling through the classes: a
// step's time does not depend on what the pictures show.
func randomBatch(batch, input, classes int, seed uint64) (x, labels *tensor.Tensor) {
	rng := rand.New(rand.NewPCG(seed, 0x6275646765740000))
	x = tensor.Zeros(batch, 3, input, input)
	for i := range x.Float32s() {
		x.Float32s()[i] = float32(rng.NormFloat64())
	}
	labels = tensor.New(tensor.Int32, batch)
	for i := range labels.Int32s() {
		labels.Int32s()[i] = int32(i % classes)
	}
	return x, labels
}

// timeTrainingSteps is the time of one training step on x, after one untimed warm-up step
// (which allocates the activations and workspaces and would overstate it), the mean of
// estimateSteps.
func timeTrainingSteps(ctx context.Context, t *nn.Trainer, in *staging, x, labels *tensor.Tensor) (time.Duration, error) {
	var start time.Time
	for i := range 1 + estimateSteps {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if i == 1 {
			start = time.Now()
		}
		dx, err := in.upload(x)
		if err != nil {
			return 0, err
		}
		dl, err := in.upload(labels)
		if err != nil {
			return 0, err
		}
		if err := t.Step(dx, dl); err != nil {
			return 0, err
		}
		// Reading the statistics waits for the device, so a GPU's queued work is counted.
		if _, err := t.ReadTrainStats(); err != nil {
			return 0, err
		}
	}
	return time.Since(start) / estimateSteps, nil
}

// chosen is the timing of the network the plan chose.
func (p *BudgetPlan) chosen() BudgetCandidateTiming {
	for _, c := range p.Candidates {
		if c.Width == p.Width && c.Input == p.Input {
			return c
		}
	}
	return BudgetCandidateTiming{Width: p.Width, Input: p.Input}
}

// describe is the plan in a few lines for the log.
func (p BudgetPlan) describe() []string {
	lines := []string{fmt.Sprintf("time budget %s: the %s for %d epochs (%s)",
		roughDuration(p.Budget), budgetCandidate{p.Width, p.Input}, p.Epochs, p.Reason)}
	var timed []string
	for _, c := range p.Candidates {
		timed = append(timed, fmt.Sprintf("1/%d at %d px: %.1f s an epoch, %d epochs", c.Width, c.Input, c.EpochSeconds, c.Epochs))
	}
	lines = append(lines, "  timed here: "+strings.Join(timed, "; "))
	return lines
}

// planForBudget chooses the run's network and epochs for its time budget, before the photos
// are framed at the chosen input size.
func (r *run) planForBudget(ctx context.Context, set *dataset.Dataset) error {
	trainSet, valSet, err := set.Split(r.s.Seed, r.s.ValFraction)
	if err != nil {
		return err
	}
	n := budgetSizes{Train: len(trainSet.Samples), Val: len(valSet.Samples), Index: len(set.Samples), Classes: len(set.Classes)}
	r.logf("timing training steps on %s for the time budget of %s", r.b.Describe(), roughDuration(r.s.TimeBudget))
	timeOne := func(c budgetCandidate, usable time.Duration) (BudgetCandidateTiming, error) {
		return timeCandidate(ctx, r.b, r.s, c, n, usable)
	}
	plan, err := planBudget(r.s, n, r.s.TimeBudget-time.Since(r.began), timeOne)
	if err != nil {
		return fmt.Errorf("train: --time: %w", err)
	}
	r.plan = &plan
	r.s.WidthDivisor, r.s.InputSize, r.s.Epochs, r.s.MinSteps = plan.Width, plan.Input, plan.Epochs, 0
	for _, line := range plan.describe() {
		r.logf("%s", line)
	}
	return nil
}

// budgetCheckEpoch is the epoch after which a budgeted run checks its plan: the second, as the
// first also carries one-time costs (workspaces, the loader's first pass over the photos).
const budgetCheckEpoch = 2

// keepToBudget checks the plan against a measured epoch (its wall time, checkpoints and all),
// once done epochs are trained, in a run with a time budget: the plan timed steps on random
// pictures before the photos were framed, while the framing took its own time and a real
// epoch also loads and varies photos on the same cores (at 128 pixels about a quarter more)
// and saves its checkpoints. When the epochs planned no longer fit, the run trains fewer,
// saying so; the learning-rate schedule is made again for them, which early in a one-cycle
// warm-up moves the rate by a few percent. (A resumed run has no plan: its budget was spent
// while it was stopped.)
func (r *run) keepToBudget(done int, epochSeconds float64) {
	if r.plan == nil {
		return
	}
	usable := (float64(r.s.TimeBudget-time.Since(r.began))*budgetMargin)/float64(time.Second) - r.plan.chosen().IndexSeconds
	fit := done + int(max(usable, 0)/max(epochSeconds, 1e-9))
	if fit >= r.s.Epochs {
		return
	}
	r.logf("time budget: epoch %d took %.1f s, %.0f s after the run began; %d epochs fit, not %d",
		done, epochSeconds, time.Since(r.began).Seconds(), fit, r.s.Epochs)
	r.s.Epochs, r.report.Settings.Epochs, r.plan.Epochs = fit, fit, fit
	r.trainer.Schedule = r.s.schedule(r.batches)
}
