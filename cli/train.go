package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/lookalike"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/train"
	"github.com/vgglab/vgg/vision"
)

func init() {
	d := train.DefaultSettings()
	addCommand(&cli.Command{
		Name:      "train",
		Usage:     "train VGG-D on a folder of photos, one sub-folder per person",
		ArgsUsage: " ",
		Description: "train reads DIR/<identity>/<photo>, finds and aligns the face in each photo (--aligned skips that), holds out part of each identity for validation, " +
			"and trains epoch after epoch, printing the training loss and accuracy and the validation " +
			"top-1 and top-5. It saves to --out the latest epoch whose validation top-1 is within the noise of the highest (on a few validation photos, the last epochs recognise new photos best), and the last epoch beside it (.last), with " +
			"a JSON report and a PNG of the curves. Ctrl-C saves and stops; --resume continues exactly " +
			"where the run stopped, with the settings it was started with. Framed photos are kept in a cache (--cache, --no-cache) " +
			"so that a later run over the same photos, and the gallery indexed at the end, need not frame them again. --time gives the run a budget: " +
			"it times training steps of a few networks here first and chooses the network and epochs that fit. Before the first epoch it times a few " +
			"steps and estimates the run's duration. At the end it compares the kept epoch's validation top-1 with " +
			"guessing (chance, and always naming the largest identity); a model no better than that is still " +
			"written, with its gallery, but the command fails (exit status 3) unless --allow-chance.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "data", Usage: "photo folder: DIR/<identity>/<photo>"},
			&cli.StringFlag{Name: "out", Value: "model.safetensors", Usage: "where the kept model goes; the other files go beside it"},
			&cli.StringFlag{Name: "recipe", Value: "default", Usage: "the settings the other flags change: default (vgg-d-bn, adamw, as below) or seed " +
				"(the blog post's: vgg-d, sgd at lr 0.01 with weight decay 5e-4, which stays at chance on small sets)"},
			&cli.StringFlag{Name: "arch", Value: d.Arch, Usage: "the network: vgg-d-bn (a batch norm after every convolution, torchvision's vgg16_bn layout) or vgg-d (the seed's, without)"},
			&cli.StringFlag{Name: "init", Usage: "start from the weights of this `MODEL` (one trained on other people, of the same --arch, --width and --input) instead of random ones; a new classifier is made for these identities"},
			&cli.DurationFlag{Name: "time", Usage: "how long the whole run may take, such as 30m or 2h: it times training steps here and chooses the epochs, " +
				"and the --width and --input not given, that fit (the report says what it chose and why)"},
			&cli.IntFlag{Name: "epochs", Value: d.Epochs, Usage: "passes over the training photos (given, exactly that many)"},
			&cli.IntFlag{Name: "min-steps", Value: d.MinSteps, Usage: "the least number of training steps: a small set trains more epochs to make them (0: none)"},
			&cli.IntFlag{Name: "batch", Value: d.BatchSize, Usage: "photos per training step"},
			&cli.StringFlag{Name: "optimizer", Value: d.Optimizer, Usage: "sgd (with momentum), adam or adamw"},
			&cli.Float64Flag{Name: "lr", Value: d.LR, Usage: "learning rate (the peak of onecycle)"},
			&cli.StringFlag{Name: "schedule", Value: d.Schedule, Usage: "learning-rate schedule: constant, step, onecycle or cosine"},
			&cli.IntFlag{Name: "step-epochs", Value: d.StepEpochs, Usage: "the step schedule divides the rate by 10 every this many epochs"},
			&cli.Float64Flag{Name: "momentum", Value: d.Momentum, Usage: "SGD momentum"},
			&cli.Float64Flag{Name: "weight-decay", Value: d.WeightDecay, Usage: "L2 weight decay (decoupled for adamw)"},
			&cli.IntFlag{Name: "width", Value: d.WidthDivisor, Usage: "divide every layer's width by this (1, 2, 4, 8 or 16)"},
			&cli.IntFlag{Name: "input", Value: d.InputSize, Usage: "side of the network's input pictures, a multiple of 32"},
			&cli.Float64Flag{Name: "val", Value: d.ValFraction, Usage: "share of each identity's photos held out for validation"},
			&cli.Uint64Flag{Name: "seed", Value: d.Seed, Usage: "fixes initial weights, split, shuffles, augmentation and dropout"},
			&cli.StringFlag{Name: "augment", Value: "default", Usage: "training-picture variation: default (flip, shift, zoom, tilt), flip-shift or none (--erase and --mixup apart)"},
			&cli.Float64Flag{Name: "erase", Usage: "share of training pictures that get a random rectangle blanked (random erasing), on top of --augment; 0: none"},
			&cli.Float64Flag{Name: "mixup", Value: d.Augment.Mixup, Usage: "share of training batches whose pictures are mixed in pairs and learnt as a mix of both identities (mixup), on top of --augment; 0: none"},
			&cli.IntFlag{Name: "workers", Usage: "goroutines decoding photos (0: one per CPU)"},
			&cli.BoolFlag{Name: "resume", Usage: "continue the run saved beside --out"},
			&cli.BoolFlag{Name: "allow-chance", Usage: "exit 0 even when the model has not learned (no better than guessing); the log and the report still say so"},
			alignedFlag(),
			deviceFlag(),
			forceFlag(),
		}, cacheFlags()...),
		Action: runTrain,
	})
}

// augmentations are the --augment choices.
var augmentations = map[string]dataset.Augment{
	"default":    dataset.DefaultAugment,
	"flip-shift": {Flip: true, MaxShift: dataset.DefaultAugment.MaxShift},
	"none":       {},
}

func runTrain(c *cli.Context) error {
	if err := checkAtLeast(c, map[string]int{"epochs": 1, "batch": 1, "step-epochs": 1, "width": 1, "input": 32, "workers": 0}); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	out := c.String("out")
	recipe, ok := train.Recipes[c.String("recipe")]
	if !ok {
		return fmt.Errorf("train: --recipe %q is unknown; use default or seed", c.String("recipe"))
	}
	s := recipe()
	if c.Bool("resume") {
		paths := train.PathsFor(out)
		if _, err := os.Stat(paths.LastState); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("train: nothing to resume at %s: no run was saved there (%s does not exist); start one with --data", out, paths.LastState)
		}
		// A resumed run takes its settings from the run's report; flags given now must agree
		// with them, which train.Run checks against the saved state.
		if report, err := train.ReadReport(paths.Report); err == nil {
			s = report.Settings
		}
	}
	// A flag given changes the recipe (or the resumed run's settings); one not given leaves it.
	set := func(name string, apply func()) {
		if c.IsSet(name) {
			apply()
		}
	}
	if c.IsSet("time") {
		switch {
		case c.Bool("resume"):
			return fmt.Errorf("train: --time plans a new run; a resumed run goes on with the plan it made (leave --time out)")
		case c.IsSet("epochs"):
			return fmt.Errorf("train: --time chooses the epochs; give --time or --epochs, not both")
		case c.Duration("time") <= 0:
			return fmt.Errorf("train: --time %s: give a positive duration, such as 30m", c.Duration("time"))
		}
		// What the budget chooses starts unset; a --width or --input given below is kept.
		s.TimeBudget, s.Epochs, s.WidthDivisor, s.InputSize = c.Duration("time"), 0, 0, 0
	}
	set("data", func() { s.Data = c.String("data") })
	set("arch", func() { s.Arch = c.String("arch") })
	set("init", func() { s.Init = c.String("init") })
	set("epochs", func() { s.Epochs, s.MinSteps = c.Int("epochs"), 0 }) // epochs asked for are trained
	set("min-steps", func() { s.MinSteps = c.Int("min-steps") })
	set("batch", func() { s.BatchSize = c.Int("batch") })
	set("optimizer", func() { s.Optimizer = c.String("optimizer") })
	set("lr", func() { s.LR = c.Float64("lr") })
	set("schedule", func() { s.Schedule = c.String("schedule") })
	set("step-epochs", func() { s.StepEpochs = c.Int("step-epochs") })
	set("momentum", func() { s.Momentum = c.Float64("momentum") })
	set("weight-decay", func() { s.WeightDecay = c.Float64("weight-decay") })
	set("width", func() { s.WidthDivisor = c.Int("width") })
	set("input", func() { s.InputSize = c.Int("input") })
	set("val", func() { s.ValFraction = c.Float64("val") })
	set("seed", func() { s.Seed = c.Uint64("seed") })
	var augmentErr error
	set("augment", func() {
		a, ok := augmentations[c.String("augment")]
		if !ok {
			augmentErr = fmt.Errorf("train: --augment %q is unknown; use default, flip-shift or none", c.String("augment"))
		}
		// The recipe's erasing and mixup are not picture variations of --augment's: they stay.
		a.Erase, a.Mixup = s.Augment.Erase, s.Augment.Mixup
		s.Augment = a
	})
	if augmentErr != nil {
		return augmentErr
	}
	set("erase", func() { s.Augment.Erase = c.Float64("erase") })
	set("mixup", func() { s.Augment.Mixup = c.Float64("mixup") })
	if s.Data == "" {
		return fmt.Errorf("train: --data is required: the folder of photos, DIR/<identity>/<photo>")
	}
	// Refused before any work: the run writes seven files named after --out, none of which may
	// be a photo of the collection, land inside it, or replace a file another program made.
	var initInput []safefile.Input
	if s.Init != "" {
		initInput = append(initInput, safefile.Input{Path: s.Init, Flag: "--init"})
	}
	if err := checkTrainOutputs(out, s.Data, c.Bool("force"), initInput...); err != nil {
		return fmt.Errorf("train: --out: %w", err)
	}
	// One run at a time writes a model and the files beside it (MODEL.safetensors.lock, in
	// the folder the run creates anyway).
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("train: --out: %w", err)
	}
	unlockRun, lockErr := safefile.TryLock(out)
	if lockErr != nil {
		return fmt.Errorf("train: --out: %w", lockErr)
	}
	defer unlockRun()
	var o train.Options
	aligned := c.Bool("aligned")
	if c.Bool("resume") && !c.IsSet("aligned") {
		aligned = s.Preprocessing == train.CentreSquare // as the run was started
	}
	s.Preprocessing, o.FramingID, o.Framing = lookalike.Framing(aligned)
	o.FrameCache, o.FramingProgress = frameCache(c, safefile.Input{Path: s.Data, Flag: "--data"}), c.App.ErrWriter
	o.Out, o.Device, o.Resume, o.Workers = out, c.String("device"), c.Bool("resume"), c.Int("workers")
	o.AllowChance = c.Bool("allow-chance")
	o.Log, o.Progress = c.App.Writer, c.App.ErrWriter

	ctx, stop := interruptible(c.Context)
	defer stop()
	trained, err := train.Run(ctx, s, o)
	if errors.Is(err, train.ErrInterrupted) {
		return fmt.Errorf("%w; continue with: vgg train --resume --out %q", err, out)
	}
	notLearned := errors.Is(err, train.ErrNotLearned)
	if err != nil && !notLearned {
		return err
	}
	// A trained model comes with its gallery, so that 'vgg match' shows look-alike photos and
	// 'vgg enrol' can add people straight away. One that has not learned gets it too, so that
	// it can be inspected whole; 'vgg match' warns about such a model from its report.
	if err := indexCollection(ctx, c.App.Writer, c.App.ErrWriter, indexJob{
		model: out, gallery: gallery.PathFor(out), data: s.Data, device: o.Device, aligned: aligned, force: c.Bool("force"),
		cache: o.FrameCache}); err != nil {
		return err
	}
	if trained != nil {
		printCalibration(c.App.Writer, trained.Calibration)
	}
	if notLearned {
		return fmt.Errorf("%w. The model, its report and its gallery are written for inspection only; --allow-chance keeps such a model and exits 0", err)
	}
	return nil
}

// checkTrainOutputs applies the output rule (safefile.CheckOutput) to every file a run
// writes: the best and last models, the training state, the report, the curves, the list of
// photos framed with a remark (which a run without remarks removes) and the gallery. Each may already be there from this run (--resume) or an earlier one, recognised
// by its content; none may be inside the collection it trains on. Curves drawn before PNGs
// carried vgg's mark are recognised by the run's model beside them, and so is the list of
// framing remarks (by the model, state or report).
func checkTrainOutputs(out, data string, force bool, more ...safefile.Input) error {
	p := train.PathsFor(out)
	inputs := append([]safefile.Input{{Path: data, Flag: "--data"}}, more...)
	runExists := nn.IsCheckpoint(p.Best) || nn.IsCheckpoint(p.Last)
	curves := safefile.Kind{Name: "training curves PNG", Made: func(path string) bool { return runExists || vision.MadePNG(path) }}
	// The list of framing remarks is plain text, one "photo: remark" a line, with no mark of
	// its own: the run beside it (its model, state or report) vouches for it.
	runVouches := runExists || nn.IsCheckpoint(p.LastState) || trainReport.Made(p.Report)
	framingList := safefile.Kind{Name: "list of framing remarks", Made: func(string) bool { return runVouches }}
	for _, f := range []struct {
		path string
		kind safefile.Kind
	}{
		{p.Best, modelKind}, {p.Last, modelKind}, {p.LastState, modelKind},
		{p.Report, trainReport}, {p.Plot, curves}, {p.Framing, framingList}, {gallery.PathFor(out), galleryKind},
	} {
		if err := safefile.CheckOutput(f.path, f.kind, force, inputs...); err != nil {
			return err
		}
	}
	return nil
}

// printCalibration closes a run with how far the best model's probabilities and confidence
// words can be trusted, measured on the validation split (nothing without one):
//
//	calibration on 18 validation photos (temperature 1.59): expected calibration error 7.3%
//	  confident 5 of 6 right (83.3%), fairly sure 3 of 5 (60.0%), unsure 2 of 7 (28.6%), chance none
func printCalibration(w io.Writer, r *nn.Reliability) {
	if r == nil || r.Photos == 0 {
		return
	}
	fmt.Fprintf(w, "calibration on %d validation photos (temperature %.2f): expected calibration error %.1f%%\n", r.Photos, r.Calibration.Temperature, 100*r.ECE)
	words := make([]string, len(r.Words))
	for i, word := range r.Words {
		switch {
		case word.Count == 0:
			words[i] = word.Level + " none"
		case i == 0:
			words[i] = fmt.Sprintf("%s %d of %d right (%.1f%%)", word.Level, word.Correct, word.Count, 100*word.Accuracy())
		default:
			words[i] = fmt.Sprintf("%s %d of %d (%.1f%%)", word.Level, word.Correct, word.Count, 100*word.Accuracy())
		}
	}
	fmt.Fprintf(w, "  %s\n", strings.Join(words, ", "))
}
