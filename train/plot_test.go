package train

import (
	"bytes"
	"image/png"
	"path/filepath"
	"testing"

	"github.com/vgglab/vgg/nn"
)

// With the best model's calibration the curves get a third panel, its reliability diagram.
func TestPlotDrawsReliabilityDiagram(t *testing.T) {
	epochs := []EpochMetrics{{Epoch: 1, TrainLoss: 1, ValLoss: 1.1, TrainAccuracy: 0.5, ValTop1: 0.4}, {Epoch: 2, TrainLoss: 0.5, ValLoss: 0.9, TrainAccuracy: 0.8, ValTop1: 0.6}}
	logits := [][]float32{{3, 0, 0}, {2, 1, 0}, {0, 4, 0}, {1, 1, 0.5}}
	var probs [][]float64
	for _, row := range logits {
		probs = append(probs, nn.SoftmaxAt(row, 1.5))
	}
	calibration := nn.MeasureReliability(probs, []int{0, 1, 1, 2}, 10, nn.Calibration{Temperature: 1.5, Photos: 4})
	base := baseline{chance: 1.0 / 3, majority: 1.0 / 3}
	dir := t.TempDir()
	width := func(name string, c *nn.Reliability) int {
		path := filepath.Join(dir, name)
		if err := writePlot(path, epochs, true, base, nil, c); err != nil {
			t.Fatal(err)
		}
		config, err := png.DecodeConfig(bytes.NewReader(readFile(t, path)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return config.Width
	}
	two, three := width("curves.png", nil), width("reliability.png", &calibration)
	if 2*three != 3*two {
		t.Errorf("the plot is %d pixels wide with a reliability diagram, %d without: want three panels for two", three, two)
	}
}
