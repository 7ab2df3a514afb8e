package nn

import (
	"fmt"
	"math"
)

// Schedule gives the learning rate as a pure function of the step (counted from 0), so a resumed
// run needs to remember nothing but the step.
type Schedule struct {
	// Kind is "constant", "step", "onecycle" or "cosine".
	Kind string
	// LR is the base rate: the constant, the start of "step" and "cosine", the peak of
	// "onecycle".
	LR float64
	// TotalSteps is the length of training, for "onecycle" and "cosine".
	TotalSteps int
	// "step": multiply by Gamma every StepSize steps (torch.optim.lr_scheduler.StepLR).
	StepSize int
	Gamma    float64
	// "cosine": linear warm-up from 0 over WarmupSteps, then cosine decay to MinLR.
	WarmupSteps int
	MinLR       float64
}

// Validate rejects a schedule that cannot produce rates.
func (s Schedule) Validate() error {
	switch {
	case !(s.LR > 0) || math.IsInf(s.LR, 0):
		return fmt.Errorf("learning rate %g must be positive and finite", s.LR)
	case s.Kind == "constant":
	case s.Kind == "step":
		if s.StepSize < 1 || !(s.Gamma > 0) {
			return fmt.Errorf("step schedule needs a step size >= 1 and gamma > 0 (have %d, %g)", s.StepSize, s.Gamma)
		}
	case s.Kind == "onecycle" || s.Kind == "cosine":
		if s.TotalSteps < 1 {
			return fmt.Errorf("%s schedule needs the total number of steps", s.Kind)
		}
		if s.WarmupSteps < 0 || s.WarmupSteps >= s.TotalSteps {
			return fmt.Errorf("warm-up of %d steps does not fit in %d", s.WarmupSteps, s.TotalSteps)
		}
	default:
		return fmt.Errorf("schedule %q is unknown; use constant, step, onecycle or cosine", s.Kind)
	}
	return nil
}

// Rate is the learning rate at step (from 0).
func (s Schedule) Rate(step int) float64 {
	switch s.Kind {
	case "step":
		return s.LR * math.Pow(s.Gamma, float64(step/s.StepSize))
	case "onecycle":
		return s.oneCycle(step)
	case "cosine":
		if step < s.WarmupSteps {
			return s.LR * float64(step+1) / float64(s.WarmupSteps)
		}
		t := math.Min(1, float64(step-s.WarmupSteps)/float64(s.TotalSteps-s.WarmupSteps))
		return s.MinLR + (s.LR-s.MinLR)*(1+math.Cos(math.Pi*t))/2
	}
	return s.LR
}

// oneCycle is torch.optim.lr_scheduler.OneCycleLR with its defaults (Smith & Topin 2017): the
// rate rises from LR/25 to LR over the first 30% of the steps and falls to LR/25/1e4 over the
// rest, both along half cosines.
func (s Schedule) oneCycle(step int) float64 {
	const pctStart, divFactor, finalDivFactor = 0.3, 25.0, 1e4
	initial := s.LR / divFactor
	final := initial / finalDivFactor
	peakStep := pctStart*float64(s.TotalSteps) - 1
	lastStep := float64(s.TotalSteps) - 1
	// Very short runs would put the peak at or before step 0; keep both phases at least a step long.
	peakStep = math.Max(peakStep, 1)
	lastStep = math.Max(lastStep, peakStep+1)
	cosAnneal := func(from, to, t float64) float64 { return to + (from-to)*(1+math.Cos(math.Pi*t))/2 }
	x := float64(step)
	if x <= peakStep {
		return cosAnneal(initial, s.LR, x/peakStep)
	}
	return cosAnneal(s.LR, final, math.Min(1, (x-peakStep)/(lastStep-peakStep)))
}
