package nn

import (
	"math"
	"slices"
	"testing"

	"github.com/vgglab/vgg/tensor"
)

// Features and Embedding are what the documentation says: the last conv ReLU's maps, and their
// max pool flattened or the classifier's input; BackwardToFeatures gives the loss gradient with respect to the maps
// (checked against float64 differences, as the end-to-end gradient check does).
func TestFeaturesEmbeddingAndTheirGradient(t *testing.T) {
	b := openCPU(t)
	cfg := Config{Classes: 3, InputSize: 64, WidthDivisor: 16}
	m, err := New(b, cfg, 4)
	if err != nil {
		t.Fatal(err)
	}
	scaleForGradcheck(t, b, m, 6)
	const n = 2
	x, labels := randomBatch(t, b, cfg, n, 9)
	m.SetTraining(false)
	logits, err := m.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Features().Shape(); !got.Equal(tensor.Shape{n, 32, 4, 4}) {
		t.Errorf("features have shape %v, want [2 32 4 4]", got)
	}
	// A new model's embedding is the last max pool's output, flattened: the features pooled.
	if got := m.Embedding().Shape(); m.EmbeddingLayer != EmbeddingFeatures || !got.Equal(tensor.Shape{n, 32 * 2 * 2}) {
		t.Fatalf("embedding at %q has shape %v, want the features' [2 128]", m.EmbeddingLayer, got)
	}
	maps, pooled := download(t, b, m.Features()), download(t, b, m.Embedding())
	for i := range pooled { // plane p, output (y, x) of 2x2: the max of its window of the 4x4 maps
		p, y, x := i/4, i%4/2, i%2
		window := []float32{maps[p*16+2*y*4+2*x], maps[p*16+2*y*4+2*x+1], maps[p*16+(2*y+1)*4+2*x], maps[p*16+(2*y+1)*4+2*x+1]}
		if want := slices.Max(window); pooled[i] != want {
			t.Fatalf("embedding[%d] = %g, want the max of its window, %g", i, pooled[i], want)
		}
	}

	// At fc.4 (older models), the logits in evaluation are fc.6 applied to the embedding.
	m.EmbeddingLayer = EmbeddingFC4
	if got := m.Embedding().Shape(); !got.Equal(tensor.Shape{n, 128}) {
		t.Fatalf("fc.4 embedding has shape %v, want [2 128]", got)
	}
	emb, lg := download(t, b, m.Embedding()), download(t, b, logits)
	fc6 := m.FC.Layers[len(m.FC.Layers)-1].(*Linear)
	w, bias := download(t, b, fc6.Weight.Value), download(t, b, fc6.Bias.Value)
	want := linear64(toFloat64(emb), toFloat64(w), toFloat64(bias), n, fc6.In, fc6.Out)
	for i := range want {
		if math.Abs(want[i]-float64(lg[i])) > 1e-4*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("logit %d is %g, fc.6(embedding) gives %g", i, lg[i], want[i])
		}
	}

	xent := NewSoftmaxCrossEntropy(m.Ctx)
	if err := xent.Forward(logits, labels); err != nil {
		t.Fatal(err)
	}
	dlogits, err := xent.Backward()
	if err != nil {
		t.Fatal(err)
	}
	dfeat, err := m.BackwardToFeatures(dlogits)
	if err != nil {
		t.Fatal(err)
	}
	analytic := download(t, b, dfeat)
	ref, err := newRef64(b, m)
	if err != nil {
		t.Fatal(err)
	}
	hostLabels := tensor.New(tensor.Int32, n)
	if err := b.Download(hostLabels, labels); err != nil {
		t.Fatal(err)
	}
	feat := toFloat64(download(t, b, m.Features()))
	lastPool := len(m.CNN.Layers) - 1 // the layer after the features
	var scale float64
	for _, g := range analytic {
		scale = math.Max(scale, math.Abs(float64(g)))
	}
	// Only positive features: a zero one is a ReLU'd value, usually in a 2x2 window of zeros,
	// where max is not differentiable (the backward routes to the first, as PyTorch does, while
	// a central difference sees half of that).
	positive := make([]float32, len(analytic))
	for i, v := range feat {
		if v > 0 {
			positive[i] = analytic[i]
		}
	}
	const h = 1e-6
	checked := 0
	for _, i := range gradcheckSample(positive, 8, 0)[:8] {
		if feat[i] <= 0 {
			continue
		}
		checked++
		orig := feat[i]
		feat[i] = orig + h
		plus := ref.lossFrom(lastPool, feat, m.Features().Shape(), hostLabels.Int32s())
		feat[i] = orig - h
		minus := ref.lossFrom(lastPool, feat, m.Features().Shape(), hostLabels.Int32s())
		feat[i] = orig
		numeric := (plus - minus) / (2 * h)
		if math.Abs(numeric-float64(analytic[i])) > 1e-3*math.Abs(numeric)+1e-4*scale {
			t.Errorf("feature gradient [%d]: analytic %.7g, numeric %.7g", i, analytic[i], numeric)
		}
	}
	if checked < 4 {
		t.Errorf("only %d positive features with a gradient to check", checked)
	}
}
