package train

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/tensor"
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
	log   io.Writer

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

// Extra keys of the training state.
const (
	extraSettings   = "settings"
	extraEpochStep  = "epoch_step"
	extraEpochTally = "epoch_tally"
	extraEpochSecs  = "epoch_seconds"
	extraReport     = "report"
	// extraWeights is the fingerprint of the weights saved beside the state (model.last).
	extraWeights = "weights_sha256"
	// extraAllowChance records Options.AllowChance, so that a resumed run keeps the choice the
	// run was started with without the flag being repeated.
	extraAllowChance = "allow_chance"
)

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
	r := &run{s: s, o: o, paths: PathsFor(o.Out), log: o.Log}
	// Find out now, not after the whole run, that a file cannot be written where a folder is.
	for _, path := range []string{r.paths.Best, r.paths.Last, r.paths.LastState, r.paths.Report, r.paths.Plot} {
		if info, err := os.Stat(path); err == nil && info.IsDir() {
			return nil, fmt.Errorf("train: %s is a folder; the model is a file: name one inside it, such as %s",
				path, filepath.Join(path, "model.safetensors"))
		}
	}
	if r.log == nil {
		r.log = io.Discard
	}
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

func (r *run) logf(format string, args ...any) { fmt.Fprintf(r.log, format+"\n", args...) }

// setUp reads the data, builds or restores the model and trainer, and makes the loaders.
func (r *run) setUp(ctx context.Context) error {
	s := r.s
	r.logf("reading %s", s.Data)
	set, err := dataset.Scan(s.Data, vision.Decoder{})
	if err != nil {
		return err
	}
	src := dataset.NewSource(dataset.SourceOptions{Size: s.InputSize, Frame: r.o.Framing, FrameID: r.o.FramingID,
		FrameCache: r.o.FrameCache, Cache: true})
	start := time.Now()
	bar := newFramingBar(r.o.FramingProgress, len(set.Samples))
	err = set.Verify(ctx, src, r.o.Workers, func(int) { bar.Add(1) })
	bar.Finish()
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	framed := src.Stats()
	r.logf("%s in %.1f s", framed.Summary(), time.Since(start).Seconds())
	if problem := framed.CacheProblem(); problem != "" {
		r.logf("warning: %s", problem)
	}
	r.logf("%d photos of %d identities (%s, %dx%d pixels)", len(set.Samples), len(set.Classes), s.Preprocessing, s.InputSize, s.InputSize)
	remarks, err := r.writeRemarks(src.Remarks())
	if err != nil {
		return err
	}
	r.logSkipped(set.Skipped)
	trainSet, valSet, err := set.Split(s.Seed, s.ValFraction)
	if err != nil {
		return err
	}
	r.logf("split: %d photos to train on, %d to validate with", len(trainSet.Samples), len(valSet.Samples))
	r.base = newBaseline("validation", valSet.Counts())
	if len(valSet.Samples) == 0 {
		r.logf("no validation photos: the best model is chosen by training accuracy")
		r.base = newBaseline("training", trainSet.Counts())
	}

	if r.o.Resume {
		err = r.restore(set.Classes)
	} else {
		err = r.fresh(ctx, set.Classes, trainSet, src)
	}
	if err != nil {
		return err
	}

	r.trainLoader, err = dataset.NewLoader(trainSet, src, dataset.LoaderOptions{BatchSize: s.BatchSize,
		Workers: r.o.Workers, Shuffle: true, Seed: s.Seed, Augment: s.Augment, Norm: r.norm()})
	if err != nil {
		return err
	}
	if len(valSet.Samples) > 0 {
		r.valLoader, err = dataset.NewLoader(valSet, src, dataset.LoaderOptions{BatchSize: s.BatchSize,
			Workers: r.o.Workers, Norm: r.norm()})
		if err != nil {
			return err
		}
	}
	r.batches = r.trainLoader.NumBatches()
	if epochs := s.epochsFor(r.batches); epochs != s.Epochs {
		r.logf("a small set: %d epochs would be %d steps; training %d epochs (%d steps), the recipe's least (--min-steps)",
			s.Epochs, s.Epochs*r.batches, epochs, epochs*r.batches)
		s.Epochs, r.s.Epochs = epochs, epochs
	}
	if r.trainer, err = nn.NewTrainer(r.model, s.optimizer(), s.schedule(r.batches)); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if r.o.Resume {
		if err := r.restoreState(); err != nil {
			return err
		}
	} else {
		r.report = &Report{
			Settings: s, Status: "running", Device: r.b.Describe(), Classes: set.Classes,
			Normalization: r.norm(), Parameters: r.model.NumParams(), FLOPsPerImage: r.model.FLOPs(), Files: r.paths,
		}
	}
	r.report.TrainPhotos, r.report.ValPhotos = len(trainSet.Samples), len(valSet.Samples)
	r.report.SkippedPhotos = len(set.Skipped)
	r.report.FramingRemarks = remarks
	r.report.Files.Framing = ""
	if remarks > 0 {
		r.report.Files.Framing = r.paths.Framing
	}
	r.logf("model: %s, width 1/%d, %d classes, %.2f M parameters, %.3f GFLOP per image, on %s",
		r.model.Config.Arch, s.WidthDivisor, len(set.Classes), float64(r.model.NumParams())/1e6, float64(r.model.FLOPs())/1e9, r.b.Describe())
	return nil
}

func (r *run) norm() vision.Normalization {
	return vision.Normalization{Mean: r.info.Mean, Std: r.info.Std}
}

// writeRemarks lists the photos framed with a remark ("no face found: ...") in Paths.Framing,
// one "path: remark" a line in path order (control characters in a path escaped, so that each
// photo keeps to its line), and names a few on the log; it returns how many there are.
// Without remarks, a list left by an earlier run at the same place is removed.
func (r *run) writeRemarks(remarks map[string]string) (int, error) {
	if len(remarks) == 0 {
		if err := os.Remove(r.paths.Framing); err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("train: %w", err)
		}
		return 0, nil
	}
	paths := slices.Sorted(maps.Keys(remarks))
	err := vision.WriteAtomic(r.paths.Framing, func(w io.Writer) error {
		for _, path := range paths {
			if _, err := fmt.Fprintf(w, "%s: %s\n", safefile.Printable(path), remarks[path]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("train: %w", err)
	}
	const shown = 5
	r.logf("%d photos were framed with a remark (all listed in %s):", len(paths), r.paths.Framing)
	for _, path := range paths[:min(shown, len(paths))] {
		r.logf("  %s: %s", safefile.Printable(path), remarks[path])
	}
	if len(paths) > shown {
		r.logf("  ... and %d more", len(paths)-shown)
	}
	return len(paths), nil
}

// logSkipped lists the files the run cannot use, a few by name.
func (r *run) logSkipped(skipped []error) {
	if len(skipped) == 0 {
		return
	}
	const shown = 10
	r.logf("skipping %d unusable files:", len(skipped))
	for _, err := range skipped[:min(shown, len(skipped))] {
		r.logf("  %s", safefile.Printable(err.Error()))
	}
	if len(skipped) > shown {
		r.logf("  ... and %d more", len(skipped)-shown)
	}
}

// fresh initialises a new model, with the input normalisation measured on the training split.
func (r *run) fresh(ctx context.Context, classes []string, trainSet *dataset.Dataset, src *dataset.Source) error {
	// One worker: the float64 sums then always add up in the same order, so two runs of the
	// same settings get the very same statistics (the pictures are cached; this is quick).
	norm, err := dataset.ComputeNorm(ctx, trainSet, src, 1)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	r.info = nn.ModelInfo{ClassNames: classes, Mean: norm.Mean, Std: norm.Std}
	r.model, err = nn.New(r.b, nn.Config{Arch: r.s.Arch, Classes: len(classes), InputSize: r.s.InputSize, WidthDivisor: r.s.WidthDivisor}, r.s.Seed)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

// restore loads the last checkpoint's model and checks it fits the data.
func (r *run) restore(classes []string) error {
	m, info, err := nn.LoadModel(r.b, r.paths.Last)
	if err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	r.model, r.info = m, info
	if !slices.Equal(info.ClassNames, classes) {
		return fmt.Errorf("train: resume: %s was trained on %d identities (%s) but %s has %d (%s)",
			r.paths.Last, len(info.ClassNames), abbreviate(info.ClassNames), r.s.Data, len(classes), abbreviate(classes))
	}
	if arch := cmp.Or(r.s.Arch, nn.ArchVGGD); m.Config.Arch != arch {
		return fmt.Errorf("train: resume: %s holds a %s model, the settings say %s", r.paths.Last, m.Config.Arch, arch)
	}
	if m.Config.InputSize != r.s.InputSize || m.Config.WidthDivisor != r.s.WidthDivisor {
		return fmt.Errorf("train: resume: %s holds a model of input %d and width divisor %d, the settings say %d and %d",
			r.paths.Last, m.Config.InputSize, m.Config.WidthDivisor, r.s.InputSize, r.s.WidthDivisor)
	}
	return nil
}

// restoreState loads the optimiser state, counters and the run's own values, and checks that
// the run continues with the settings it was started with.
func (r *run) restoreState() error {
	t := r.trainer
	if err := t.LoadState(r.paths.LastState); err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	// The model and its state are two files: one copied from another run, or from another
	// epoch of this one, must not resume silently. (States from before the fingerprint was
	// recorded have none.)
	if want := t.Extra[extraWeights]; want != "" {
		got, err := r.model.Fingerprint()
		if err != nil {
			return fmt.Errorf("train: resume: %w", err)
		}
		if got != want {
			return fmt.Errorf("train: resume: %s does not hold the weights %s was saved with (another run's or another epoch's); resume from a matching pair or start afresh",
				r.paths.Last, r.paths.LastState)
		}
	}
	var saved Settings
	if err := json.Unmarshal([]byte(t.Extra[extraSettings]), &saved); err != nil {
		return fmt.Errorf("train: resume: %s: no usable settings: %v", r.paths.LastState, err)
	}
	if diff := settingsDiff(saved, r.s); diff != "" {
		return fmt.Errorf("train: resume: %s was started with other settings (%s); a resumed run must use the same ones",
			r.paths.LastState, diff)
	}
	var err error
	if r.epochStep, err = strconv.Atoi(t.Extra[extraEpochStep]); err != nil {
		return fmt.Errorf("train: resume: %s: epoch step: %v", r.paths.LastState, err)
	}
	if r.epochSeconds, err = strconv.ParseFloat(t.Extra[extraEpochSecs], 64); err != nil {
		return fmt.Errorf("train: resume: %s: epoch seconds: %v", r.paths.LastState, err)
	}
	r.report = &Report{}
	for key, dst := range map[string]any{extraEpochTally: &r.epochTally, extraReport: r.report} {
		if err := json.Unmarshal([]byte(t.Extra[key]), dst); err != nil {
			return fmt.Errorf("train: resume: %s: %s: %v", r.paths.LastState, key, err)
		}
	}
	r.report.Status, r.report.Message, r.report.Device = "running", "", r.b.Describe()
	if t.Extra[extraAllowChance] == "true" {
		r.o.AllowChance = true
	}
	r.logf("resuming %s at epoch %d, batch %d of %d (step %d)", r.paths.Last, t.Epoch+1, r.epochStep, r.batches, t.Steps)
	return nil
}

// settingsDiff lists the settings that differ, as "batch_size 32 -> 64".
func settingsDiff(saved, now Settings) string {
	a, _ := json.Marshal(saved)
	b, _ := json.Marshal(now)
	var ma, mb map[string]any
	json.Unmarshal(a, &ma)
	json.Unmarshal(b, &mb)
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(ma)) {
		x, _ := json.Marshal(ma[k])
		y, _ := json.Marshal(mb[k])
		if string(x) != string(y) {
			diffs = append(diffs, fmt.Sprintf("%s %s, now %s", k, x, y))
		}
	}
	return strings.Join(diffs, "; ")
}

// loop trains the remaining epochs.
func (r *run) loop(ctx context.Context) error {
	t := r.trainer
	for t.Epoch < r.s.Epochs {
		if err := r.epoch(ctx); err != nil {
			return err
		}
	}
	r.report.Status = "complete"
	verdict := r.judgeRun()
	if err := r.writeReport(); err != nil {
		return err
	}
	best := r.report.Epochs[r.report.BestEpoch-1]
	how := fmt.Sprintf("validation top-1 %.1f%%", 100*best.ValTop1)
	if r.valLoader == nil {
		how = fmt.Sprintf("training accuracy %.1f%%", 100*best.TrainAccuracy)
	}
	r.logf("done in %.1f s: best epoch %d (%s) saved to %s", r.report.Seconds, best.Epoch, how, r.paths.Best)
	return verdict
}

// epoch trains the rest of the current epoch, validates, and saves the checkpoints.
func (r *run) epoch(ctx context.Context) error {
	t := r.trainer
	epoch := t.Epoch
	started := time.Now()
	trainSeconds := 0.0
	images := 0
	bar := newBar(r.o.Progress, r.batches, fmt.Sprintf("epoch %d/%d", epoch+1, r.s.Epochs))
	bar.Set(r.epochStep)
	if r.epochStep < r.batches {
		trainStart := time.Now()
		for batch, err := range r.trainLoader.Epoch(ctx, epoch) {
			if err != nil {
				bar.Finish()
				if ctx.Err() != nil {
					return r.interrupt(started)
				}
				return err
			}
			if batch.Index < r.epochStep {
				continue // done before the run was interrupted
			}
			if err := r.step(batch); err != nil {
				bar.Finish()
				return err
			}
			images += batch.Labels.Numel()
			r.epochStep++
			if r.o.AfterStep != nil {
				r.o.AfterStep(t.Steps)
			}
			if r.epochStep%statsEvery == 0 || r.epochStep == r.batches || ctx.Err() != nil {
				if err := r.readStats(); err != nil {
					bar.Finish()
					return err
				}
				loss, acc := r.epochTally.mean()
				bar.Describe(fmt.Sprintf("epoch %d/%d  loss %.3f  acc %5.1f%%  %4.0f img/s", epoch+1, r.s.Epochs,
					loss, 100*acc, float64(images)/time.Since(trainStart).Seconds()))
			}
			bar.Set(r.epochStep)
			if ctx.Err() != nil {
				bar.Finish()
				return r.interrupt(started)
			}
		}
		trainSeconds = time.Since(trainStart).Seconds()
	}
	bar.Finish()

	m := EpochMetrics{Epoch: epoch + 1, LR: t.Schedule.Rate(t.Steps - 1)}
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
	}
	m.Seconds = r.epochSeconds + time.Since(started).Seconds()
	r.report.Seconds += time.Since(started).Seconds()
	r.report.Epochs = append(r.report.Epochs, m)

	isBest := r.report.BestEpoch == 0 || r.better(m, r.report.Epochs[r.report.BestEpoch-1])
	if isBest {
		r.report.BestEpoch = m.Epoch
	}
	t.Epoch++
	r.epochStep, r.epochTally, r.epochSeconds = 0, tally{}, 0
	r.logEpoch(m, isBest)
	r.warnPlateau()
	if err := r.save(isBest); err != nil {
		return err
	}
	return r.writeReport()
}

// better says whether epoch a beats the best epoch so far, b: a higher validation top-1, or an
// equal one with a lower validation loss (small validation sets tie often). Without a
// validation split, training accuracy and loss stand in.
func (r *run) better(a, b EpochMetrics) bool {
	if r.valLoader == nil {
		return a.TrainAccuracy > b.TrainAccuracy || (a.TrainAccuracy == b.TrainAccuracy && a.TrainLoss < b.TrainLoss)
	}
	return a.ValTop1 > b.ValTop1 || (a.ValTop1 == b.ValTop1 && a.ValLoss < b.ValLoss)
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
	return r.trainer.Step(x, labels)
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

// validate scores the validation split with the network in evaluation mode (no dropout).
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

// save writes the last checkpoint (model and training state) and, when best, the best model.
// Each file is written atomically; the weights are checked first, so a NaN never reaches disk.
func (r *run) save(best bool) error {
	if err := r.checkWeights(); err != nil {
		return err
	}
	t := r.trainer
	settings, err := json.Marshal(r.s)
	if err != nil {
		return err
	}
	tally, err := json.Marshal(r.epochTally)
	if err != nil {
		return err
	}
	report, err := json.Marshal(r.report)
	if err != nil {
		return err
	}
	weights, err := r.model.Fingerprint()
	if err != nil {
		return err
	}
	t.Extra = map[string]string{
		extraWeights:    weights,
		extraSettings:   string(settings),
		extraEpochStep:  strconv.Itoa(r.epochStep),
		extraEpochTally: string(tally),
		extraEpochSecs:  strconv.FormatFloat(r.epochSeconds, 'g', -1, 64),
		extraReport:     string(report),
	}
	if r.o.AllowChance {
		t.Extra[extraAllowChance] = "true"
	}
	if best {
		if err := nn.SaveModel(r.paths.Best, r.model, r.info); err != nil {
			return err
		}
	}
	if err := nn.SaveModel(r.paths.Last, r.model, r.info); err != nil {
		return err
	}
	return t.SaveState(r.paths.LastState)
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

// writeReport writes the JSON report and the plot of the curves so far.
func (r *run) writeReport() error {
	if err := writeJSON(r.paths.Report, r.report); err != nil {
		return err
	}
	if len(r.report.Epochs) == 0 {
		return nil
	}
	return writePlot(r.paths.Plot, r.report.Epochs, r.report.ValPhotos > 0, r.base, r.report.Verdict)
}

func (r *run) logEpoch(m EpochMetrics, best bool) {
	line := fmt.Sprintf("epoch %*d/%d  train loss %.3f acc %5.1f%%", len(strconv.Itoa(r.s.Epochs)), m.Epoch, r.s.Epochs,
		m.TrainLoss, 100*m.TrainAccuracy)
	if r.valLoader != nil {
		line += fmt.Sprintf("  val loss %.3f top-1 %5.1f%% top-5 %5.1f%%", m.ValLoss, 100*m.ValTop1, 100*m.ValTop5)
	}
	line += fmt.Sprintf("  lr %.2g  %.0f img/s  %.1f s", m.LR, m.ImagesPerSecond, m.Seconds)
	if best {
		line += "  best"
	}
	r.logf("%s", line)
}

// abbreviate lists the first few names, enough to recognise a collection in a message.
func abbreviate(names []string) string {
	const shown = 4
	if len(names) <= shown {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:shown], ", ") + fmt.Sprintf(", ... %d more", len(names)-shown)
}
