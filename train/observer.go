package train

import (
	"fmt"
	"io"
	"strconv"
)

// observer follows a training run. The run's three outputs each implement it: the progress
// bars (progressBars), the log lines (logLines) and the report's files (reportFiles); the run
// tells them all the same events through outputs, and each acts on those it shows.
type observer interface {
	// note is a line for the reader: what the run does, a warning, a verdict.
	note(line string)
	// framingBegan says that photos photos are about to be framed; photoFramed that one more
	// is; framingEnded that the framing is over (done, or stopped).
	framingBegan(photos int)
	photoFramed()
	framingEnded()
	// epochBegan says that epoch (counted from 0) of epochs begins its batches batches, at
	// batch step (above 0 for a resumed epoch).
	epochBegan(epoch, epochs, step, batches int)
	// trained says that step batches of the epoch are done; progress, when not nil, is their
	// mean loss and accuracy and the training rate so far.
	trained(step int, progress *epochProgress)
	// epochTrained says that the epoch's training batches are over (done, or stopped).
	epochTrained()
	// epochEnded gives an epoch's metrics once it is trained and validated (validated says
	// whether there is a validation split); best when it is kept (run.keeps): its weights are
	// now in the model file.
	epochEnded(m EpochMetrics, epochs int, validated, best bool)
	// reportChanged says the report has changed (an epoch, a verdict, a stop); base is what
	// guessing scores, for its plot.
	reportChanged(r *Report, base baseline) error
}

// epochProgress is where an epoch's training stands, for the progress bar.
type epochProgress struct {
	Loss, Accuracy, ImagesPerSecond float64
}

// outputs tells every observer each event, in order; reportChanged returns the first error.
type outputs []observer

func (outs outputs) note(line string) {
	for _, o := range outs {
		o.note(line)
	}
}

func (outs outputs) framingBegan(photos int) {
	for _, o := range outs {
		o.framingBegan(photos)
	}
}

func (outs outputs) photoFramed() {
	for _, o := range outs {
		o.photoFramed()
	}
}

func (outs outputs) framingEnded() {
	for _, o := range outs {
		o.framingEnded()
	}
}

func (outs outputs) epochBegan(epoch, epochs, step, batches int) {
	for _, o := range outs {
		o.epochBegan(epoch, epochs, step, batches)
	}
}

func (outs outputs) trained(step int, progress *epochProgress) {
	for _, o := range outs {
		o.trained(step, progress)
	}
}

func (outs outputs) epochTrained() {
	for _, o := range outs {
		o.epochTrained()
	}
}

func (outs outputs) epochEnded(m EpochMetrics, epochs int, validated, best bool) {
	for _, o := range outs {
		o.epochEnded(m, epochs, validated, best)
	}
}

func (outs outputs) reportChanged(r *Report, base baseline) error {
	for _, o := range outs {
		if err := o.reportChanged(r, base); err != nil {
			return err
		}
	}
	return nil
}

// ignored implements every event as nothing, for an observer to embed and override the
// events it shows.
type ignored struct{}

func (ignored) note(string)                              {}
func (ignored) framingBegan(int)                         {}
func (ignored) photoFramed()                             {}
func (ignored) framingEnded()                            {}
func (ignored) epochBegan(int, int, int, int)            {}
func (ignored) trained(int, *epochProgress)              {}
func (ignored) epochTrained()                            {}
func (ignored) epochEnded(EpochMetrics, int, bool, bool) {}
func (ignored) reportChanged(*Report, baseline) error    { return nil }

// logLines writes the run's log: each note, and one line per epoch.
type logLines struct {
	ignored
	w io.Writer
}

func (l logLines) note(line string) { fmt.Fprintf(l.w, "%s\n", line) }

func (l logLines) epochEnded(m EpochMetrics, epochs int, validated, best bool) {
	line := fmt.Sprintf("epoch %*d/%d  train loss %.3f acc %5.1f%%", len(strconv.Itoa(epochs)), m.Epoch, epochs,
		m.TrainLoss, 100*m.TrainAccuracy)
	if validated {
		line += fmt.Sprintf("  val loss %.3f top-1 %5.1f%% top-5 %5.1f%%", m.ValLoss, 100*m.ValTop1, 100*m.ValTop5)
	}
	line += fmt.Sprintf("  lr %.2g  %.0f img/s  %.1f s", m.LR, m.ImagesPerSecond, m.Seconds)
	if best {
		line += "  best"
	}
	l.note(line)
}

// reportFiles writes the report: its JSON and the plot of the curves so far.
type reportFiles struct {
	ignored
	paths Paths
}

func (f reportFiles) reportChanged(r *Report, base baseline) error {
	if err := writeJSON(f.paths.Report, r); err != nil {
		return err
	}
	if len(r.Epochs) == 0 {
		return nil
	}
	return writePlot(f.paths.Plot, r.Epochs, r.ValPhotos > 0, base, r.Verdict, r.Calibration)
}
