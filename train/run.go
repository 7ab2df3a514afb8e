package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/vision"
)

// ErrInterrupted is returned, wrapped, when the context is cancelled (Ctrl-C): the run saved
// its state and can be continued with Options.Resume.
var ErrInterrupted = errors.New("training interrupted")

// ErrDiverged is returned, wrapped, when the loss became NaN, infinite or exploded: the run
// stopped without saving, so the checkpoints on disk are the last good ones.
var ErrDiverged = errors.New("training diverged")

// statsEvery is how many steps pass between reads of the loss and accuracy from the backend.
// Each read waits for the device, so on a GPU reading at every step would stall the queue;
// ten steps keep the progress bar lively and catch a diverging loss within a few steps.
const statsEvery = 10

// run is one training session: a fresh run or the continuation of a saved one.
type run struct {
	s     Settings
	o     Options
	paths Paths
	// out are the run's outputs: the progress bars, the log and the report's files.
	out outputs

	b       kernels.Backend
	model   *nn.Model
	trainer *nn.Trainer
	info    nn.ModelInfo

	trainLoader, valLoader *dataset.Loader
	batches                int // training batches per epoch
	report                 *Report
	base                   baseline // what guessing scores, for the guard

	// Where the current epoch stands: batches done and their tallies. They are saved with
	// an interrupted run so that its epoch resumes at the next batch with its metrics whole.
	epochStep    int
	epochTally   tally
	epochSeconds float64
	// inputs holds the backend copies of the batches.
	inputs *staging
	// began is when Run was called; plan is what the time budget chose (nil without one).
	began time.Time
	plan  *BudgetPlan
}

// tally sums the training statistics of part of an epoch.
type tally struct {
	LossSum float64 `json:"loss_sum"`
	Correct float64 `json:"correct"`
	Count   int     `json:"count"`
}

func (t *tally) add(st nn.Stats) {
	t.LossSum += st.Loss * float64(st.Count)
	t.Correct += st.Accuracy * float64(st.Count)
	t.Count += st.Count
}

func (t tally) mean() (loss, accuracy float64) {
	n := float64(max(t.Count, 1))
	return t.LossSum / n, t.Correct / n
}

// Run trains a model as s says and returns the report of the run (also when it stops early,
// with the error saying why). With o.Resume it continues the run saved beside o.Out, which
// must have been started with the same settings; the result is bit for bit the weights an
// uninterrupted run would have reached.
func Run(ctx context.Context, s Settings, o Options) (*Report, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if o.Out == "" {
		return nil, fmt.Errorf("train: no output model path")
	}
	r := &run{s: s, o: o, paths: PathsFor(o.Out), began: time.Now()}
	// Find out now, not after the whole run, that a file cannot be written where a folder is.
	for _, path := range []string{r.paths.Best, r.paths.Last, r.paths.LastState, r.paths.Report, r.paths.Plot} {
		if info, err := os.Stat(path); err == nil && info.IsDir() {
			return nil, fmt.Errorf("train: %s is a folder; the model is a file: name one inside it, such as %s",
				path, filepath.Join(path, "model.safetensors"))
		}
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	r.out = outputs{&progressBars{framing: o.FramingProgress, epochs: o.Progress}, logLines{w: log}, reportFiles{paths: r.paths}}
	_, err := os.Stat(r.paths.LastState)
	switch {
	case !o.Resume && err == nil:
		return nil, fmt.Errorf("train: %s already holds a training run; resume it or choose another output", r.paths.Last)
	case o.Resume && err != nil:
		return nil, fmt.Errorf("train: nothing to resume: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(o.Out), 0o755); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	// Find out now, not after the first epoch's minutes, that the model cannot be saved there.
	probe, err := os.CreateTemp(filepath.Dir(o.Out), ".vgg-write-check-*")
	if err != nil {
		return nil, fmt.Errorf("train: cannot write beside %s: %w", o.Out, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	b, err := kernels.Open(o.Device)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	r.b, r.inputs = b, newStaging(b)
	defer r.close()
	if err := nn.CheckBackend(b, nn.Config{Arch: s.Arch, Classes: 2, InputSize: s.InputSize, WidthDivisor: s.WidthDivisor}); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if err := r.setUp(ctx); err != nil {
		if ctx.Err() != nil {
			return r.report, fmt.Errorf("train: stopped before training began; nothing was saved")
		}
		return r.report, err
	}
	if !o.NoEstimate {
		r.estimate(ctx)
	}
	return r.report, r.loop(ctx)
}

func (r *run) close() {
	r.inputs.release()
	if r.trainer != nil {
		r.trainer.Release()
	}
	if r.model != nil {
		r.model.Release()
	}
	r.b.Close()
}

func (r *run) logf(format string, args ...any) { r.out.note(fmt.Sprintf(format, args...)) }

// writeReport has the report written as it now stands.
func (r *run) writeReport() error { return r.out.reportChanged(r.report, r.base) }

// loop trains the remaining epochs.
func (r *run) loop(ctx context.Context) error {
	t := r.trainer
	for t.Epoch < r.s.Epochs {
		started := time.Now()
		if err := r.epoch(ctx); err != nil {
			return err
		}
		if t.Epoch == budgetCheckEpoch {
			r.keepToBudget(budgetCheckEpoch, time.Since(started).Seconds())
		}
	}
	r.report.Status = "complete"
	verdict := r.judgeRun()
	if err := r.writeReport(); err != nil {
		return err
	}
	kept := r.report.Epochs[r.report.BestEpoch-1]
	what := "validation top-1"
	if r.valLoader == nil {
		what = "training accuracy"
	}
	how := fmt.Sprintf("%s %.1f%%", what, 100*r.score(kept))
	if peak := r.peakScore(); peak > r.score(kept) {
		how += fmt.Sprintf("; the highest, %.1f%%, is within the noise of %d photos, and later epochs are preferred", 100*peak, r.scoredPhotos())
	}
	r.logf("done in %.1f s: kept epoch %d (%s), saved to %s", r.report.Seconds, kept.Epoch, how, r.paths.Best)
	return verdict
}

// epoch trains the rest of the current epoch, validates, and saves the checkpoints.
func (r *run) epoch(ctx context.Context) error {
	t := r.trainer
	epoch := t.Epoch
	started := time.Now()
	trainSeconds := 0.0
	images := 0
	r.out.epochBegan(epoch, r.s.Epochs, r.epochStep, r.batches)
	if r.epochStep < r.batches {
		trainStart := time.Now()
		for batch, err := range r.trainLoader.Epoch(ctx, epoch) {
			if err != nil {
				r.out.epochTrained()
				if ctx.Err() != nil {
					return r.interrupt(started)
				}
				return err
			}
			if batch.Index < r.epochStep {
				continue // done before the run was interrupted
			}
			if err := r.step(batch); err != nil {
				r.out.epochTrained()
				return err
			}
			images += batch.Labels.Numel()
			r.epochStep++
			if r.o.AfterStep != nil {
				r.o.AfterStep(t.Steps)
			}
			var progress *epochProgress
			if r.epochStep%statsEvery == 0 || r.epochStep == r.batches || ctx.Err() != nil {
				if err := r.readStats(); err != nil {
					r.out.epochTrained()
					return err
				}
				loss, acc := r.epochTally.mean()
				progress = &epochProgress{Loss: loss, Accuracy: acc, ImagesPerSecond: float64(images) / time.Since(trainStart).Seconds()}
			}
			r.out.trained(r.epochStep, progress)
			if ctx.Err() != nil {
				r.out.epochTrained()
				return r.interrupt(started)
			}
		}
		trainSeconds = time.Since(trainStart).Seconds()
	}
	r.out.epochTrained()

	m := EpochMetrics{Epoch: epoch + 1, LR: t.Schedule.Rate(t.Steps - 1)}
	var reliability *nn.Reliability
	m.TrainLoss, m.TrainAccuracy = r.epochTally.mean()
	if trainSeconds > 0 {
		m.ImagesPerSecond = float64(images) / trainSeconds
	}
	if r.valLoader != nil {
		val, err := r.validate(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return r.interrupt(started)
			}
			return err
		}
		m.ValLoss, m.ValTop1, m.ValTop5 = val.loss(), val.top1Rate(), val.top5Rate()
		// Saved with this epoch's weights, so that the model's probabilities mean what they
		// say on photos it never saw (see nn.FitTemperature).
		m.Temperature = nn.FitTemperature(val.logits, val.labels)
		r.info.Temperature = m.Temperature
		r.info.CalibrationPhotos = len(val.labels)
		measured := nn.MeasureReliability(val.probabilities(m.Temperature), val.labels, reliabilityBins, r.info.Calibration())
		reliability = &measured
	}
	m.Seconds = r.epochSeconds + time.Since(started).Seconds()
	r.report.Seconds += time.Since(started).Seconds()
	r.report.Epochs = append(r.report.Epochs, m)

	isBest := r.keeps(m)
	if isBest {
		r.report.BestEpoch = m.Epoch
		r.report.Calibration = reliability // the best model's, as it is saved
	}
	t.Epoch++
	r.epochStep, r.epochTally, r.epochSeconds = 0, tally{}, 0
	r.out.epochEnded(m, r.s.Epochs, r.valLoader != nil, isBest)
	r.warnPlateau()
	if err := r.save(isBest); err != nil {
		return err
	}
	return r.writeReport()
}

// keeps says whether the epoch just ended, a, takes the place of the kept epoch (the one in the
// best model file). Later epochs are preferred: the one-cycle and cosine schedules anneal the
// learning rate, so the last epochs are usually the best, and a validation split of a few
// photos cannot tell epochs apart. On 6 people x 20 photos (18 of them validated), the epoch
// with the best validation top-1 named 57.1% of 240 other photos rightly (mean of seeds 1-6),
// the epoch this rule keeps 63.1% (notes/recipe.md). So a later epoch is kept unless its score is below
// the best seen so far by more than the noise of a score on that many photos: two standard
// errors (see noiseMargin). Without a validation split, the training accuracy stands in.
func (r *run) keeps(a EpochMetrics) bool {
	return keeps(r.score(a), r.peakScore(), r.scoredPhotos())
}

// keeps is the rule of run.keeps: an epoch's score against the highest so far, on photos
// photos.
func keeps(score, peak float64, photos int) bool {
	return score >= peak-noiseMargin(peak, photos)
}

// score is what epochs are compared by: the validation top-1, or without a validation split
// the training accuracy.
func (r *run) score(e EpochMetrics) float64 {
	if r.valLoader == nil {
		return e.TrainAccuracy
	}
	return e.ValTop1
}

// scoredPhotos is how many photos score is measured on.
func (r *run) scoredPhotos() int {
	if r.valLoader == nil {
		return r.report.TrainPhotos
	}
	return r.report.ValPhotos
}

// peakScore is the highest score of the epochs so far.
func (r *run) peakScore() float64 {
	peak := 0.0
	for _, e := range r.report.Epochs {
		peak = max(peak, r.score(e))
	}
	return peak
}

// noiseMargin is two standard errors of an accuracy p measured on n photos, with the
// Agresti-Coull correction (two right and two wrong answers added) so that a perfect or a null
// score on a few photos still has a margin: 0.20 for 72% of 18 photos, 0.053 for 73% of 279.
// The best of many epochs' scores is itself lifted by the noise, which is why it is two.
func noiseMargin(p float64, n int) float64 {
	adjusted := (p*float64(n) + 2) / float64(n+4)
	return 2 * math.Sqrt(adjusted*(1-adjusted)/float64(n+4))
}

// step uploads a batch and trains on it.
func (r *run) step(batch *dataset.Batch) error {
	x, err := r.inputs.upload(batch.X)
	if err != nil {
		return err
	}
	labels, err := r.inputs.upload(batch.Labels)
	if err != nil {
		return err
	}
	if batch.Mix != nil {
		return r.trainer.StepMixed(x, labels, batch.Mix.PartnerLabels, batch.Mix.Lambda)
	}
	return r.trainer.Step(x, labels)
}

// validate scores the validation split with the network in evaluation mode (no dropout), each
// photo averaged with its mirror image where the model answers so.
func (r *run) validate(ctx context.Context) (scores, error) {
	var sc scores
	classes := r.model.Config.Classes
	for batch, err := range r.valLoader.Epoch(ctx, 0) {
		if err != nil {
			return sc, err
		}
		logits, err := forward(r.model, r.inputs, batch.X)
		if err != nil {
			return sc, err
		}
		if r.info.Mirror { // as the model will answer: the average with the mirror images
			mirrored := batch.X.Clone()
			vision.MirrorCHW(mirrored.Float32s(), r.model.Config.InputSize)
			mirrorLogits, err := forward(r.model, r.inputs, mirrored)
			if err != nil {
				return sc, err
			}
			for i := range logits {
				logits[i] = (logits[i] + mirrorLogits[i]) / 2
			}
		}
		for i, label := range batch.Labels.Int32s() {
			sc.add(logits[i*classes:(i+1)*classes], int(label))
		}
	}
	return sc, nil
}

// interrupt saves the run where it stands so that Resume continues it exactly.
func (r *run) interrupt(epochStarted time.Time) error {
	t := r.trainer
	elapsed := time.Since(epochStarted).Seconds()
	r.epochSeconds += elapsed
	r.report.Seconds += elapsed
	if err := r.readStats(); err != nil {
		return err
	}
	stopped := fmt.Errorf("%w at epoch %d, batch %d of %d (step %d); saved to %s",
		ErrInterrupted, t.Epoch+1, r.epochStep, r.batches, t.Steps, r.paths.Last)
	r.report.Status, r.report.Message = "interrupted", stopped.Error()
	if err := r.save(false); err != nil {
		return err
	}
	if err := r.writeReport(); err != nil {
		return err
	}
	return stopped
}
