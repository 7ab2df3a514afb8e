package train

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// newBar is the progress bar of one epoch, counting batches; with a nil writer it draws
// nothing, so the loop need not ask whether anyone is watching.
func newBar(w io.Writer, batches int, description string) *progressbar.ProgressBar {
	if w == nil {
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

// newFramingBar is the progress bar of framing the photos, counting photos and their rate;
// with a nil writer it draws nothing.
func newFramingBar(w io.Writer, photos int) *progressbar.ProgressBar {
	if w == nil {
		return progressbar.NewOptions(photos, progressbar.OptionSetVisibility(false))
	}
	return progressbar.NewOptions(photos,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("framing"),
		progressbar.OptionSetWidth(24),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("photos"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		// The line saying how the photos were framed replaces the bar.
		progressbar.OptionClearOnFinish(),
	)
}
