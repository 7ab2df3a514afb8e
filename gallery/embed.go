package gallery

import (
	"fmt"
	"image"

	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/tensor"
	"github.com/vgglab/vgg/vision"
)

// Embedder runs face pictures through a model in evaluation mode (no dropout) and returns, for
// each, its embedding and the classifier's probabilities.
type Embedder struct {
	Model *nn.Model
	// Norm is the input normalisation the model was trained with (from its checkpoint).
	Norm vision.Normalization
	// BatchSize is how many pictures go through the network at once; 0 means 32.
	BatchSize int
	// Temperature divides the logits before the softmax (the model's nn.ModelInfo.Temperature,
	// 0 for none).
	Temperature float64
}

// Output is what the network says about one picture.
type Output struct {
	// Embedding is the fc.4 activation, raw (see Gallery.Direction).
	Embedding []float32
	// Probabilities is the softmax of the logits, one per class of the model.
	Probabilities []float32
}

// Run embeds pictures of the model's input size (InputSize x InputSize, as dataset.Source
// makes them).
func (e *Embedder) Run(pictures []*image.RGBA) ([]Output, error) {
	m := e.Model
	b := m.Ctx.Backend
	size := m.Config.InputSize
	batch := e.BatchSize
	if batch <= 0 {
		batch = 32
	}
	m.SetTraining(false)
	var out []Output
	for start := 0; start < len(pictures); start += batch {
		group := pictures[start:min(start+batch, len(pictures))]
		host := tensor.Zeros(m.InputShape(len(group))...)
		plane := 3 * size * size
		for i, pic := range group {
			if r := pic.Bounds(); r.Dx() != size || r.Dy() != size {
				return nil, fmt.Errorf("embed: picture %d is %dx%d, the model takes %dx%d", start+i, r.Dx(), r.Dy(), size, size)
			}
			vision.ToCHW(pic, e.Norm, host.Float32s()[i*plane:(i+1)*plane])
		}
		x, err := b.Alloc(tensor.Float32, host.Shape()...)
		if err != nil {
			return nil, err
		}
		results, err := e.forward(x, host)
		x.Release()
		if err != nil {
			return nil, err
		}
		out = append(out, results...)
	}
	return out, nil
}

// forward uploads one host batch into x, runs the model and downloads the embeddings (raw) and
// probabilities.
func (e *Embedder) forward(x, host *tensor.Tensor) ([]Output, error) {
	m := e.Model
	b := m.Ctx.Backend
	if err := b.Upload(x, host); err != nil {
		return nil, err
	}
	logits, err := m.Forward(x)
	if err != nil {
		return nil, err
	}
	hostLogits := tensor.Zeros(logits.Shape()...)
	if err := b.Download(hostLogits, logits); err != nil {
		return nil, err
	}
	emb := m.Embedding()
	hostEmb := tensor.Zeros(emb.Shape()...)
	if err := b.Download(hostEmb, emb); err != nil {
		return nil, err
	}
	n, classes, dim := x.Dim(0), logits.Dim(1), emb.Dim(1)
	out := make([]Output, n)
	for i := range out {
		out[i] = OutputOf(hostLogits.Float32s()[i*classes:(i+1)*classes], hostEmb.Float32s()[i*dim:(i+1)*dim], e.Temperature)
	}
	return out, nil
}

// OutputOf is what the network says of one face, from the logits and the embedding of its
// forward pass (the Embedder's, or Grad-CAM's when a heatmap is drawn too), its probabilities
// taken at the model's temperature (0: none).
func OutputOf(logits, embedding []float32, temperature float64) Output {
	probs := nn.SoftmaxAt(logits, temperature)
	out := Output{Embedding: embedding, Probabilities: make([]float32, len(probs))}
	for i, p := range probs {
		out.Probabilities[i] = float32(p)
	}
	return out
}

// EmbeddingWidth is the length of the model's embedding: the width of fc.3, whose output fc.4's
// ReLU passes on (2048 for the full network, 2048/WidthDivisor for the narrow ones).
func EmbeddingWidth(m *nn.Model) int {
	for _, p := range m.Params() {
		if p.Name == "fc.3.bias" {
			return p.Shape[0]
		}
	}
	return 0 // not a VGG-D: VGGD always names fc.3
}
