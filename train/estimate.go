package train

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vgglab/vgg/nn"
)

// Before the first epoch the run times a few real training steps and says how long it will
// take: on a CPU the full network at 128 pixels takes hours, and a user should learn that in
// seconds, not after an epoch, with what to change.

// estimateSteps is how many steps are timed, after one untimed warm-up step (which allocates
// the activations and workspaces and would overstate the time).
const estimateSteps = 2

// longOnCPU is the estimate beyond which a CPU run gets suggestions for a smaller one.
const longOnCPU = 30 * time.Minute

// estimate logs the expected duration of the rest of the run. The steps run on a scratch model
// and trainer of the same configuration, released afterwards, so the run's own weights,
// optimiser state and step counter are untouched and its result is the same with or without
// the estimate. A failure to estimate (a device too small for two models, say) is logged and
// the run goes on: the estimate is advice.
func (r *run) estimate(ctx context.Context) {
	epochs := r.s.Epochs - r.trainer.Epoch
	steps := epochs*r.batches - r.epochStep
	if steps <= 0 {
		return
	}
	step, val, err := r.timeSteps(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.logf("no estimate of the run's duration: %v", err)
		}
		return
	}
	total := time.Duration(steps)*step + time.Duration(epochs)*val
	line := fmt.Sprintf("estimated %s on %s: %.2f s per step of %d photos, %d steps per epoch, %d epochs",
		roughDuration(total), r.b.Describe(), step.Seconds(), r.s.BatchSize, r.batches, epochs)
	if r.valLoader != nil {
		line += fmt.Sprintf(", %.1f s of validation per epoch", val.Seconds())
	}
	r.logf("%s", line)
	if r.b.Name() != "cpu" || total <= longOnCPU {
		return
	}
	var smaller []string
	if r.s.WidthDivisor < 8 {
		smaller = append(smaller, fmt.Sprintf("--width 8 or 16 (now %d; the work falls with the square of the divisor)", r.s.WidthDivisor))
	}
	if r.s.InputSize > 64 {
		smaller = append(smaller, fmt.Sprintf("--input 64 (now %d; a quarter of the work per photo)", r.s.InputSize))
	}
	if len(smaller) > 0 {
		r.logf("that is long for a CPU: for a first run, try %s, or --time 30m to have the run choose what fits", strings.Join(smaller, " and/or "))
	}
}

// timeSteps times a training step on the first training batch and the validation of one batch
// (zero without a validation split), per batch, on a scratch model.
func (r *run) timeSteps(ctx context.Context) (step, valPerEpoch time.Duration, err error) {
	m, err := nn.New(r.b, r.model.Config, r.s.Seed)
	if err != nil {
		return 0, 0, err
	}
	defer m.Release()
	t, err := nn.NewTrainer(m, r.s.optimizer(), r.s.schedule(r.batches))
	if err != nil {
		return 0, 0, err
	}
	defer t.Release()

	// The loaders' batches are a function of the epoch number, so reading one here changes
	// nothing the run reads later.
	for batch, err := range r.trainLoader.Epoch(ctx, 0) {
		if err != nil {
			return 0, 0, err
		}
		if step, err = timeTrainingSteps(ctx, t, r.inputs, batch.X, batch.Labels); err != nil {
			return 0, 0, err
		}
		break
	}
	if r.valLoader == nil {
		return step, 0, nil
	}
	for batch, err := range r.valLoader.Epoch(ctx, 0) {
		if err != nil {
			return 0, 0, err
		}
		if _, err := forward(m, r.inputs, batch.X); err != nil { // warm-up
			return 0, 0, err
		}
		start := time.Now()
		if _, err := forward(m, r.inputs, batch.X); err != nil {
			return 0, 0, err
		}
		valPerEpoch = time.Since(start) * time.Duration(r.valLoader.NumBatches())
		if r.info.Mirror {
			valPerEpoch *= 2 // each batch runs again mirrored (see validate)
		}
		break
	}
	return step, valPerEpoch, nil
}

// roughDuration writes d as a person reads an estimate: seconds, minutes or hours.
func roughDuration(d time.Duration) string {
	switch {
	case d < 90*time.Second:
		return fmt.Sprintf("%.0f s", d.Seconds())
	case d < 90*time.Minute:
		return fmt.Sprintf("%.0f min", d.Minutes())
	}
	return fmt.Sprintf("%.1f h", d.Hours())
}
