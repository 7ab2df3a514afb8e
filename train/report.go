package train

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/vision"
)

// Report is what a run did, written as JSON beside the model after every epoch (and when the
// run stops early), so a run that is still going can be watched and a finished one compared.
type Report struct {
	Settings Settings `json:"settings"`
	// Status is "running", "complete", "interrupted" or "diverged".
	Status string `json:"status"`
	// Message explains an early stop.
	Message string `json:"message,omitempty"`
	Device  string `json:"device"`
	// Classes are the identities, in the order of the classifier's outputs.
	Classes       []string `json:"classes"`
	TrainPhotos   int      `json:"train_photos"`
	ValPhotos     int      `json:"val_photos"`
	SkippedPhotos int      `json:"skipped_photos"`
	// FramingRemarks counts the photos framed with a remark, each listed in Files.Framing.
	FramingRemarks int                  `json:"framing_remarks"`
	Normalization  vision.Normalization `json:"normalization"`
	Parameters     int64                `json:"parameters"`
	// FLOPsPerImage counts one forward pass (a multiply-add is two).
	FLOPsPerImage int64          `json:"flops_per_image"`
	Epochs        []EpochMetrics `json:"epochs"`
	// BestEpoch (from 1) is the epoch whose weights are in the model file (Paths.Best): the
	// latest whose validation top-1 is within the noise of the highest (run.keeps); 0 if none
	// yet.
	BestEpoch int `json:"best_epoch"`
	// Seconds is the wall time spent training and validating, over all sessions of a resumed
	// run; data preparation is left out.
	Seconds float64 `json:"seconds"`
	Files   Paths   `json:"files"`
	// Calibration is how far the best model's calibrated probabilities mean what they say on
	// the validation split: the reliability diagram, the expected calibration error and the
	// accuracy of each confidence word; nil without a validation split.
	Calibration *nn.Reliability `json:"calibration,omitempty"`
	// Budget is what a time budget chose (Settings.TimeBudget) and the timings it chose by;
	// nil without one.
	Budget *BudgetPlan `json:"budget,omitempty"`
	// Verdict is the learning guard's judgement of the kept epoch, once the run is complete.
	Verdict *Verdict `json:"verdict,omitempty"`
}

// EpochMetrics are one epoch's results. The validation fields are zero when the run has no
// validation split.
type EpochMetrics struct {
	Epoch         int     `json:"epoch"`
	TrainLoss     float64 `json:"train_loss"`
	TrainAccuracy float64 `json:"train_accuracy"`
	ValLoss       float64 `json:"val_loss"`
	ValTop1       float64 `json:"val_top1"`
	ValTop5       float64 `json:"val_top5"`
	// LR is the learning rate of the epoch's last step.
	LR float64 `json:"lr"`
	// Temperature is the one fitted on the validation split (nn.FitTemperature) and saved
	// with the epoch's weights; 0 without a validation split.
	Temperature float64 `json:"temperature,omitempty"`
	// Seconds is the epoch's wall time, training and validation; ImagesPerSecond counts the
	// training steps only.
	Seconds         float64 `json:"seconds"`
	ImagesPerSecond float64 `json:"images_per_second"`
}

// reliabilityBins is how many bins of the top probability the report's reliability diagram has.
const reliabilityBins = 10

// WriteJSON writes v as indented JSON to path atomically.
func writeJSON(path string, v any) error {
	return vision.WriteAtomic(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

// ReadReport reads the report a run wrote.
func ReadReport(path string) (*Report, error) {
	data, err := safefile.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: not a training report: %v", path, err)
	}
	return &r, nil
}
