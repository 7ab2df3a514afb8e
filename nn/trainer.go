package nn

import (
	"fmt"
	"math"

	"github.com/vgglab/vgg/tensor"
)

// Trainer runs training steps of a model: forward, loss, backward, update. It never copies to
// the host inside a step: the loss and accuracy accumulate on the backend, and the training loop
// reads them with ReadStats every so often (each read waits for the queued work).
type Trainer struct {
	Model    *Model
	Opt      *Optimizer
	Schedule Schedule
	// Steps counts the steps done; it picks the learning rate and the dropout masks.
	Steps int
	// Epoch and BestScore belong to the training loop; the trainer only saves and restores them
	// with its state so that --resume carries on where it stopped.
	Epoch     int
	BestScore float64
	// Extra holds the loop's own values to save with the state (a data split seed, say).
	Extra map[string]string

	loss       *SoftmaxCrossEntropy
	trainStats *tensor.Tensor // [3] on the backend: loss sum, correct, count
	evalStats  *tensor.Tensor
}

// NewTrainer prepares to train m with an optimiser and a learning-rate schedule.
func NewTrainer(m *Model, opt OptimizerConfig, sched Schedule) (*Trainer, error) {
	if err := sched.Validate(); err != nil {
		return nil, err
	}
	b := m.Ctx.Backend
	if b == nil {
		return nil, fmt.Errorf("trainer: the model has no weights yet")
	}
	o, err := NewOptimizer(b, m.Params(), opt)
	if err != nil {
		return nil, err
	}
	t := &Trainer{Model: m, Opt: o, Schedule: sched, loss: NewSoftmaxCrossEntropy(m.Ctx)}
	for _, s := range []**tensor.Tensor{&t.trainStats, &t.evalStats} {
		if err := ensure(b, s, tensor.Float32, 3); err != nil {
			return nil, err
		}
		if err := b.Fill(*s, 0); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Step does one step on a batch already on the backend: images x [N, 3, S, S] and int32
// labels [N].
func (t *Trainer) Step(x, labels *tensor.Tensor) error { return t.step(x, labels, nil, 1) }

// StepMixed does one step on a batch of pictures mixed in pairs (mixup): each is learnt as
// lambda of its label and 1-lambda of its partner's, partner an int32 [N] host tensor (see
// SoftmaxCrossEntropy.BackwardMixed). The training loss and accuracy it tallies are against
// labels, the larger share when lambda >= 0.5.
func (t *Trainer) StepMixed(x, labels, partner *tensor.Tensor, lambda float32) error {
	return t.step(x, labels, partner, lambda)
}

func (t *Trainer) step(x, labels, partner *tensor.Tensor, lambda float32) error {
	m := t.Model
	m.SetTraining(true)
	m.Ctx.Step = uint64(t.Steps)
	logits, err := m.Forward(x)
	if err != nil {
		return err
	}
	if err := t.loss.Forward(logits, labels); err != nil {
		return err
	}
	if err := t.loss.Accumulate(t.trainStats); err != nil {
		return err
	}
	var dlogits *tensor.Tensor
	if partner != nil {
		dlogits, err = t.loss.BackwardMixed(partner, lambda)
	} else {
		dlogits, err = t.loss.Backward()
	}
	if err != nil {
		return err
	}
	if err := m.BackwardParams(dlogits); err != nil {
		return err
	}
	if err := t.Opt.Update(float32(t.Schedule.Rate(t.Steps))); err != nil {
		return err
	}
	t.Steps++
	return nil
}

// Eval runs a batch in evaluation mode (no dropout, no update) and accumulates its loss and
// accuracy into the evaluation stats.
func (t *Trainer) Eval(x, labels *tensor.Tensor) error {
	t.Model.SetTraining(false)
	logits, err := t.Model.Forward(x)
	if err != nil {
		return err
	}
	if err := t.loss.Forward(logits, labels); err != nil {
		return err
	}
	return t.loss.Accumulate(t.evalStats)
}

// Stats are a stretch of steps' mean loss and accuracy.
type Stats struct {
	Loss, Accuracy float64
	Count          int
}

// Check returns an error when the loss is NaN or infinite: training has diverged, and every
// later step would only spread the NaN through the weights.
func (s Stats) Check() error {
	if math.IsNaN(s.Loss) || math.IsInf(s.Loss, 0) {
		return fmt.Errorf("training diverged: mean loss is %v over %d examples; lower the learning rate", s.Loss, s.Count)
	}
	return nil
}

// ReadTrainStats returns the training loss and accuracy since the last read and starts a new
// tally. It waits for the backend.
func (t *Trainer) ReadTrainStats() (Stats, error) { return t.readStats(t.trainStats) }

// ReadEvalStats does the same for the Eval batches.
func (t *Trainer) ReadEvalStats() (Stats, error) { return t.readStats(t.evalStats) }

func (t *Trainer) readStats(s *tensor.Tensor) (Stats, error) {
	b := t.Model.Ctx.Backend
	host := tensor.Zeros(3)
	if err := b.Download(host, s); err != nil {
		return Stats{}, err
	}
	if err := b.Fill(s, 0); err != nil {
		return Stats{}, err
	}
	v := host.Float32s()
	st := Stats{Count: int(v[2])}
	if st.Count > 0 {
		st.Loss = float64(v[0]) / float64(v[2])
		st.Accuracy = float64(v[1]) / float64(v[2])
	}
	return st, nil
}

// Release frees the trainer's buffers and optimiser state (not the model).
func (t *Trainer) Release() {
	t.Opt.Release()
	t.loss.Release()
	release(&t.trainStats)
	release(&t.evalStats)
}
