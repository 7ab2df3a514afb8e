//go:build cuda

package explain

// With -tags cuda, Grad-CAM, the feature-map views and the embedding run on the GPU as well,
// and must agree with the CPU: they only use backend ops, but they read the model's inner
// buffers (features, embedding) and drive a partial backward pass, which the training tests
// do not.

import (
	"math"
	"testing"

	"github.com/vgglab/vgg/kernels"
	_ "github.com/vgglab/vgg/kernels/cuda"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/tensor"
)

func TestGradCAMOnCUDAMatchesCPU(t *testing.T) {
	gpu, err := kernels.Open("cuda")
	if err != nil {
		t.Skipf("no GPU: %v", err)
	}
	t.Cleanup(func() { gpu.Close() })
	cpu := openCPU(t)
	cfg := nn.Config{Classes: 5, InputSize: 64, WidthDivisor: 8}
	onCPU, err := nn.New(cpu, cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	onGPU, err := nn.New(gpu, cfg, 3) // the same seed draws the same weights on every backend
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.Zeros(1, 3, 64, 64)
	x.FillNormal(tensor.NewRand(4), 0, 1)
	for class := range cfg.Classes {
		want, err := GradCAM(onCPU, x, class)
		if err != nil {
			t.Fatal(err)
		}
		got, err := GradCAM(onGPU, x, class)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(want.Values, got.Values); d > 1e-3 || math.Abs(float64(want.Logit-got.Logit)) > 1e-3*math.Max(1, math.Abs(float64(want.Logit))) {
			t.Errorf("class %d: CAM differs by %g, logit %v vs %v", class, d, got.Logit, want.Logit)
		}
	}
	embCPU := download(t, onCPU, onCPU.Embedding())
	embGPU := download(t, onGPU, onGPU.Embedding())
	if d := maxDiff(embCPU, embGPU); d > 1e-3 {
		t.Errorf("embedding differs by %g", d)
	}
	wantBlocks, err := Activations(onCPU, x)
	if err != nil {
		t.Fatal(err)
	}
	gotBlocks, err := Activations(onGPU, x)
	if err != nil {
		t.Fatal(err)
	}
	for i := range wantBlocks {
		if d := maxDiff(wantBlocks[i].Values, gotBlocks[i].Values); d > 1e-3 {
			t.Errorf("block %d differs by %g", i+1, d)
		}
	}
	t.Logf("CPU and %s agree on Grad-CAM, embedding and feature maps", gpu.Describe())
}

// download copies a model's backend tensor to the host.
func download(t *testing.T, m *nn.Model, d *tensor.Tensor) []float32 {
	t.Helper()
	host := tensor.Zeros(d.Shape()...)
	if err := m.Ctx.Backend.Download(host, d); err != nil {
		t.Fatal(err)
	}
	return host.Float32s()
}

// maxDiff is the largest |a-b| relative to max(1, |a|).
func maxDiff(a, b []float32) float64 {
	var worst float64
	for i := range a {
		d := math.Abs(float64(a[i]-b[i])) / math.Max(1, math.Abs(float64(a[i])))
		worst = math.Max(worst, d)
	}
	return worst
}
