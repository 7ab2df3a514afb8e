package train

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/vision"
)

// setUp reads the data, builds or restores the model and trainer, and makes the loaders.
func (r *run) setUp(ctx context.Context) error {
	s := r.s
	r.logf("reading %s", s.Data)
	set, err := dataset.Scan(s.Data, vision.Decoder{})
	if err != nil {
		return err
	}
	if !r.o.Resume && s.TimeBudget > 0 {
		if err := r.planForBudget(ctx, set); err != nil {
			return err
		}
		s = r.s
	}
	src := dataset.NewSource(dataset.SourceOptions{Size: s.InputSize, Frame: r.o.Framing, FrameID: r.o.FramingID,
		FrameCache: r.o.FrameCache, Cache: true})
	start := time.Now()
	r.out.framingBegan(len(set.Samples))
	err = set.Verify(ctx, src, r.o.Workers, func(int) { r.out.photoFramed() })
	r.out.framingEnded()
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
			Budget: r.plan,
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
	r.model, err = nn.New(r.b, nn.Config{Arch: r.s.Arch, Classes: len(classes), InputSize: r.s.InputSize, WidthDivisor: r.s.WidthDivisor}, r.s.Seed)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	// A new model answers with each face averaged with its mirror image (test-time flip), is
	// validated and calibrated that way (see validate), and records where the new network
	// takes its embedding (the features).
	r.info = nn.ModelInfo{ClassNames: classes, Mean: norm.Mean, Std: norm.Std, Mirror: true, EmbeddingLayer: r.model.EmbeddingLayer}
	if r.s.Init != "" {
		return r.initFrom(r.s.Init)
	}
	return nil
}

// initFrom starts the new model from the weights of the model at path (see Settings.Init),
// with the input normalisation its features were learned under.
func (r *run) initFrom(path string) error {
	start, info, err := nn.LoadModel(r.b, path)
	if err != nil {
		return fmt.Errorf("train: --init: %w", err)
	}
	defer start.Release()
	fresh, err := r.model.InitFrom(start)
	if err != nil {
		return fmt.Errorf("train: --init %s: %w", path, err)
	}
	r.info.Mean, r.info.Std = info.Mean, info.Std
	r.logf("started from %s (%d identities): every weight taken but %s", path, len(info.ClassNames), strings.Join(fresh, ", "))
	if len(fresh) == 0 {
		r.logf("  (the same identities: the classifier carries over too)")
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

// abbreviate lists the first few names, enough to recognise a collection in a message.
func abbreviate(names []string) string {
	const shown = 4
	if len(names) <= shown {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:shown], ", ") + fmt.Sprintf(", ... %d more", len(names)-shown)
}
