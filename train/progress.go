package train

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// newBar is the progress bar of one epoch, counting batches. It draws only on a terminal,
// where each redraw replaces the last: in a file or a pipe every redraw would stay (hundreds a
// epoch), so there the log's one line per epoch is all. With a nil writer, or one that is not a
// terminal, it draws nothing, so the loop need not ask whether anyone is watching.
func newBar(w io.Writer, batches int, description string) *progressbar.ProgressBar {
	if !isTerminal(w) {
		return progressbar.NewOptions(batches, progressbar.OptionSetVisibility(false))
	}
	return progressbar.NewOptions(batches,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(description),
		progressbar.OptionSetWidth(24),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		// The epoch's summary line replaces the bar once it is full.
		progressbar.OptionClearOnFinish(),
	)
}

// isTerminal says whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newFramingBar is the progress bar of framing the photos; see NewPhotoBar.
func newFramingBar(w io.Writer, photos int) *progressbar.ProgressBar {
	return NewPhotoBar(w, photos, "framing")
}

// NewPhotoBar is a progress bar counting photos and their rate under description (framing,
// indexing, embedding); like the epochs' bars, it draws only on a terminal, and nothing in a
// file or a pipe, where the line that follows it says what was done.
func NewPhotoBar(w io.Writer, photos int, description string) *progressbar.ProgressBar {
	if !isTerminal(w) {
		return progressbar.NewOptions(photos, progressbar.OptionSetVisibility(false))
	}
	return progressbar.NewOptions(photos,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(description),
		progressbar.OptionSetWidth(24),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("photos"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		// The line saying what was done replaces the bar.
		progressbar.OptionClearOnFinish(),
	)
}

// progressBars draws the run's progress bars: one while the photos are framed (on framing)
// and one per epoch (on epochs), each only on a terminal.
type progressBars struct {
	ignored
	framing, epochs io.Writer
	framingBar      *progressbar.ProgressBar
	epochBar        *progressbar.ProgressBar
	// epoch and of are the epoch shown (from 1) and how many there are.
	epoch, of int
}

func (p *progressBars) framingBegan(photos int) { p.framingBar = newFramingBar(p.framing, photos) }
func (p *progressBars) photoFramed()            { p.framingBar.Add(1) }
func (p *progressBars) framingEnded()           { p.framingBar.Finish() }

func (p *progressBars) epochBegan(epoch, epochs, step, batches int) {
	p.epoch, p.of = epoch+1, epochs
	p.epochBar = newBar(p.epochs, batches, fmt.Sprintf("epoch %d/%d", p.epoch, p.of))
	p.epochBar.Set(step)
}

func (p *progressBars) trained(step int, progress *epochProgress) {
	if progress != nil {
		p.epochBar.Describe(fmt.Sprintf("epoch %d/%d  loss %.3f  acc %5.1f%%  %4.0f img/s", p.epoch, p.of,
			progress.Loss, 100*progress.Accuracy, progress.ImagesPerSecond))
	}
	p.epochBar.Set(step)
}

func (p *progressBars) epochTrained() { p.epochBar.Finish() }
