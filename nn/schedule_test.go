package nn

import (
	"math"
	"testing"
)

func TestSchedules(t *testing.T) {
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }
	cases := []struct {
		s    Schedule
		step int
		want float64
	}{
		{Schedule{Kind: "constant", LR: 0.1}, 12345, 0.1},
		{Schedule{Kind: "step", LR: 0.1, StepSize: 10, Gamma: 0.5}, 9, 0.1},
		{Schedule{Kind: "step", LR: 0.1, StepSize: 10, Gamma: 0.5}, 10, 0.05},
		{Schedule{Kind: "step", LR: 0.1, StepSize: 10, Gamma: 0.5}, 25, 0.025},
		// OneCycleLR(max_lr=1, total_steps=100): starts at 1/25, peaks at step 29, ends at 1/25/1e4.
		{Schedule{Kind: "onecycle", LR: 1, TotalSteps: 100}, 0, 0.04},
		{Schedule{Kind: "onecycle", LR: 1, TotalSteps: 100}, 29, 1},
		{Schedule{Kind: "onecycle", LR: 1, TotalSteps: 100}, 99, 0.04 / 1e4},
		{Schedule{Kind: "cosine", LR: 1, TotalSteps: 110, WarmupSteps: 10}, 0, 0.1},
		{Schedule{Kind: "cosine", LR: 1, TotalSteps: 110, WarmupSteps: 10}, 9, 1},
		{Schedule{Kind: "cosine", LR: 1, TotalSteps: 110, WarmupSteps: 10}, 10, 1},
		{Schedule{Kind: "cosine", LR: 1, TotalSteps: 110, WarmupSteps: 10}, 60, 0.5},
		{Schedule{Kind: "cosine", LR: 1, TotalSteps: 110, WarmupSteps: 10, MinLR: 0.1}, 110, 0.1},
	}
	for _, c := range cases {
		if err := c.s.Validate(); err != nil {
			t.Fatalf("%+v: %v", c.s, err)
		}
		if got := c.s.Rate(c.step); !near(got, c.want) {
			t.Errorf("%s schedule %+v at step %d: %g, want %g", c.s.Kind, c.s, c.step, got, c.want)
		}
	}
	// One-cycle rises monotonically to its peak and falls after; every schedule stays positive
	// and finite, even for runs too short to have phases.
	oc := Schedule{Kind: "onecycle", LR: 1, TotalSteps: 100}
	for i := 1; i < 100; i++ {
		up := i <= 29
		if d := oc.Rate(i) - oc.Rate(i-1); up && d <= 0 || !up && d >= 0 {
			t.Errorf("onecycle step %d: %g after %g", i, oc.Rate(i), oc.Rate(i-1))
		}
	}
	for _, total := range []int{1, 2, 3} {
		s := Schedule{Kind: "onecycle", LR: 1, TotalSteps: total}
		for i := 0; i < total+2; i++ {
			if r := s.Rate(i); !(r > 0) || math.IsInf(r, 0) {
				t.Errorf("onecycle of %d steps at step %d: %g", total, i, r)
			}
		}
	}
}

func TestScheduleValidateRejects(t *testing.T) {
	for _, s := range []Schedule{
		{Kind: "constant", LR: 0},
		{Kind: "constant", LR: math.NaN()},
		{Kind: "step", LR: 0.1},
		{Kind: "cosine", LR: 0.1},
		{Kind: "cosine", LR: 0.1, TotalSteps: 10, WarmupSteps: 10},
		{Kind: "linear", LR: 0.1},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
}
