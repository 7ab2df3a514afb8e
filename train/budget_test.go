package train

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vgglab/vgg/nn"
)

// fakeTimer times each network at a fixed cost per epoch (seconds, by width and input), so the
// choice can be checked without the machine's speed in it; it records what it was asked.
type fakeTimer struct {
	epochSeconds map[budgetCandidate]float64
	timed        []budgetCandidate
}

func (f *fakeTimer) time(c budgetCandidate, usable time.Duration) (BudgetCandidateTiming, error) {
	f.timed = append(f.timed, c)
	secs, ok := f.epochSeconds[c]
	if !ok {
		return BudgetCandidateTiming{}, fmt.Errorf("no timing for %v", c)
	}
	t := BudgetCandidateTiming{Width: c.Width, Input: c.Input, EpochSeconds: secs, IndexSeconds: 10}
	t.Epochs = t.epochsIn(usable)
	return t, nil
}

func TestPlanBudget(t *testing.T) {
	// Costs in about the proportions measured on a 2-core CPU.
	costs := map[budgetCandidate]float64{{8, 64}: 3, {8, 96}: 5.4, {8, 128}: 9.6, {4, 128}: 30, {2, 128}: 100, {1, 128}: 400,
		{16, 64}: 2, {16, 96}: 4, {16, 128}: 6}
	large := budgetSizes{Train: 2400, Val: 260, Index: 3000, Classes: 48} // 150 steps an epoch
	small := budgetSizes{Train: 102, Val: 18, Index: 120, Classes: 6}     // 7 steps an epoch
	settings := func(width, input int) Settings {
		s := DefaultSettings()
		s.TimeBudget, s.Epochs, s.WidthDivisor, s.InputSize = time.Hour, 0, width, input
		return s
	}
	for _, c := range []struct {
		name           string
		s              Settings
		n              budgetSizes
		left           time.Duration
		width, input   int
		epochs         int
		timed          []budgetCandidate
		reasonContains string
	}{
		// 0.9*600 s - 10 s of indexing = 530 s: 176 epochs at 64 pixels, 98 at 96, 55 at 128.
		{"ten minutes: epochs first", settings(0, 0), large, 10 * time.Minute, 8, 96, 98,
			[]budgetCandidate{{8, 64}, {8, 96}, {8, 128}}, "largest network that fits 90"},
		// 1610 s: 167 epochs at 128 pixels, 53 of the 1/4-width network.
		{"thirty minutes: a larger input", settings(0, 0), large, 30 * time.Minute, 8, 128, 167,
			[]budgetCandidate{{8, 64}, {8, 96}, {8, 128}, {4, 128}}, "largest network that fits 90"},
		{"a minute: what fits of the cheapest", settings(0, 0), large, time.Minute, 8, 64, 14,
			[]budgetCandidate{{8, 64}}, "cheapest network"},
		{"ten seconds: one epoch", settings(0, 0), large, 10 * time.Second, 8, 64, 1,
			[]budgetCandidate{{8, 64}}, "even one epoch"},
		{"days: the largest, its epochs capped", settings(0, 0), large, 100 * time.Hour, 1, 128, budgetMostEpochs,
			budgetLadder, "ends early"},
		// A small set's enough is the recipe's 1,500 steps: 215 epochs of 7 steps, past the
		// usual cap; 298 fit at 96 pixels, 167 at 128.
		{"a small set needs its least steps", settings(0, 0), small, 30 * time.Minute, 8, 96, 215,
			[]budgetCandidate{{8, 64}, {8, 96}, {8, 128}}, "ends early"},
		// 530 s: 265, 132 and 88 epochs at 64, 96 and 128 pixels.
		{"a width given", settings(16, 0), large, 10 * time.Minute, 16, 96, 132,
			[]budgetCandidate{{16, 64}, {16, 96}, {16, 128}}, "largest network that fits 90"},
		// 1610 s: 167 epochs of 1/8 at 128 pixels, 53 of 1/4.
		{"an input given", settings(0, 128), large, 30 * time.Minute, 8, 128, 167,
			[]budgetCandidate{{8, 128}, {4, 128}}, "largest network that fits 90"},
		{"both given", settings(16, 128), large, 15 * time.Minute, 16, 128, 133,
			[]budgetCandidate{{16, 128}}, "largest network there is"},
	} {
		t.Run(c.name, func(t *testing.T) {
			timer := &fakeTimer{epochSeconds: costs}
			plan, err := planBudget(c.s, c.n, c.left, timer.time)
			if err != nil {
				t.Fatal(err)
			}
			if plan.Width != c.width || plan.Input != c.input || plan.Epochs != c.epochs {
				t.Errorf("chose width 1/%d at %d px for %d epochs, want 1/%d at %d for %d", plan.Width, plan.Input, plan.Epochs, c.width, c.input, c.epochs)
			}
			if !slices.Equal(timer.timed, c.timed) {
				t.Errorf("timed %v, want %v", timer.timed, c.timed)
			}
			if !strings.Contains(plan.Reason, c.reasonContains) {
				t.Errorf("reason %q does not say %q", plan.Reason, c.reasonContains)
			}
			if len(plan.Candidates) != len(c.timed) {
				t.Errorf("%d candidates in the plan, %d timed", len(plan.Candidates), len(c.timed))
			}
		})
	}
}

// A run with a time budget chooses its epochs by timing this machine, trains them and records
// the plan in its report. (Whether real runs keep to their budget is measured in
// notes/recipe.md, not here: a test's wall time depends on what else the machine runs.)
func TestRunWithATimeBudget(t *testing.T) {
	data := synthData(t, 3, 8)
	s := tinySettings(data)
	s.TimeBudget, s.Epochs, s.WidthDivisor, s.InputSize = 2*time.Second, 0, 16, 0
	var log strings.Builder
	report, err := Run(context.Background(), s, Options{Out: t.TempDir() + "/m.safetensors", Device: "cpu", Log: &log, AllowChance: true})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	p := report.Budget
	if p == nil {
		t.Fatalf("no plan in the report\n%s", log.String())
	}
	got := report.Settings
	if got.WidthDivisor != 16 || got.InputSize != p.Input || got.Epochs != p.Epochs || len(report.Epochs) != p.Epochs || p.Epochs < 1 {
		t.Errorf("settings width %d input %d epochs %d, %d trained; the plan said width %d input %d, %d epochs",
			got.WidthDivisor, got.InputSize, got.Epochs, len(report.Epochs), p.Width, p.Input, p.Epochs)
	}
	if len(p.Candidates) == 0 || p.Candidates[0].EpochSeconds <= 0 {
		t.Fatalf("the plan's timings are missing: %+v", p.Candidates)
	}
	for _, c := range p.Candidates {
		if c.Width == p.Width && c.Input == p.Input && p.Epochs > 1 &&
			float64(p.Epochs)*c.EpochSeconds+c.IndexSeconds > s.TimeBudget.Seconds() {
			t.Errorf("planned %d epochs of %.3f s and %.3f s of indexing for a budget of %s", p.Epochs, c.EpochSeconds, c.IndexSeconds, s.TimeBudget)
		}
	}
	if !strings.Contains(log.String(), "time budget") {
		t.Errorf("the log does not say what the budget chose:\n%s", log.String())
	}
}

// A second epoch slower than planned shortens the run to what still fits, schedule and all; one
// as fast as planned changes nothing.
func TestKeepToBudget(t *testing.T) {
	s := DefaultSettings()
	s.TimeBudget, s.Epochs, s.WidthDivisor, s.InputSize = time.Minute, 50, 8, 64
	newRun := func() *run {
		plan := &BudgetPlan{Width: 8, Input: 64, Epochs: 50, Candidates: []BudgetCandidateTiming{{Width: 8, Input: 64, IndexSeconds: 4}}}
		r := &run{s: s, plan: plan, began: time.Now(), batches: 10, report: &Report{Settings: s, Budget: plan}}
		r.trainer = &nn.Trainer{Schedule: s.schedule(r.batches)}
		return r
	}
	r := newRun()
	// 0.9 * 60 s - 4 s of indexing = 50 s: the two epochs done and 10 more of 4.9 s.
	r.keepToBudget(2, 4.9)
	if r.s.Epochs != 12 || r.report.Settings.Epochs != 12 || r.report.Budget.Epochs != 12 || r.trainer.Schedule.TotalSteps != 120 {
		t.Errorf("after a 4.9 s epoch: %d epochs (report %d, plan %d), schedule of %d steps; want 12 and 120",
			r.s.Epochs, r.report.Settings.Epochs, r.report.Budget.Epochs, r.trainer.Schedule.TotalSteps)
	}
	r = newRun()
	r.keepToBudget(2, 0.5)
	if r.s.Epochs != 50 || r.trainer.Schedule.TotalSteps != 500 {
		t.Errorf("after a 0.5 s epoch: %d epochs, schedule of %d steps; want 50 and 500 unchanged", r.s.Epochs, r.trainer.Schedule.TotalSteps)
	}
}
