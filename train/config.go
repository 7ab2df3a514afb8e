// Package train runs the whole training job of a VGG-D face classifier: it reads a folder of
// identities, splits it, trains epoch after epoch with a progress bar, validates (top-1 and
// top-5), keeps the best and the last checkpoint, resumes an interrupted run exactly, stops
// cleanly on Ctrl-C or a diverging loss, and writes a JSON report and a PNG of the curves
// beside the model. Answering photos with a trained model is lookalike's.
//
// The layers, optimisers and checkpoint files are nn's; the photo loading, split and batch
// pipeline are dataset's. This package is the loop that ties them together.
package train

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/dataset/framecache"
	"github.com/vgglab/vgg/nn"
)

// Settings are the choices that define a training run: the same settings on the same data give
// the same weights, bit for bit. They are stored with every checkpoint so that a resumed run
// can check it continues the run it claims to.
type Settings struct {
	// Data is the photo folder, DIR/<identity>/<photo>.
	Data string `json:"data"`
	// Init is a model file whose weights start the network instead of random ones
	// (fine-tuning): every tensor but a classifier for another number of identities is taken
	// from it, and its input normalisation too. "" starts from scratch.
	Init string `json:"init,omitempty"`
	// Epochs is the number of passes over the training split; 0 with a TimeBudget: the budget
	// chooses.
	Epochs int `json:"epochs"`
	// TimeBudget, when set, is how long the whole run may take (framing and indexing the
	// gallery included): the run times training steps on this machine and chooses the epochs,
	// and the width and input size where they are 0, that fit it (see planBudget). The
	// report's settings hold what it chose, so that a resumed run continues that.
	TimeBudget time.Duration `json:"time_budget,omitempty"`
	// MinSteps is the least number of training steps: on a set so small that Epochs passes
	// make fewer, the run trains more epochs (0: exactly Epochs). The run's report stores the
	// epochs it trained.
	MinSteps int `json:"min_steps,omitempty"`
	// BatchSize is the number of photos per training step.
	BatchSize int `json:"batch_size"`
	// Optimizer is "sgd" (with momentum), "adam" or "adamw".
	Optimizer string `json:"optimizer"`
	// Momentum is SGD's momentum; Adam ignores it.
	Momentum float64 `json:"momentum"`
	// WeightDecay is the L2 penalty (decoupled for adamw).
	WeightDecay float64 `json:"weight_decay"`
	// LR is the base learning rate: the peak of "onecycle", the start of the others.
	LR float64 `json:"lr"`
	// Schedule is "constant", "step" (x0.1 every StepEpochs), "onecycle" or "cosine"
	// (with a warm-up over the first 5% of the steps).
	Schedule string `json:"schedule"`
	// StepEpochs is the period of the "step" schedule, in epochs.
	StepEpochs int `json:"step_epochs"`
	// Arch is the network: "vgg-d" (the seed's; empty means it) or "vgg-d-bn" (a batch norm
	// after every convolution). See nn.Config.Arch.
	Arch string `json:"arch,omitempty"`
	// WidthDivisor divides every layer's width (1: the paper's network); 0 with a
	// TimeBudget: the budget chooses.
	WidthDivisor int `json:"width_divisor"`
	// InputSize is the side of the square pictures the network sees, a multiple of 32; 0 with
	// a TimeBudget: the budget chooses.
	InputSize int `json:"input_size"`
	// ValFraction is the share of each identity's photos held out for validation.
	ValFraction float64 `json:"val_fraction"`
	// Seed fixes the weight initialisation, the split, the shuffles, the augmentation and the
	// dropout masks.
	Seed uint64 `json:"seed"`
	// Augment is how much training pictures are varied.
	Augment dataset.Augment `json:"augment"`
	// Preprocessing names what Options.Preprocess does to a photo ("centre square" when
	// nothing), so a resumed run cannot silently switch it.
	Preprocessing string `json:"preprocessing"`
}

// DemoSettings train the synthetic demo's network: the default recipe's VGG-D with batch norm
// at 1/8 width (0.4 M parameters) on 32x32 pictures, for 40 epochs with Adam. The demo's run
// is chaotic: the same seed under another SIMD level's rounding ended 25 epochs anywhere
// from 56% to 99.5% held-out (seeds 1 to 7, notes/cpu-vs-torch.md); 40 epochs, affordable
// since the direct convolutions (about 20 s on two cores), ended seeds 1, 2, 3 and 5 at 95,
// 77.5, 78 and 88% where 25 had ended them at 84.5, 59, 69.5 and 68.5%.
func DemoSettings() Settings {
	s := DefaultSettings()
	s.InputSize = 32
	s.WidthDivisor = 8
	s.Epochs = 40
	s.MinSteps = 0 // the demo's epochs are chosen for its set
	s.BatchSize = 16
	s.Optimizer = "adam"
	s.LR = 0.002
	s.WeightDecay = 0
	s.ValFraction = 0.1
	// The photos already vary in tilt and size; flips and shifts are cheap and enough.
	s.Augment = dataset.Augment{Flip: true, MaxShift: dataset.DefaultAugment.MaxShift}
	return s
}

// DefaultSettings is the recipe `vgg train` uses unless told otherwise, chosen by measurement
// (notes/recipe.md): VGG-D with a batch norm after every convolution, AdamW at 1e-3 with
// decoupled weight decay 0.05 under a one-cycle schedule, batches of 16, flips, shifts, small
// zooms and tilts, 128-pixel inputs, the full-width network and a tenth of each identity held
// out (at least 3 photos). On 20 celebrities at 64 pixels and 1/8 width it reaches 71%
// validation top-1 in 30 epochs, where the seed's recipe reaches 20%. A small set trains at
// least 1,500 steps: 6 people with 20 photos each make 7 steps an epoch, and 30 epochs of
// them (210 steps) named 27.9% of 240 other photos of the same people rightly, 200 epochs
// (1,400 steps) 52.1%. Half the batches are mixed in pairs (mixup): on that set it raised the
// mean of six seeds from 63.1% to 66.2%, and on 48 people it enrolled unseen people 5 points
// better for at most a point of top-1 (notes/recipe.md, "The kept epoch and mixup").
func DefaultSettings() Settings {
	s := SeedSettings()
	s.Arch = nn.ArchVGGDBN
	s.Optimizer = "adamw"
	s.LR = 1e-3
	s.WeightDecay = 0.05
	s.BatchSize = 16
	s.MinSteps = 1500
	s.Augment.Mixup = 0.5
	return s
}

// epochsFor is how many epochs a run of batchesPerEpoch steps an epoch trains: Epochs, or more
// to make MinSteps.
func (s Settings) epochsFor(batchesPerEpoch int) int {
	if batchesPerEpoch < 1 || s.Epochs*batchesPerEpoch >= s.MinSteps {
		return s.Epochs
	}
	return (s.MinSteps + batchesPerEpoch - 1) / batchesPerEpoch
}

// SeedSettings is the seed's recipe, as the blog post trained it: VGG-D without batch norm,
// SGD with momentum 0.9 and weight decay 5e-4 at a one-cycle peak of 0.01, batches of 32, the
// same augmentation, input size, width and split as DefaultSettings. It learns on large sets but
// sits at chance on small ones.
func SeedSettings() Settings {
	return Settings{
		Arch:          nn.ArchVGGD,
		Epochs:        30,
		BatchSize:     32,
		Optimizer:     "sgd",
		Momentum:      0.9,
		WeightDecay:   5e-4,
		LR:            0.01,
		Schedule:      "onecycle",
		StepEpochs:    10,
		WidthDivisor:  1,
		InputSize:     nn.DefaultInputSize,
		ValFraction:   0.1,
		Seed:          1,
		Augment:       dataset.DefaultAugment,
		Preprocessing: CentreSquare,
	}
}

// Recipes are the named starting points of `vgg train --recipe`.
var Recipes = map[string]func() Settings{"default": DefaultSettings, "seed": SeedSettings}

// CentreSquare is the Preprocessing name of "no preprocessing": the photo's centre square.
const CentreSquare = "centre square"

// Validate rejects settings that cannot make a run, naming the setting.
func (s Settings) Validate() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if s.Data == "" {
		bad("no data folder")
	}
	budget := s.TimeBudget > 0
	if s.TimeBudget < 0 {
		bad("time budget %s must not be negative", s.TimeBudget)
	}
	if s.Epochs < 1 && !(budget && s.Epochs == 0) {
		bad("epochs %d must be at least 1", s.Epochs)
	}
	if s.MinSteps < 0 {
		bad("least number of steps %d must not be negative", s.MinSteps)
	}
	if s.BatchSize < 1 {
		bad("batch size %d must be at least 1", s.BatchSize)
	}
	switch s.Optimizer {
	case "sgd", "adam", "adamw":
	default:
		bad("optimizer %q is unknown; use sgd, adam or adamw", s.Optimizer)
	}
	if !(s.Momentum >= 0 && s.Momentum < 1) {
		bad("momentum %g must be in [0, 1)", s.Momentum)
	}
	if !(s.WeightDecay >= 0) || math.IsInf(s.WeightDecay, 0) {
		bad("weight decay %g must be zero or positive", s.WeightDecay)
	}
	if s.Schedule == "step" && s.StepEpochs < 1 {
		bad("step schedule period %d epochs must be at least 1", s.StepEpochs)
	}
	if !(s.ValFraction >= 0 && s.ValFraction < 1) {
		bad("validation fraction %g must be in [0, 1)", s.ValFraction)
	}
	if err := s.Augment.Validate(); err != nil {
		bad("%v", err)
	}
	// nn.Config reads a zero input size or width divisor as its default; a setting of zero is
	// a mistake here, not a request for the full-size network.
	inputOK := s.InputSize >= 32 && s.InputSize%32 == 0
	if !inputOK && !(budget && s.InputSize == 0) {
		bad("input size %d must be a positive multiple of 32", s.InputSize)
	}
	widthOK := slices.Contains([]int{1, 2, 4, 8, 16}, s.WidthDivisor)
	if !widthOK && !(budget && s.WidthDivisor == 0) {
		bad("width divisor %d must be 1, 2, 4, 8 or 16", s.WidthDivisor)
	}
	if inputOK && widthOK {
		if _, err := nn.VGGD(nn.Config{Arch: s.Arch, Classes: 2, InputSize: s.InputSize, WidthDivisor: s.WidthDivisor}); err != nil {
			bad("%v", err)
		}
	}
	scheduled := s
	scheduled.Epochs = max(s.Epochs, 1) // a budget's epochs are chosen later
	if err := scheduled.schedule(1).Validate(); err != nil {
		bad("%v", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("train: %s", strings.Join(problems, "; "))
	}
	return nil
}

// optimizer is the nn optimiser these settings describe.
func (s Settings) optimizer() nn.OptimizerConfig {
	return nn.OptimizerConfig{Kind: s.Optimizer, Momentum: float32(s.Momentum), WeightDecay: float32(s.WeightDecay)}
}

// schedule is the learning-rate schedule for a run of batchesPerEpoch steps an epoch.
func (s Settings) schedule(batchesPerEpoch int) nn.Schedule {
	total := s.Epochs * batchesPerEpoch
	return nn.Schedule{
		Kind:        s.Schedule,
		LR:          s.LR,
		TotalSteps:  total,
		StepSize:    s.StepEpochs * batchesPerEpoch,
		Gamma:       0.1,
		WarmupSteps: total / 20,
	}
}

// Options are how a run is carried out, none of which changes its result.
type Options struct {
	// Out is the model file of the kept epoch: the latest whose validation top-1 is within the
	// noise of the highest (see run.keeps). The last epoch's model,
	// its training state, the report and the plot go beside it; see Paths.
	Out string
	// Device is the backend name for kernels.Open: "cpu", or "cuda" in a cuda build.
	Device string
	// Resume continues the run whose last checkpoint is beside Out instead of starting anew.
	Resume bool
	// Workers is the number of goroutines that decode and augment photos (0: one per CPU).
	Workers int
	// Framing frames each decoded photo before it is resized (a face aligner, say); nil takes
	// the centre square. Settings.Preprocessing names it. The photos framed with a note are
	// listed in Paths.Framing, a few on the log.
	Framing Framing
	// FramingID names everything that shapes Framing's output, for FrameCache's keys (see
	// dataset.SourceOptions.FrameID); required when both are set.
	FramingID string
	// FrameCache keeps framed photos on disk, so that another run over the same photos (and
	// the gallery indexed after this one) need not frame them again; nil frames every photo.
	FrameCache *framecache.Cache
	// FramingProgress receives a progress bar while the photos are framed, drawn only when
	// it is a terminal (nil: none): elsewhere the line that follows the framing says all
	// there is.
	FramingProgress io.Writer
	// Log receives what the run does, one line at a time (nil: nowhere).
	Log io.Writer
	// Progress receives a progress bar per epoch when it is a terminal (nil, a file or a pipe:
	// no bar; Log has a line per epoch).
	Progress io.Writer
	// AfterStep, when set, is called after every training step with the number of steps done
	// so far; the run's observers (tests, a UI) hook in here.
	AfterStep func(steps int)
	// AllowChance accepts a run that has not learned (see Verdict): Run then returns no
	// ErrNotLearned, though the log and the report still say so.
	AllowChance bool
	// NoEstimate skips timing a few steps before the first epoch to estimate the run's
	// duration (see estimate); the result is the same either way.
	NoEstimate bool
}

// Paths are the files a run writes, all beside the best model.
type Paths struct {
	Best, Last, LastState, Report, Plot string
	// Framing lists the photos framed with a note ("no face found: ..."), one a line; it is
	// written only when there are some.
	Framing string `json:",omitempty"`
}

// PathsFor derives the run's files from the best model's path: for "run/model.safetensors",
// "run/model.last.safetensors" (and its ".last.train.safetensors" state),
// "run/model.report.json", "run/model.curves.png" and "run/model.framing.txt".
func PathsFor(out string) Paths {
	stem := strings.TrimSuffix(out, ".safetensors")
	last := stem + ".last.safetensors"
	return Paths{
		Best:      out,
		Last:      last,
		LastState: nn.TrainStatePath(last),
		Report:    stem + ".report.json",
		Plot:      stem + ".curves.png",
		Framing:   stem + ".framing.txt",
	}
}
