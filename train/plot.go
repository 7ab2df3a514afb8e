package train

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/vision"
)

// The curves are the first thing to look at after a run: a training loss that falls while the
// validation loss rises is overfitting; two flat lines, a learning rate too low or too high.

// curve is one line of a panel.
type curve struct {
	name   string
	colour color.RGBA
	value  func(EpochMetrics) float64
}

var (
	blue   = color.RGBA{31, 119, 180, 255}
	orange = color.RGBA{255, 127, 14, 255}
	green  = color.RGBA{44, 160, 44, 255}
	grey   = color.RGBA{127, 127, 127, 255}
	red    = color.RGBA{214, 39, 40, 255}
	// lightOrange fills the reliability bars, outlined in orange.
	lightOrange = color.RGBA{255, 187, 120, 255}
)

// writePlot draws two panels side by side, loss and accuracy per epoch, into a PNG at path.
// The accuracy panel shows what guessing scores (base) as dashed lines, and its title says
// "not learned" when the verdict (nil while the run goes on) says so.
//
// With a calibration (the best model's, on the validation split) a third panel is its
// reliability diagram: the accuracy of the answers in each band of top probability, with their
// counts, against the diagonal a calibrated model follows.
func writePlot(path string, epochs []EpochMetrics, withVal bool, base baseline, verdict *Verdict, calibration *nn.Reliability) error {
	lossCurves := []curve{{"train", blue, func(e EpochMetrics) float64 { return e.TrainLoss }}}
	accCurves := []curve{{"train", blue, func(e EpochMetrics) float64 { return 100 * e.TrainAccuracy }}}
	if withVal {
		lossCurves = append(lossCurves, curve{"validation", orange, func(e EpochMetrics) float64 { return e.ValLoss }})
		accCurves = append(accCurves,
			curve{"validation top-1", orange, func(e EpochMetrics) float64 { return 100 * e.ValTop1 }},
			curve{"validation top-5", green, func(e EpochMetrics) float64 { return 100 * e.ValTop5 }})
	}
	lossPlot, err := panel("Loss (cross-entropy)", "loss", epochs, lossCurves)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	accPlot, err := panel("Accuracy", "%", epochs, accCurves)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	addLevel(lossPlot, fmt.Sprintf("ln %.0f: learnt nothing", 1/base.chance), -math.Log(base.chance), grey)
	accPlot.Y.Min, accPlot.Y.Max = 0, 100
	addLevel(accPlot, fmt.Sprintf("chance (%.1f%%)", 100*base.chance), 100*base.chance, grey)
	if base.majority > base.chance {
		addLevel(accPlot, fmt.Sprintf("largest identity (%.1f%%)", 100*base.majority), 100*base.majority, red)
	}
	if verdict != nil && !verdict.Learned {
		accPlot.Title.Text = "Accuracy: NOT LEARNED, no better than guessing"
		accPlot.Title.TextStyle.Color = red
	}
	// Losses fall from the top left and accuracies rise from the bottom left, so the free
	// corner is the top right for one and the top left for the other.
	accPlot.Legend.Left = true

	plots := [][]*plot.Plot{{lossPlot, accPlot}}
	if calibration != nil && calibration.Photos > 0 {
		reliability, err := reliabilityPanel(calibration)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		plots[0] = append(plots[0], reliability)
	}
	canvas := vgimg.New(5*vg.Length(len(plots[0]))*vg.Inch, 4*vg.Inch)
	tiles := draw.Tiles{Rows: 1, Cols: len(plots[0]), PadX: vg.Centimeter, PadTop: vg.Millimeter * 3,
		PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 3}
	for i, row := range plot.Align(plots, tiles, draw.New(canvas)) {
		for j, c := range row {
			plots[i][j].Draw(c)
		}
	}
	var encoded bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: canvas}).WriteTo(&encoded); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return vision.WritePNGBytes(path, encoded.Bytes())
}

// panel is one plot of the given curves against the epoch number.
func panel(title, yLabel string, epochs []EpochMetrics, curves []curve) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Padding = vg.Millimeter
	for _, c := range curves {
		xys := make(plotter.XYs, len(epochs))
		for i, e := range epochs {
			xys[i] = plotter.XY{X: float64(e.Epoch), Y: c.value(e)}
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		line.Color, points.Color = c.colour, c.colour
		p.Add(line, points)
		p.Legend.Add(c.name, line, points)
	}
	return p, nil
}

// addLevel draws a dashed horizontal line at y across the panel, with a legend entry.
func addLevel(p *plot.Plot, name string, y float64, colour color.RGBA) {
	f := plotter.NewFunction(func(float64) float64 { return y })
	f.Color = colour
	f.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(f)
	p.Legend.Add(name, f)
}

// reliabilityPanel draws the reliability diagram of c: a bar per non-empty bin of top
// probability, as high as the share of its answers that were right and labelled with their
// count, the diagonal a calibrated model's bars reach, and the ECE in the title.
func reliabilityPanel(c *nn.Reliability) (*plot.Plot, error) {
	p := plot.New()
	// No legend: bars can rise anywhere and a legend would hide some; the axis says what the
	// bars and their numbers are, the title what the dashed diagonal is.
	p.Title.Text = fmt.Sprintf("Reliability (validation, T %.2f): ECE %.1f%%, dashed: calibrated", c.Calibration.Temperature, 100*c.ECE)
	p.X.Label.Text = "top probability (%)"
	p.Y.Label.Text = "answers right (%), count above"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 100, 0, 110 // room for the counts over bars at 100%
	p.Add(plotter.NewGrid())
	bars := &plotter.Histogram{FillColor: lightOrange, LineStyle: plotter.DefaultLineStyle, Width: 100 / float64(len(c.Bins))}
	bars.LineStyle.Color = orange
	var counts plotter.XYLabels
	for _, b := range c.Bins {
		if b.Count == 0 {
			continue
		}
		right := 100 * b.Accuracy()
		bars.Bins = append(bars.Bins, plotter.HistogramBin{Min: 100 * b.Low, Max: 100 * b.High, Weight: right})
		counts.XYs = append(counts.XYs, plotter.XY{X: 100 * b.Low, Y: right})
		counts.Labels = append(counts.Labels, fmt.Sprintf(" %d", b.Count))
	}
	if len(bars.Bins) > 0 {
		p.Add(bars)
		labels, err := plotter.NewLabels(counts)
		if err != nil {
			return nil, err
		}
		p.Add(labels)
	}
	diagonal := plotter.NewFunction(func(x float64) float64 { return x })
	diagonal.Color = grey
	diagonal.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(diagonal)
	return p, nil
}
