package train

import (
	"context"
	"fmt"
	"image"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/tensor"
	"github.com/vgglab/vgg/vision"
)

// Predictor answers "whom does this photo look like" with a trained model.
type Predictor struct {
	Model *nn.Model
	Info  nn.ModelInfo
	b     kernels.Backend
	src   *dataset.Source
	// ownBackend is set when the predictor opened its backend and must close it.
	ownBackend bool
	inputs     map[int]*deviceBatch
}

// Match is one candidate identity for a photo.
type Match struct {
	Identity    string  `json:"identity"`
	Probability float64 `json:"probability"`
}

// Prediction is the answer for one photo: its best matches, most likely first, or the error
// that kept it from being matched (a file that is not an image, say).
type Prediction struct {
	Path    string  `json:"photo"`
	Matches []Match `json:"matches,omitempty"`
	Err     error   `json:"-"`
}

// OpenPredictor opens the device and loads the model file at path. preprocess frames each
// decoded photo as training did (nil: the centre square).
func OpenPredictor(device, path string, preprocess func(image.Image) (image.Image, error)) (*Predictor, error) {
	b, err := kernels.Open(device)
	if err != nil {
		return nil, err
	}
	p, err := NewPredictor(b, path, preprocess)
	if err != nil {
		b.Close()
		return nil, err
	}
	p.ownBackend = true
	return p, nil
}

// NewPredictor loads the model file at path onto backend b.
func NewPredictor(b kernels.Backend, path string, preprocess func(image.Image) (image.Image, error)) (*Predictor, error) {
	m, info, err := nn.LoadModel(b, path)
	if err != nil {
		return nil, err
	}
	return &Predictor{
		Model: m, Info: info, b: b, inputs: map[int]*deviceBatch{},
		src: dataset.NewSource(dataset.SourceOptions{Size: m.Config.InputSize, Preprocess: preprocess}),
	}, nil
}

// Close releases the model (and the backend when the predictor opened it).
func (p *Predictor) Close() {
	for _, db := range p.inputs {
		db.x.Release()
		db.labels.Release()
	}
	p.Model.Release()
	if p.ownBackend {
		p.b.Close()
	}
}

// predictBatch is how many photos go through the network at once.
const predictBatch = 32

// Predict matches each photo and returns one Prediction per path, in order, with at most topK
// matches each. A photo that cannot be read gets its error in its Prediction and the others
// go on; the returned error is for what stops everything (the device, a cancelled context).
func (p *Predictor) Predict(ctx context.Context, paths []string, topK int) ([]Prediction, error) {
	size := p.Model.Config.InputSize
	plane := 3 * size * size
	norm := vision.Normalization{Mean: p.Info.Mean, Std: p.Info.Std}
	classes := len(p.Info.ClassNames)
	preds := make([]Prediction, len(paths))
	for start := 0; start < len(paths); start += predictBatch {
		if err := ctx.Err(); err != nil {
			return preds, err
		}
		// Load this stretch of photos; the readable ones form the batch.
		var rows []int
		var pixels []float32
		for i := start; i < min(start+predictBatch, len(paths)); i++ {
			preds[i].Path = paths[i]
			img, err := p.src.Image(paths[i])
			if err != nil {
				preds[i].Err = err
				continue
			}
			pixels = append(pixels, make([]float32, plane)...)
			vision.ToCHW(img, norm, pixels[len(pixels)-plane:])
			rows = append(rows, i)
		}
		if len(rows) == 0 {
			continue
		}
		x, err := tensor.FromFloat32(pixels, len(rows), 3, size, size)
		if err != nil {
			return preds, err
		}
		logits, err := forward(p.b, p.Model, p.inputs, x)
		if err != nil {
			return preds, fmt.Errorf("matching: %w", err)
		}
		for k, i := range rows {
			probs := softmax(logits[k*classes : (k+1)*classes])
			for _, class := range ranked(probs)[:min(topK, classes)] {
				preds[i].Matches = append(preds[i].Matches, Match{Identity: p.Info.ClassNames[class], Probability: probs[class]})
			}
		}
	}
	return preds, nil
}
